// Test code, not part of the program: evaluates index.ts under Pulumi's mocks with a stack file's
// config and records every resource the program registers, in the order the engine would see it.
// `apply` lets the e2e test do each resource for real instead of echoing its inputs. Each record
// also carries what the engine itself would read from the registration: URN, parent, recorded
// dependencies (all, and per input property), aliases and delete-before-replace.
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
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
  /** What the registration request told the engine (undefined only for records made elsewhere). */
  registration?: Registration;
}

/** The engine's view of one registration, as the mock monitor received it. */
export interface Registration {
  urn: string;
  /** The parent's URN, "" for none. */
  parent: string;
  /** URNs of every resource this one recorded a dependency on. */
  dependencies: string[];
  /** Per input property, the URNs its value came from. */
  propertyDependencies: Record<string, string[]>;
  /** The URNs the engine would look for in the old state under this resource (its aliases, and those its parent's give it). */
  aliases: string[];
  /** The aliases the registration itself carried, without those inherited from its parent. */
  ownAliases: string[];
  deleteBeforeReplace: boolean;
  /** Input properties whose changes the engine ignores. */
  ignoreChanges: string[];
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
  apply?: (args: pulumi.runtime.MockResourceArgs, earlier: ResourceRecord[], registration?: Registration) => Promise<Applied>;
  /** The compiled program folder holding index.js; default this project's dist/. */
  programDir?: string;
  /** A compiled module to run instead of the program's index.js (a test program). */
  program?: string;
  /**
   * The deployed state, by URN: a registration that takes one over (by URN or alias) gets its id and
   * computed outputs back, as the engine keeps them for a resource it does not replace.
   */
  previous?: Record<string, { id: string; outputs: Record<string, any> }>;
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

/**
 * Reads a stack file's `config:` into Pulumi's env form: full key → text (JSON for non-strings); a
 * key without a namespace is the project's, as the Pulumi CLI reads it.
 */
export function stackFileConfig(stackFile: string): Record<string, string> {
  const doc = YAML.parse(fs.readFileSync(stackFile, "utf8")) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    config[key.includes(":") ? key : `macvlan-overlay:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
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

/** `urn:pulumi:<stack>::<project>::<parent types$>type::name`, as the engine makes it. */
export function resourceUrn(stack: string, project: string, parentUrn: string, type: string, name: string): string {
  const parentType = parentUrn === "" ? "" : `${parentUrn.split("::")[2]}$`;
  return `urn:pulumi:${stack}::${project}::${parentType}${type}::${name}`;
}

// The request fields the engine reads, keyed by "type::name" until the mock's newResource picks them up.
const pendingRegistrations = new Map<string, Registration>();
// The mock monitor names a resource with its parent's last type only; the engine with the parent's
// whole chain. Requests carry the mock's URNs: this maps them to the engine's.
const engineUrnOf = new Map<string, string>();

function mockUrn(stack: string, project: string, parent: string, type: string, name: string): string {
  const qualified = parent === "" ? type : `${parent.split("::")[2].split("$").pop()}$${type}`;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}
let monitorWrapped = false;
// Every registration's aliases by its URN: its children inherit them.
const aliasesOf = new Map<string, string[]>();

/**
 * The aliases a child takes from its parent's, as the engine multiplies them out
 * (pkg/resource/deploy/step_generator.go, generateAliases and inheritedChildAlias): the child under
 * each of the parent's old URNs, by its name and by each of its own aliases. The engine takes only
 * the parent's alias it found the parent under; every one is listed here, of which that is one.
 */
function inheritedAliases(type: string, name: string, parent: string, own: readonly string[], parentAliases: readonly string[]): string[] {
  if (parent === "") return [];
  const parentName = parent.slice(parent.lastIndexOf("::") + 2);
  const under = (parentAlias: string, childType: string, childName: string) => {
    const [, stack, project] = /^urn:pulumi:([^:]+)::([^:]+)::/.exec(parentAlias) ?? [];
    const aliasName = childName.startsWith(parentName) ? parentAlias.slice(parentAlias.lastIndexOf("::") + 2) + childName.slice(parentName.length) : childName;
    return resourceUrn(stack, project, parentAlias, childType, aliasName);
  };
  return parentAliases.flatMap((parentAlias) => [
    under(parentAlias, type, name),
    ...own.map((alias) => {
      const typeChain = alias.split("::")[2].split("$");
      return under(parentAlias, typeChain[typeChain.length - 1], alias.slice(alias.lastIndexOf("::") + 2));
    }),
  ]);
}

function wrapMonitor(stack: string, project: string): void {
  if (monitorWrapped) {
    return;
  }
  monitorWrapped = true;
  const original = MockMonitor.prototype.registerResource;
  MockMonitor.prototype.registerResource = function (this: unknown, req: any, callback: any) {
    const engineUrn = (urn: string) => engineUrnOf.get(urn) ?? urn;
    const mockParent: string = req.getParent();
    const parent = mockParent === "" ? "" : engineUrn(mockParent);
    const type: string = req.getType();
    const name: string = req.getName();
    const urn = resourceUrn(stack, project, parent, type, name);
    engineUrnOf.set(mockUrn(stack, project, mockParent, type, name), urn);
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
      propertyDependencies[key] = (deps.getUrnsList() as string[]).map(engineUrn);
    });
    const aliases = (req.getAliasesList() as any[]).map((alias) => {
      if (alias.hasSpec && !alias.hasSpec()) {
        return alias.getUrn() as string;
      }
      const spec = alias.getSpec();
      const aliasParent = spec.getNoparent() ? "" : spec.getParenturn() ? engineUrn(spec.getParenturn()) : parent;
      return resourceUrn(spec.getStack() || stack, spec.getProject() || project, aliasParent, spec.getType() || type, spec.getName() || name);
    });
    const withInherited = [...aliases, ...inheritedAliases(type, name, parent, aliases, aliasesOf.get(parent) ?? [])];
    aliasesOf.set(urn, withInherited);
    pendingRegistrations.set(`${type}::${name}`, {
      urn,
      parent,
      dependencies: (req.getDependenciesList() as string[]).map(engineUrn),
      propertyDependencies,
      aliases: [...new Set(withInherited)],
      ownAliases: [...new Set(aliases)],
      deleteBeforeReplace: req.getDeletebeforereplace(),
      ignoreChanges: req.getIgnorechangesList(),
    });
    return original.call(this, req, callback);
  };
}

export async function evaluateProgram(options: EvaluateOptions): Promise<Evaluation> {
  const resources: ResourceRecord[] = [];
  const stack = path.basename(options.stackFile).replace(/^Pulumi\.|\.yaml$/g, "");
  wrapMonitor(stack, "macvlan-overlay");
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
          const registration = pendingRegistrations.get(`${args.type}::${args.name}`);
          applied = await apply(args, resources, registration);
          const kept = [registration?.urn, ...(registration?.aliases ?? [])]
            .map((urn) => (urn === undefined ? undefined : options.previous?.[urn]))
            .find((found) => found !== undefined);
          if (kept !== undefined) {
            applied = { id: kept.id, state: { ...kept.outputs, ...args.inputs } };
          }
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
          registration: pendingRegistrations.get(`${args.type}::${args.name}`),
        });
        return applied;
      },
      call: (args) => {
        throw new Error(`the program made an unexpected call: ${args.token}`);
      },
    },
    "macvlan-overlay",
    stack,
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
    require(options.program ?? path.join(options.programDir ?? DIST_ROOT, "index.js"));
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
