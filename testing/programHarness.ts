// Test code, not part of the program: evaluates index.ts under Pulumi's mocks with a stack file's
// config and records every resource the program registers, in the order the engine would see it.
// `apply` lets the e2e test do each resource for real instead of echoing its inputs.
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";

export interface ResourceRecord {
  /** Order in which the engine was asked to create it. */
  seq: number;
  type: string;
  name: string;
  custom: boolean;
  inputs: Record<string, any>;
  /** `urn::id` of the explicit provider, for custom resources that have one. */
  provider?: string;
  id: string;
  state: Record<string, any>;
  /** Order in which its creation finished. */
  doneSeq: number;
}

export interface Applied {
  id: string;
  state: Record<string, any>;
}

export interface EvaluateOptions {
  /** A `Pulumi.<stack>.yaml`. */
  stackFile: string;
  /** The program's working folder (where relative key paths resolve). */
  cwd: string;
  /** Extra or overriding config, full keys (`macvlan-overlay:sshPrivateKey`) → text; null removes a key. */
  config?: Record<string, string | null>;
  secretKeys?: string[];
  /** Does the resource; default echoes inputs plus a few computed outputs. */
  apply?: (args: pulumi.runtime.MockResourceArgs, earlier: ResourceRecord[]) => Promise<Applied>;
}

export interface Evaluation {
  resources: ResourceRecord[];
  /** The program's error, if it threw (e.g. invalid config). */
  error?: string;
}

const DIST_ROOT = path.resolve(__dirname, "..");

/** How Pulumi's mocks hand over a secret input: `{ [SECRET_SIG]: SECRET_VALUE_SIG, value }`. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export const SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretWrapper(value: unknown): value is { value: unknown } {
  return value !== null && typeof value === "object" && (value as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE_SIG;
}

/** A provider's list inputs may arrive JSON-encoded. */
export function listInput(value: unknown): string[] {
  return (typeof value === "string" ? JSON.parse(value) : value) as string[];
}

/** Reads a stack file's `config:` into Pulumi's env form: full key → text (JSON for non-strings). */
export function stackFileConfig(stackFile: string): Record<string, string> {
  const doc = YAML.parse(fs.readFileSync(stackFile, "utf8")) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return config;
}

export function defaultApply(args: pulumi.runtime.MockResourceArgs): Applied {
  const state: Record<string, any> = { ...args.inputs };
  const digest = crypto.createHash("sha256").update(`${args.type}/${args.name}`).digest("hex");
  switch (args.type) {
    case "docker:index/remoteImage:RemoteImage":
      state.imageId = `sha256:${digest}`;
      break;
    case "random:index/randomId:RandomId":
      state.hex = digest.slice(0, 2 * Number(args.inputs.byteLength));
      break;
    case "command:remote:Command":
      state.stdout = "";
      state.stderr = "";
      break;
  }
  return { id: `${args.name}-id`, state };
}

export async function evaluateProgram(options: EvaluateOptions): Promise<Evaluation> {
  const resources: ResourceRecord[] = [];
  const failures: string[] = [];
  let started = 0;
  let finished = 0;
  const apply = options.apply ?? (async (args) => defaultApply(args));

  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        const seq = started++;
        let applied: Applied;
        try {
          applied = await apply(args, resources);
        } catch (error) {
          failures.push(`${args.type} ${args.name}: ${(error as Error).message}`);
          finished++;
          throw error;
        }
        resources.push({
          seq,
          type: args.type,
          name: args.name,
          custom: args.custom ?? true,
          inputs: args.inputs,
          provider: args.provider,
          id: applied.id,
          state: applied.state,
          doneSeq: finished++,
        });
        return applied;
      },
      call: (args) => {
        throw new Error(`the program made an unexpected call: ${args.token}`);
      },
    },
    "macvlan-overlay",
    path.basename(options.stackFile).replace(/^Pulumi\.|\.yaml$/g, ""),
    false,
  );
  const config: Record<string, string> = stackFileConfig(options.stackFile);
  for (const [key, value] of Object.entries(options.config ?? {})) {
    if (value === null) {
      delete config[key];
    } else {
      config[key] = value;
    }
  }
  pulumi.runtime.setAllConfig(config, options.secretKeys ?? []);

  const previousCwd = process.cwd();
  process.chdir(options.cwd);
  try {
    require(path.join(DIST_ROOT, "index.js"));
  } catch (error) {
    return { resources, error: (error as Error).message };
  } finally {
    process.chdir(previousCwd);
  }
  await settled(() => started === finished);
  return failures.length > 0 ? { resources, error: failures.join("\n") } : { resources };
}

/** Waits until registrations stop arriving: the mocks give no other end-of-program signal. */
async function settled(idle: () => boolean, quietMs = 300): Promise<void> {
  let quietSince = Date.now();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (!idle()) {
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) {
      return;
    }
  }
}
