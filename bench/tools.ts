// What the benchmarks run besides node, checked before they build anything: each missing tool is
// named with what installs it, and the run stops there (no namespace made, no stack trace).

import * as fs from "node:fs";
import * as path from "node:path";

/** How to get a missing tool: a command line and its verb ("bash lab/install-deps.sh" "installs"). */
export interface Remedy {
  run: string;
  verb: string;
}

export const INSTALL_DEPS: Remedy = { run: "bash lab/install-deps.sh", verb: "installs" };

/** A program (or file) a benchmark needs, and what installs it. */
export interface Tool {
  /** A command looked up on PATH, or an absolute path. */
  command: string;
  /** What the message calls it; default `command`. */
  name?: string;
  /** The Debian package that has it, when one does. */
  debianPackage?: string;
  remedy: Remedy;
  /** A file to read, not to run (e.g. a keyring): existing is enough. */
  readable?: boolean;
  /** Must be statically linked (it runs alone inside a container image). */
  static?: boolean;
}

export interface ToolLookup {
  /** Where `command` resolves to (an absolute path: itself, when it is there), or undefined. */
  which(command: string, readable: boolean): string | undefined;
  /** Whether the executable at `file` is statically linked. */
  isStatic(file: string): boolean;
}

/** The tools `lookup` cannot find (or finds linked dynamically where a static one is needed), in order. */
export function missingTools(tools: readonly Tool[], lookup: ToolLookup): Tool[] {
  const seen = new Set<string>();
  return tools.filter((tool) => {
    if (seen.has(tool.command)) {
      return false;
    }
    seen.add(tool.command);
    const found = lookup.which(tool.command, tool.readable === true);
    return found === undefined || (tool.static === true && !lookup.isStatic(found));
  });
}

const label = (tool: Tool) => `${tool.name ?? tool.command}${tool.static ? " (statically linked)" : ""}`;

/**
 * One line per remedy: "npm run bench needs iperf3: bash lab/install-deps.sh installs it (Debian
 * package iperf3)"; several remedies go on lines of their own under "<what> needs:". Undefined when
 * nothing is missing.
 */
export function missingToolsMessage(what: string, missing: readonly Tool[]): string | undefined {
  if (missing.length === 0) {
    return undefined;
  }
  const groups: { remedy: Remedy; tools: Tool[] }[] = [];
  for (const tool of missing) {
    const group = groups.find((g) => g.remedy.run === tool.remedy.run && g.remedy.verb === tool.remedy.verb);
    if (group) {
      group.tools.push(tool);
    } else {
      groups.push({ remedy: tool.remedy, tools: [tool] });
    }
  }
  const lines = groups.map(({ remedy, tools }) => {
    const packages = [...new Set(tools.flatMap((t) => (t.debianPackage === undefined ? [] : [t.debianPackage])))];
    const packageNote = packages.length === 0 ? "" : ` (Debian package${packages.length === 1 ? "" : "s"} ${packages.join(", ")})`;
    return `${tools.map(label).join(", ")}: ${remedy.run} ${remedy.verb} ${tools.length === 1 ? "it" : "them"}${packageNote}`;
  });
  return lines.length === 1 ? `${what} needs ${lines[0]}` : [`${what} needs:`, ...lines.map((line) => `  ${line}`)].join("\n");
}

/** A problem to report as its message alone, without a stack trace (the runners print it and exit 1). */
export class BenchSetupError extends Error {}

/** Throws a BenchSetupError naming every missing tool; returns when all are there. */
export function requireTools(what: string, tools: readonly Tool[], lookup: ToolLookup = machineLookup()): void {
  const message = missingToolsMessage(what, missingTools(tools, lookup));
  if (message !== undefined) {
    throw new BenchSetupError(message);
  }
}

/** Throws a BenchSetupError unless this process runs as root. */
export function requireRoot(what: string, why: string): void {
  if (process.getuid?.() !== 0) {
    throw new BenchSetupError(`${what} needs root (${why}): run it as root`);
  }
}

const DEBIAN = (debianPackage: string) => ({ debianPackage, remedy: INSTALL_DEPS });

/** Both benchmarks: their network namespaces, and the router's rendered NAT script run in one. */
const NAMESPACES_AND_NAT: readonly Tool[] = [
  { command: "ip", ...DEBIAN("iproute2") },
  { command: "nsenter", ...DEBIAN("util-linux") },
  { command: "unshare", ...DEBIAN("util-linux") },
  { command: "flock", ...DEBIAN("util-linux") },
  { command: "mount", ...DEBIAN("mount") },
  { command: "sysctl", ...DEBIAN("procps") },
  { command: "iptables", ...DEBIAN("iptables") },
  { command: "sh", ...DEBIAN("dash") },
];

/**
 * The data plane of `npm run bench` (as root): what it spawns (bench/dataPlane.ts, bench/benchNetns.ts)
 * and what the router's rendered NAT script runs there (iptables, sysctl, flock).
 */
export const DATA_PLANE_TOOLS: readonly Tool[] = [
  ...NAMESPACES_AND_NAT,
  { command: "ss", ...DEBIAN("iproute2") },
  { command: "iperf3", ...DEBIAN("iperf3") },
  { command: "ping", ...DEBIAN("iputils-ping") },
];

/**
 * `npm run bench:check`, besides Docker Engine 26 (bench/engine.ts): namespaces, the router's NAT
 * script, busybox:latest built from the machine's static busybox, and the cleanup (kill, xargs, find).
 */
export const CHECK_TOOLS: readonly Tool[] = [
  ...NAMESPACES_AND_NAT,
  { command: "kill", ...DEBIAN("procps") },
  { command: "/bin/busybox", static: true, ...DEBIAN("busybox-static") },
  { command: "tar", ...DEBIAN("tar") },
  { command: "xargs", ...DEBIAN("findutils") },
  { command: "find", ...DEBIAN("findutils") },
  { command: "sleep", ...DEBIAN("coreutils") },
];

/** Lookups on this machine: PATH (of this process: what spawn uses), absolute paths as they are. */
export function machineLookup(searchPath = process.env.PATH ?? ""): ToolLookup {
  const usable = (file: string, readable: boolean) => {
    try {
      fs.accessSync(file, readable ? fs.constants.R_OK : fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  };
  return {
    which(command, readable) {
      if (command.includes("/")) {
        return usable(command, readable) ? command : undefined;
      }
      return searchPath
        .split(":")
        .filter(Boolean)
        .map((dir) => path.join(dir, command))
        .find((file) => usable(file, readable));
    },
    isStatic: (file) => isStaticElf(fs.readFileSync(file)),
  };
}

const PT_INTERP = 3;

/** True for a 64-bit little-endian ELF file without a program interpreter (statically linked). */
export function isStaticElf(bytes: Buffer): boolean {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46 || bytes[4] !== 2 || bytes[5] !== 1) {
    return false;
  }
  const phoff = Number(bytes.readBigUInt64LE(0x20));
  const phentsize = bytes.readUInt16LE(0x36);
  const phnum = bytes.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > bytes.length) {
      return false;
    }
    if (bytes.readUInt32LE(at) === PT_INTERP) {
      return false;
    }
  }
  return true;
}
