// Program scale: the program's components evaluated under Pulumi's mocks (no I/O) for generated
// topologies, each size in its own child process for a clean peak RSS, next to the SDK's floor:
// the same number of custom resources of each type with inputs of the same total size, registered
// flat without components.

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { MacvlanOverlay, type ProgramOverlayArgs } from "../components/macvlanOverlay";
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

/** Mocks that only record and echo: a RandomId gets a fixed hex, an image an id, a command an empty stdout, everything its inputs back. */
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
      // A container's image input is its RemoteImage's id, as a real provider returns it.
      if (args.type === "docker:index/remoteImage:RemoteImage") {
        state.imageId = `sha256:${"0".repeat(64)}`;
      }
      // The connectivity check parses its command's stdout; an empty one is a report of no probes.
      if (args.type === HOST_COMMAND) {
        state.stdout = "";
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

/** Stands in for each host's pinned key: the bench measures the program, not the known_hosts file. */
const BENCH_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBlRcz5oO0bMgCHg0yJ6fEQqTI0y5d8ePGsaGqkKlWm8";

/**
 * The program's component, as index.ts builds it: the generated config's keys as its arguments, the
 * key's text and each host's pinned key in place of the two files, whose names still go to the Docker
 * providers' ssh client (so every custom resource and its inputs are as the stack program's). The
 * component checks the config (bad arguments throw, naming every problem) and renders its diagram and
 * summary outputs: both inside the measured time.
 */
function evaluateOurs(dockerHosts: number): void {
  const { sshPrivateKeyFile, sshKnownHostsFile, hosts, ...config } = scaleConfig({ dockerHosts });
  const args: ProgramOverlayArgs = {
    ...(config as Omit<ProgramOverlayArgs, "sshPrivateKey" | "hosts">),
    sshPrivateKey: "k".repeat(PRIVATE_KEY_LENGTH),
    hosts: (hosts as ProgramOverlayArgs["hosts"]).map((host) => ({ ...host, hostKey: BENCH_HOST_KEY })),
    dockerSshFiles: { baseDir: "/nonexistent", privateKeyFile: String(sshPrivateKeyFile), knownHostsFile: String(sshKnownHostsFile) },
  };
  new MacvlanOverlay("overlay", args);
}

/** A bare custom resource, for a type the floor has no SDK class for. */
class BareResource extends pulumi.CustomResource {}

/**
 * The SDK's own class for each type the program registers, with the padding in one string input: the
 * floor pays the same SDK code (and lazy module loads) per resource, but no components or Outputs.
 */
const FLOOR_CLASSES: Record<string, (name: string, padding: string) => pulumi.CustomResource> = {
  "command:remote:Command": (name, padding) => new command.remote.Command(name, { connection: { host: "floor" }, create: padding }),
  "docker:index/container:Container": (name, padding) => new docker.Container(name, { image: "busybox:latest", name: padding }),
  "docker:index/network:Network": (name, padding) => new docker.Network(name, { name: padding }),
  "docker:index/remoteImage:RemoteImage": (name, padding) => new docker.RemoteImage(name, { name: padding }),
  "pulumi:providers:docker": (name, padding) => new docker.Provider(name, { host: padding }),
  "random:index/randomId:RandomId": (name, padding) => new random.RandomId(name, { byteLength: 5, prefix: padding }),
};

/** Serialized size of a resource's inputs besides the padding's characters, per type (measured once). */
const FLOOR_OVERHEAD_BYTES: Record<string, number> = {
  // The SDK wraps the connection as a secret and adds its own defaults: 174 bytes more, measured.
  "command:remote:Command": '{"create":""}'.length + 174,
  "docker:index/container:Container": '{"image":"busybox:latest","name":""}'.length,
  "docker:index/network:Network": '{"name":""}'.length,
  "docker:index/remoteImage:RemoteImage": '{"name":""}'.length,
  "pulumi:providers:docker": '{"host":""}'.length,
  "random:index/randomId:RandomId": '{"byteLength":5,"prefix":""}'.length + 12,
};

function evaluateFloor(types: TypeProfile[]): void {
  for (const entry of types.filter((t) => t.custom)) {
    const each = Math.floor(entry.inputBytes / entry.count);
    const make = FLOOR_CLASSES[entry.type] ?? ((name: string, padding: string) => new BareResource(entry.type, name, { payload: padding }));
    const overhead = FLOOR_OVERHEAD_BYTES[entry.type] ?? '{"payload":""}'.length;
    for (let i = 0; i < entry.count; i++) {
      make(`r${i}`, "x".repeat(Math.max(0, each - overhead + (i < entry.inputBytes % entry.count ? 1 : 0))));
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

/** A child resident above this is stopped: the machine (24 GiB) is shared with other work. */
export const CHILD_MEMORY_LIMIT_BYTES = 14 * 2 ** 30;

/** Resident set of a process from /proc, 0 once it is gone. */
function residentBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs one measurement in a fresh node process; rejects with its stderr when it fails, times out or outgrows the memory limit. */
function runChild(kind: "ours" | "floor", dockerHosts: number, profileFile: string, timeoutMs: number): Promise<ScaleMeasurement> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--max-old-space-size=16384", __filename, "child", kind, String(dockerHosts), profileFile], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let stopped = "";
    proc.stdout.on("data", (chunk) => (stdout += chunk));
    proc.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      stopped = `killed after ${timeoutMs / 1000} s`;
      proc.kill("SIGKILL");
    }, timeoutMs);
    const memoryWatch = setInterval(() => {
      const resident = proc.pid === undefined ? 0 : residentBytes(proc.pid);
      if (resident > CHILD_MEMORY_LIMIT_BYTES) {
        stopped = `killed at ${(resident / 2 ** 30).toFixed(1)} GiB resident (limit ${CHILD_MEMORY_LIMIT_BYTES / 2 ** 30} GiB)`;
        proc.kill("SIGKILL");
      }
    }, 2000);
    proc.on("close", (code, signal) => {
      clearTimeout(timer);
      clearInterval(memoryWatch);
      const line = stdout.trim().split("\n").pop() ?? "";
      if (code === 0 && line.startsWith("{")) {
        resolve(JSON.parse(line) as ScaleMeasurement);
      } else {
        const why = stopped || `exit ${code ?? signal}`;
        reject(new Error(`${kind} ${dockerHosts} docker hosts: ${why}\n${stderr.slice(-2000)}`));
      }
    });
  });
}

