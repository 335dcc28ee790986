// Throw-away network namespaces for the kernel benchmarks, all named `ovb-*`: created through one
// object that remembers what it made and removes exactly that (also on SIGINT/SIGTERM and exit).
// Addresses are checked against what the machine routes before any is used; nothing gets a default
// route, so no benchmark packet can leave through the machine's own interfaces.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { formatIpv4Prefix, overlaps, parseIpv4Prefix, type Ipv4Prefix } from "../topology/ipv4";
import { BenchSetupError } from "./tools";

export const NAMESPACE_PREFIX = "ovb-";

/** Runs a command, returns stdout; throws with stderr on failure. */
export function run(file: string, args: readonly string[], input?: string): string {
  const result = spawnSync(file, args, { input, encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  if (result.status !== 0) {
    throw new Error(`${file} ${args.join(" ")}: exit ${result.status ?? result.signal}\n${(result.stderr ?? "").slice(-2000)}${(result.stdout ?? "").slice(-1000)}`);
  }
  return result.stdout;
}

/** Prefixes in `ip -4 -o addr show` and `ip -4 route show table all` output, default routes left out. */
export function prefixesIn(addrText: string, routeText: string): Ipv4Prefix[] {
  const prefixes: Ipv4Prefix[] = [];
  for (const line of addrText.split("\n")) {
    const match = /\binet (\S+)/.exec(line);
    const prefix = match && parseIpv4Prefix(match[1]);
    if (prefix) {
      prefixes.push(prefix);
    }
  }
  for (const line of routeText.split("\n")) {
    const words = line.trim().split(/\s+/);
    // "local 10.0.0.1 dev …", "broadcast …", "unreachable 10/8": the destination is the word after a type.
    const destination = ROUTE_TYPES.includes(words[0]) ? words[1] : words[0];
    if (!destination || destination === "default") {
      continue;
    }
    const prefix = parseIpv4Prefix(destination.includes("/") ? destination : `${destination}/32`);
    if (prefix) {
      prefixes.push(prefix);
    }
  }
  return prefixes;
}

const ROUTE_TYPES = ["local", "broadcast", "unicast", "unreachable", "blackhole", "prohibit", "throw", "anycast", "multicast"];

/** What this machine has on an interface or in any routing table, default routes left out. */
export function machinePrefixes(): Ipv4Prefix[] {
  return prefixesIn(run("ip", ["-4", "-o", "addr", "show"]), run("ip", ["-4", "route", "show", "table", "all"]));
}

/** Throws unless no prefix of `wanted` overlaps `taken`. */
export function assertDisjoint(wanted: readonly string[], taken: readonly Ipv4Prefix[]): void {
  for (const text of wanted) {
    const prefix = parseIpv4Prefix(text);
    if (prefix === undefined) {
      throw new Error(`not an IPv4 prefix: ${text}`);
    }
    const clash = taken.find((other) => overlaps(prefix, other));
    if (clash) {
      throw new Error(`${text} overlaps ${formatIpv4Prefix(clash)}, which this machine has or routes: pick another benchmark subnet`);
    }
  }
}

/**
 * Throws unless none of `wanted` overlaps anything the machine has or routes, and unless each is
 * outside 192.0.2.0/24 (the machine's own uplink here, refused even when not routed).
 */
export function assertUnrouted(wanted: readonly string[]): void {
  assertDisjoint(wanted, [...machinePrefixes(), parseIpv4Prefix("192.0.2.0/24")!]);
}

export function existingBenchNamespaces(): string[] {
  return run("ip", ["netns", "list"])
    .split("\n")
    .map((line) => line.split(" ")[0])
    .filter((name) => name.startsWith(NAMESPACE_PREFIX));
}

/** Throws a BenchSetupError naming the `ovb-*` namespaces that exist already (a run's preflight checks it too). */
export function requireNoBenchNamespaces(): void {
  const leftovers = existingBenchNamespaces();
  if (leftovers.length > 0) {
    throw new BenchSetupError(`benchmark namespaces already exist (another run, or one that crashed): ${leftovers.join(" ")}; if no benchmark runs, remove them with: ip netns del NAME`);
  }
}

export class BenchNamespaces {
  private readonly made: string[] = [];
  private readonly processes: ChildProcess[] = [];
  private readonly cleanups: (() => void)[] = [];
  private closed = false;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.close();
    process.kill(process.pid, signal);
  };
  private readonly onExit = () => this.close();

  constructor() {
    requireNoBenchNamespaces();
    process.once("SIGINT", this.onSignal);
    process.once("SIGTERM", this.onSignal);
    process.once("exit", this.onExit);
  }

  /** A new network namespace with lo up, ip_forward 0 and no routes but its own links'. */
  add(name: string): string {
    if (!name.startsWith(NAMESPACE_PREFIX)) {
      throw new Error(`benchmark namespaces are named ${NAMESPACE_PREFIX}*: ${name}`);
    }
    run("ip", ["netns", "add", name]);
    this.made.push(name);
    this.ip(name, "link", "set", "lo", "up");
    this.exec(name, "sysctl", "-qw", "net.ipv4.ip_forward=0");
    return name;
  }

  /** `ip -n NS …` */
  ip(ns: string, ...args: string[]): string {
    return run("ip", ["-n", ns, ...args]);
  }

  /** A program inside the namespace (network only; /sys is remounted by ip netns exec). */
  exec(ns: string, file: string, ...args: string[]): string {
    return run("ip", ["netns", "exec", ns, file, ...args]);
  }

  /** A process to stop at close (e.g. a daemon); killed by its pid, its group too when it leads one. */
  track(child: ChildProcess): ChildProcess {
    this.processes.push(child);
    return child;
  }

  /** Something to undo at close, before the namespaces go (run last-registered first). */
  onClose(undo: () => void): void {
    this.cleanups.push(undo);
  }

  /** A veth pair from `a` (named aName) to `b` (named bName), both up. */
  veth(a: string, aName: string, b: string, bName: string): void {
    run("ip", ["link", "add", aName, "netns", a, "type", "veth", "peer", "name", bName, "netns", b]);
    this.ip(a, "link", "set", aName, "up");
    this.ip(b, "link", "set", bName, "up");
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    process.removeListener("SIGINT", this.onSignal);
    process.removeListener("SIGTERM", this.onSignal);
    process.removeListener("exit", this.onExit);
    for (const undo of this.cleanups.reverse()) {
      try {
        undo();
      } catch (error) {
        process.stderr.write(`cleanup: ${(error as Error).message}\n`);
      }
    }
    for (const child of this.processes.reverse()) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    for (const name of this.made.reverse()) {
      // Anything still running in a namespace we made is ours (a server, a daemon's helper).
      const pids = spawnSync("ip", ["netns", "pids", name], { encoding: "utf8" }).stdout ?? "";
      for (const pid of pids.split("\n").filter(Boolean)) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
      spawnSync("ip", ["netns", "del", name], { stdio: "ignore" });
    }
    const left = existingBenchNamespaces().filter((name) => this.made.includes(name));
    if (left.length > 0) {
      process.stderr.write(`cleanup: could not delete namespaces ${left.join(" ")}\n`);
    }
  }
}

/** Waits until `check` passes, polling; throws with `what` after `seconds`. */
export async function waitFor(what: string, seconds: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`${what}: not ready after ${seconds} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Spawns a long-lived process; its output goes to a log file. */
export function spawnLogged(file: string, args: readonly string[], logFile: string): ChildProcess {
  const log = fs.openSync(logFile, "a");
  const child = spawn(file, args, { stdio: ["ignore", log, log] });
  fs.closeSync(log);
  return child;
}

/**
 * A private mount namespace inside network namespace `ns`, with an empty tmpfs over each of `dirs`
 * (so scripts run in it never touch the machine's files). It lives while its holder's stdin is open.
 * Returns a runner for shell text (`sh -s`) inside both namespaces, with optional environment.
 */
export async function privateMountNamespace(
  lab: BenchNamespaces,
  ns: string,
  dirs: readonly string[],
): Promise<{ pid: number; runScript(script: string, env?: Record<string, string>): string }> {
  const mounts = dirs.map((d) => `mount -t tmpfs ovb-tmpfs '${d.replace(/'/g, "")}'`).join("; ");
  const holder = lab.track(
    spawn("nsenter", [`--net=/run/netns/${ns}`, "--", "unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
      `set -e; ${mounts}; echo ready; exec cat >/dev/null`], { stdio: ["pipe", "pipe", "inherit"] }),
  );
  let ready = false;
  holder.stdout!.on("data", (chunk: Buffer) => {
    ready ||= chunk.toString().includes("ready");
  });
  lab.onClose(() => holder.stdin!.end());
  await waitFor(`mount namespace in ${ns}`, 10, () => ready || holder.exitCode !== null);
  if (!ready || holder.pid === undefined) {
    throw new Error(`mount namespace in ${ns}: the holder exited before it was ready`);
  }
  const pid = holder.pid;
  return {
    pid,
    runScript: (script, env = {}) =>
      run("nsenter", ["--target", String(pid), "--net", "--mount", "--", "env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), "sh", "-s"], script),
  };
}
