// Program scale: the program's components evaluated under Pulumi's mocks (no I/O) for generated
// topologies, each size in its own child process for a clean peak RSS, next to the SDK's floor:
// the same number of custom resources of each type with inputs of the same total size, registered
// flat without components.

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as pulumi from "@pulumi/pulumi";
import { Overlay } from "../components";
import { formatProblems, parseTopology } from "../topology";
import { scaleConfig } from "./scaleTopology";

/** Per resource type: how many the program registered and their inputs' serialized size. */
export interface TypeProfile {
  type: string;
  custom: boolean;
  count: number;
  inputBytes: number;
}

export interface ScaleMeasurement {
  kind: "ours" | "floor";
  dockerHosts: number;
  hosts: number;
  resources: number;
  customResources: number;
  wallMs: number;
  peakRssBytes: number;
  inputBytes: number;
  hostCommands: number;
  hostCommandInputBytes: number;
  types: TypeProfile[];
}

const HOST_COMMAND = "command:remote:Command";
/** An ed25519 OpenSSH private key is about this long; the connection (a secret) carries it. */
const PRIVATE_KEY_LENGTH = 411;

function serializedSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "");
}

/** Peak resident set of this process: VmHWM, else the rusage maximum. */
function peakRssBytes(): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

/** Mocks that only record and echo: a RandomId gets a fixed hex, everything else its inputs back. */
function recordingMocks(profile: Map<string, TypeProfile>): pulumi.runtime.Mocks {
  return {
    newResource: (args) => {
      const key = args.type;
      const entry = profile.get(key) ?? { type: key, custom: args.custom ?? true, count: 0, inputBytes: 0 };
      entry.count++;
      entry.inputBytes += serializedSize(args.inputs);
      profile.set(key, entry);
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type === "random:index/randomId:RandomId") {
        state.hex = "0".repeat(2 * Number(args.inputs.byteLength ?? 4));
      }
      return { id: `${args.name}-id`, state };
    },
    call: (args) => {
      throw new Error(`unexpected call ${args.token}`);
    },
  };
}

/** The SDK's own wait for outstanding registrations (internal, but the only exact end signal under mocks). */
async function registrationsDone(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}

function evaluateOurs(dockerHosts: number): void {
  const parsed = parseTopology(scaleConfig({ dockerHosts }));
  if (!parsed.ok) {
    throw new Error(`generated topology is invalid:\n${formatProblems(parsed.problems.slice(0, 10))}`);
  }
  new Overlay("overlay", { topology: parsed.topology, privateKey: pulumi.secret("k".repeat(PRIVATE_KEY_LENGTH)), baseDir: "/nonexistent" });
}

/** A bare provider resource: the floor registers providers without any package's SDK. */
class BareProvider extends pulumi.ProviderResource {}

/** A bare custom resource of any type token. */
class BareResource extends pulumi.CustomResource {}

function evaluateFloor(types: TypeProfile[]): void {
  for (const entry of types.filter((t) => t.custom)) {
    const each = Math.floor(entry.inputBytes / entry.count);
    const isProvider = entry.type.startsWith("pulumi:providers:");
    for (let i = 0; i < entry.count; i++) {
      // `{"payload":""}` is 14 bytes of the serialized size.
      const payload = "x".repeat(Math.max(0, each - 14 + (i < entry.inputBytes % entry.count ? 1 : 0)));
      const name = `r${i}`;
      if (isProvider) {
        new BareProvider(entry.type.slice("pulumi:providers:".length), name, { payload });
      } else {
        new BareResource(entry.type, name, { payload });
      }
    }
  }
}

async function child(kind: "ours" | "floor", dockerHosts: number, profileFile: string): Promise<void> {
  const profile = new Map<string, TypeProfile>();
  await pulumi.runtime.setMocks(recordingMocks(profile), "macvlan-overlay", "bench", false);
  const started = performance.now();
  if (kind === "ours") {
    evaluateOurs(dockerHosts);
  } else {
    evaluateFloor(JSON.parse(fs.readFileSync(profileFile, "utf8")) as TypeProfile[]);
  }
  await registrationsDone();
  const wallMs = performance.now() - started;
  const types = [...profile.values()].sort((a, b) => a.type.localeCompare(b.type));
  if (kind === "ours") {
    fs.writeFileSync(profileFile, JSON.stringify(types));
  }
  const custom = types.filter((t) => t.custom);
  const commands = profile.get(HOST_COMMAND);
  const measurement: ScaleMeasurement = {
    kind,
    dockerHosts,
    hosts: dockerHosts + 1,
    resources: types.reduce((sum, t) => sum + t.count, 0),
    customResources: custom.reduce((sum, t) => sum + t.count, 0),
    wallMs,
    peakRssBytes: peakRssBytes(),
    inputBytes: custom.reduce((sum, t) => sum + t.inputBytes, 0),
    hostCommands: commands?.count ?? 0,
    hostCommandInputBytes: commands?.inputBytes ?? 0,
    types,
  };
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

/** Runs one measurement in a fresh node process; rejects with its stderr when it fails or times out. */
function runChild(kind: "ours" | "floor", dockerHosts: number, profileFile: string, timeoutMs: number): Promise<ScaleMeasurement> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--max-old-space-size=16384", __filename, "child", kind, String(dockerHosts), profileFile], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (chunk) => (stdout += chunk));
    proc.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    proc.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").pop() ?? "";
      if (code === 0 && line.startsWith("{")) {
        resolve(JSON.parse(line) as ScaleMeasurement);
      } else {
        const why = signal === "SIGKILL" ? `killed after ${timeoutMs / 1000} s` : `exit ${code ?? signal}`;
        reject(new Error(`${kind} ${dockerHosts} docker hosts: ${why}\n${stderr.slice(-2000)}`));
      }
    });
  });
}

export interface ScalePair {
  dockerHosts: number;
  ours?: ScaleMeasurement;
  floor?: ScaleMeasurement;
  error?: string;
}

/** Ours then the floor built from ours' profile, per size, sequentially (one process at a time). */
export async function measureProgramScale(sizes: readonly number[], timeoutMs: number, log: (line: string) => void): Promise<ScalePair[]> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ovb-scale-"));
  const pairs: ScalePair[] = [];
  try {
    for (const dockerHosts of sizes) {
      const profileFile = path.join(scratch, `profile-${dockerHosts}.json`);
      const pair: ScalePair = { dockerHosts };
      pairs.push(pair);
      try {
        pair.ours = await runChild("ours", dockerHosts, profileFile, timeoutMs);
        log(`program ${dockerHosts} docker hosts: ${pair.ours.resources} resources, ${(pair.ours.wallMs / 1000).toFixed(1)} s, ${(pair.ours.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
        pair.floor = await runChild("floor", dockerHosts, profileFile, timeoutMs);
        log(`floor   ${dockerHosts} docker hosts: ${pair.floor.resources} resources, ${(pair.floor.wallMs / 1000).toFixed(1)} s, ${(pair.floor.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
      } catch (error) {
        pair.error = (error as Error).message.split("\n")[0];
        log(`program scale ${dockerHosts}: ${(error as Error).message}`);
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return pairs;
}

if (require.main === module && process.argv[2] === "child") {
  child(process.argv[3] as "ours" | "floor", Number(process.argv[4]), process.argv[5]).catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  });
}