export interface ScalePair {
  dockerHosts: number;
  ours?: ScaleMeasurement;
  floor?: ScaleMeasurement;
  /** The floor ran on a profile extrapolated from two smaller sizes, since ours did not finish. */
  floorExtrapolated?: boolean;
  error?: string;
}

/**
 * The profile a size would have, from two smaller sizes' profiles: every count and byte total of the
 * generated topologies is affine in the number of docker hosts (per host, plus the router's share).
 */
export function extrapolateProfile(a: { dockerHosts: number; types: TypeProfile[] }, b: { dockerHosts: number; types: TypeProfile[] }, dockerHosts: number): TypeProfile[] {
  const at = (x0: number, x1: number) => Math.max(0, Math.round(x1 + ((x1 - x0) * (dockerHosts - b.dockerHosts)) / (b.dockerHosts - a.dockerHosts)));
  return b.types.map((t) => {
    const before = a.types.find((u) => u.type === t.type) ?? { count: 0, inputBytes: 0 };
    return { ...t, count: at(before.count, t.count), inputBytes: at(before.inputBytes, t.inputBytes) };
  });
}

/** The size the others are compared with (the 300/30 ratio). */
export const REFERENCE_DOCKER_HOSTS = 30;
/** Linear growth may take this many times the reference per host before a child is stopped. */
const TIME_LIMIT_SLACK = 2;

/**
 * A child's time limit: the base for sizes up to the reference, above it the reference size's own
 * elapsed time scaled by the size ratio, with TIME_LIMIT_SLACK (300 hosts: 10 × 30 hosts' time × 2,
 * under load too), never under the base. A child stopped there took over twice the linear target.
 */
export function childTimeLimitMs(dockerHosts: number, baseMs: number, referenceElapsedMs: number | undefined): number {
  if (dockerHosts <= REFERENCE_DOCKER_HOSTS || referenceElapsedMs === undefined) {
    return baseMs;
  }
  return Math.max(baseMs, Math.ceil((TIME_LIMIT_SLACK * referenceElapsedMs * dockerHosts) / REFERENCE_DOCKER_HOSTS));
}

/** Ours then the floor built from ours' profile, per size, sequentially (one process at a time). */
export async function measureProgramScale(sizes: readonly number[], baseTimeoutMs: number, log: (line: string) => void): Promise<ScalePair[]> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ovb-scale-"));
  const pairs: ScalePair[] = [];
  const referenceElapsed: { ours?: number; floor?: number } = {};
  const timed = async (kind: "ours" | "floor", dockerHosts: number, profileFile: string): Promise<ScaleMeasurement> => {
    const limitMs = childTimeLimitMs(dockerHosts, baseTimeoutMs, referenceElapsed[kind]);
    if (limitMs !== baseTimeoutMs) {
      log(`${kind} ${dockerHosts} docker hosts: time limit ${(limitMs / 1000).toFixed(0)} s (scaled from ${REFERENCE_DOCKER_HOSTS} docker hosts)`);
    }
    const started = performance.now();
    const measurement = await runChild(kind, dockerHosts, profileFile, limitMs);
    if (dockerHosts === REFERENCE_DOCKER_HOSTS) {
      referenceElapsed[kind] = performance.now() - started;
    }
    return measurement;
  };
  try {
    for (const dockerHosts of sizes) {
      const profileFile = path.join(scratch, `profile-${dockerHosts}.json`);
      const pair: ScalePair = { dockerHosts };
      pairs.push(pair);
      try {
        pair.ours = await timed("ours", dockerHosts, profileFile);
        log(`program ${dockerHosts} docker hosts: ${pair.ours.resources} resources, ${(pair.ours.wallMs / 1000).toFixed(1)} s, ${(pair.ours.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
        pair.floor = await timed("floor", dockerHosts, profileFile);
        log(`floor   ${dockerHosts} docker hosts: ${pair.floor.resources} resources, ${(pair.floor.wallMs / 1000).toFixed(1)} s, ${(pair.floor.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
      } catch (error) {
        pair.error = (error as Error).message.split("\n")[0];
        log(`program scale ${dockerHosts}: ${(error as Error).message}`);
        // The floor of a size ours could not finish: from the two largest sizes measured before it.
        const measured = pairs.filter((p) => p.ours !== undefined && p.dockerHosts < dockerHosts).slice(-2);
        if (pair.ours === undefined && measured.length === 2) {
          fs.writeFileSync(profileFile, JSON.stringify(extrapolateProfile(measured[0].ours!, measured[1].ours!, dockerHosts)));
          try {
            pair.floor = await timed("floor", dockerHosts, profileFile);
            pair.floorExtrapolated = true;
            log(`floor   ${dockerHosts} docker hosts (profile extrapolated from ${measured.map((p) => p.dockerHosts).join(" and ")}): ${pair.floor.resources} resources, ${(pair.floor.wallMs / 1000).toFixed(1)} s, ${(pair.floor.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
          } catch (floorError) {
            log(`program scale ${dockerHosts}, floor: ${(floorError as Error).message}`);
          }
        }
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
