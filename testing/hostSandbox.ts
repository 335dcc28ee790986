// A throwaway host for tests that run host scripts for real: its own network namespace (no default
// route, nothing reaches the machine's network) and a private mount namespace with a fresh tmpfs over
// every directory the scripts write, so the machine's own files are never touched. Missing mount
// points (Debian has no /etc/sysconfig) are made inside an overlay whose upper layer is a tmpfs.
// Every command re-checks, inside, that it runs in exactly these namespaces before doing anything.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { firstMissingCommand, skipBecause } from "./prerequisites";
import { shellQuote } from "../components/scripts/shell";

/** Directories each sandbox covers with its own empty tmpfs. */
export const SANDBOX_DIRS: readonly string[] = ["/etc/sysconfig", "/etc/sysctl.d", "/etc/systemd/system", "/run"];

/**
 * Directories our scripts make and remove themselves: each starts absent in the sandbox, inside an
 * overlay of its parent (upper layer a tmpfs), so a test sees whether a delete removed it again.
 */
export const SANDBOX_OWN_DIRS: readonly string[] = ["/etc/macvlan-overlay", "/var/lib/macvlan-overlay"];

/** Prefix of every sandbox's network namespace name (and scratch folder). */
export const SANDBOX_PREFIX = "ovd-";

export interface SandboxOptions {
  /** ip_forward in the new namespace; a new netns may inherit the machine's value. Default "0". */
  readonly ipForward?: "0" | "1";
  /** More directories to cover with an empty tmpfs (e.g. "/usr/local/sbin" for a fake `ifup`). */
  readonly extraDirs?: readonly string[];
}

export interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface HostSandbox {
  /** The network namespace's name (`ovd-<random>`). */
  readonly name: string;
  /** Every directory the sandbox covers: a tmpfs of its own, or (SANDBOX_OWN_DIRS) absent at first inside an overlay. */
  readonly dirs: readonly string[];
  /** The sandbox's namespaces as /proc/<pid>/ns links name them ("net:[4026532…]"). */
  readonly namespaces: { readonly net: string; readonly mnt: string };
  /** Runs shell text (`<shell> -c`) inside both namespaces; never throws for a non-zero exit. */
  run(command: string, options?: { readonly shell?: string; readonly input?: string }): CommandResult;
  /** Like run, without blocking: several commands run in the sandbox at the same time. */
  runAsync(command: string, options?: { readonly shell?: string; readonly input?: string }): Promise<CommandResult>;
  /** Like run, but throws (with stdout and stderr) when the command fails; returns stdout. */
  exec(command: string, input?: string): string;
  /** Writes a file inside the sandbox (the path must lie under one of `dirs`). */
  writeFile(filePath: string, content: string, mode?: string): void;
  /**
   * Makes the filter and nat tables exist, as they do on any real host. iptables-nft creates a table
   * on its first rule, and deleting the rule leaves the empty table, so without this a create+delete
   * round trip in a brand-new namespace differs by empty tables. Listing (`iptables -S`) is not
   * enough: it does not create them.
   */
  primeFirewallTables(): void;
  /** Addresses, links, firewall, ip_forward and every file under `dirs`, as text to compare. */
  snapshot(): string;
  /** Stops the namespace holder, deletes the network namespace and the scratch directory. */
  close(): Promise<void>;
}

/** Why real-effect tests cannot run here, or undefined when they can (a failure when CI requires them). */
export function sandboxUnavailableReason(): string | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    return skipBecause("needs root (network and mount namespaces)");
  }
  const missing = firstMissingCommand(["ip", "iptables", "iptables-save", "nsenter", "unshare", "mount", "sysctl"]);
  return skipBecause(missing === undefined ? undefined : `${missing} is not installed (bash lab/install-deps.sh installs it)`);
}

// Runs as the namespace holder: mounts, says "ready", then waits on stdin (closing it ends the holder,
// and with it the mount namespace, also if the test process dies).
// Arguments: the scratch folder, then "tmpfs:DIR" (an empty tmpfs over DIR) or "absent:DIR" (DIR
// removed inside an overlay of its parent); a missing DIR is made inside such an overlay.
const HOLDER_SCRIPT = `set -eu
scratch=$1
shift
mount -t tmpfs -o mode=0700 ovltest-scratch "$scratch"
n=0
overlaid=
overlay_parent_of() {
  base=$(dirname "$1")
  while [ ! -d "$base" ]; do base=$(dirname "$base"); done
  [ "$base" != / ] || { echo "refusing to overlay / for $1" >&2; exit 1; }
  case " $overlaid " in *" $base "*) return 0 ;; esac
  n=$((n + 1))
  mkdir -p "$scratch/$n/upper" "$scratch/$n/work"
  mount -t overlay ovltest-overlay -o "lowerdir=$base,upperdir=$scratch/$n/upper,workdir=$scratch/$n/work" "$base"
  overlaid="$overlaid $base"
}
for arg in "$@"; do
  target=\${arg#*:}
  case "$arg" in
    absent:*) overlay_parent_of "$target"; rm -rf "$target" ;;
    tmpfs:*) [ -d "$target" ] || { overlay_parent_of "$target"; mkdir -p "$target"; } ;;
    *) echo "unknown sandbox directory $arg" >&2; exit 1 ;;
  esac
done
for arg in "$@"; do
  case "$arg" in tmpfs:*) mount -t tmpfs -o mode=0755 ovltest "\${arg#tmpfs:}" ;; esac
done
echo ready
exec cat >/dev/null
`;

const SNAPSHOT_SCRIPT = (dirs: readonly string[]) => `set -eu
echo '## ip -d addr'
ip -d addr
echo '## iptables-save (counters and comment lines stripped)'
iptables-save | sed -e '/^#/d' -e 's/ \\[[0-9]*:[0-9]*\\]$//'
if command -v nft >/dev/null 2>&1; then
  echo '## nft list ruleset (counters and comment lines stripped)'
  nft list ruleset | sed -e '/^[[:space:]]*#/d' -e 's/ counter packets [0-9]* bytes [0-9]*//'
fi
echo '## sysctl'
sysctl net.ipv4.ip_forward
for dir in ${dirs.map(shellQuote).join(" ")}; do
  echo "## files under $dir"
  [ -e "$dir" ] || { echo '(absent)'; continue; }
  find "$dir" -mindepth 1 -printf '%y %m %P %l\\n' | LC_ALL=C sort
  find "$dir" -type f | LC_ALL=C sort | while IFS= read -r file; do
    echo "--- $file"
    cat "$file"
    echo '--- end'
  done
done
`;

/**
 * True when every link's operational state agrees with its flags. The kernel updates operstate
 * asynchronously (linkwatch, up to a second later), so right after `ip link set up` a snapshot could
 * catch a link that is UP,LOWER_UP but still "state DOWN".
 */
export function linksSettled(ipOLink: string): boolean {
  return ipOLink
    .split("\n")
    .filter((line) => line.trim() !== "")
    .every((line) => {
      const match = /<([^>]*)>.* state (\S+)/.exec(line);
      if (!match) {
        return true;
      }
      const flags = match[1].split(",");
      const state = match[2];
      if (!flags.includes("UP")) {
        return state === "DOWN";
      }
      if (flags.includes("LOWER_UP")) {
        return state === "UP" || state === "UNKNOWN";
      }
      return state !== "UP";
    });
}

function sleep(milliseconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
}

export const GUARD_STATUS = 97;
/** Runs first in every sandbox command: `sh -c GUARD guard <net> <mnt> <command...>` refuses (exit 97) unless it runs in those namespaces. */
export const GUARD = `if [ "$(readlink /proc/self/ns/net)" != "$1" ] || [ "$(readlink /proc/self/ns/mnt)" != "$2" ]; then
  echo "hostSandbox guard: not in the sandbox namespaces $1 $2; refusing to run anything" >&2
  exit ${GUARD_STATUS}
fi
shift 2
exec "$@"`;

function waitForReady(holder: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    holder.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("ready\n")) {
        resolve();
      }
    });
    holder.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    holder.on("error", reject);
    holder.on("exit", (code) => reject(new Error(`sandbox holder exited (${code}) before it was ready: ${stderr}`)));
  });
}

function checked(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error) {
    throw result.error;
  }
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  }
  return result.stdout;
}

export async function openHostSandbox(options: SandboxOptions = {}): Promise<HostSandbox> {
  const name = `${SANDBOX_PREFIX}${randomBytes(5).toString("hex")}`;
  const tmpfsDirs = [...new Set([...SANDBOX_DIRS, ...(options.extraDirs ?? [])])].filter((dir) => !SANDBOX_OWN_DIRS.includes(dir));
  const dirs = [...tmpfsDirs, ...SANDBOX_OWN_DIRS];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), SANDBOX_PREFIX));
  let holder: ChildProcess | undefined;
  let netnsAdded = false;

  const close = async (): Promise<void> => {
    if (holder && holder.exitCode === null && holder.signalCode === null) {
      const exited = new Promise<void>((resolve) => holder?.once("exit", () => resolve()));
      holder.stdin?.end();
      const timer = setTimeout(() => holder?.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (netnsAdded) {
      checked("ip", ["netns", "del", name]);
      netnsAdded = false;
    }
    // Empty on the machine's file system: its tmpfs lived only in the private mount namespace.
    fs.rmdirSync(scratch);
  };

  try {
    checked("ip", ["netns", "add", name]);
    netnsAdded = true;
    holder = spawn(
      "nsenter",
      [`--net=/run/netns/${name}`, "unshare", "--mount", "--propagation", "private", "sh", "-c", HOLDER_SCRIPT, "holder", scratch, ...tmpfsDirs.map((dir) => `tmpfs:${dir}`), ...SANDBOX_OWN_DIRS.map((dir) => `absent:${dir}`)],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    await waitForReady(holder);
    const pid = String(holder.pid);

    // What this sandbox is: the netns `ip netns` pins, and the holder's mount namespace. Every command
    // checks, inside, that it runs in exactly these before it does anything (a PID alone is not
    // enough: were the holder killed, its PID could name someone else's process).
    const netns = fs.readlinkSync(`/proc/${pid}/ns/net`);
    const mntns = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
    const pinned = `net:[${fs.statSync(`/run/netns/${name}`).ino}]`;
    if (netns !== pinned) {
      throw new Error(`sandbox holder is in ${netns}, not in its netns ${pinned}`);
    }
    if (netns === fs.readlinkSync("/proc/self/ns/net") || mntns === fs.readlinkSync("/proc/self/ns/mnt")) {
      throw new Error(`sandbox namespaces are not separate from this process's: ${netns} ${mntns}`);
    }

    const guarded = (command: string, shell = "sh") => ["--target", pid, "--mount", "--net", "--", "sh", "-c", GUARD, "guard", netns, mntns, shell, "-c", command];
    const refusedByGuard = (status: number | null, stderr: string) => status === GUARD_STATUS && stderr.includes("hostSandbox guard");
    const run: HostSandbox["run"] = (command, runOptions = {}) => {
      const result = spawnSync("nsenter", guarded(command, runOptions.shell), { input: runOptions.input ?? "", encoding: "utf8", cwd: "/" });
      if (result.error) {
        throw result.error;
      }
      if (refusedByGuard(result.status, result.stderr)) {
        throw new Error(result.stderr);
      }
      return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
    };
    const runAsync: HostSandbox["runAsync"] = (command, runOptions = {}) =>
      new Promise((resolve, reject) => {
        const child = spawn("nsenter", guarded(command, runOptions.shell), { cwd: "/", stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        // A command that exits without reading its stdin closes the pipe: not an error of the run.
        child.stdin.on("error", () => undefined);
        child.on("error", reject);
        child.on("close", (status, signal) => {
          if (refusedByGuard(status, stderr)) {
            reject(new Error(stderr));
          } else {
            resolve({ status: status ?? -1, stdout, stderr: signal === null ? stderr : `${stderr}(killed by ${signal})` });
          }
        });
        child.stdin.end(runOptions.input ?? "");
      });
    const exec: HostSandbox["exec"] = (command, input) => {
      const result = run(command, { input });
      if (result.status !== 0) {
        throw new Error(`sandbox command failed (${result.status}): ${command}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
      }
      return result.stdout;
    };

    const links = exec("ip -o link show").trim().split("\n");
    if (links.length !== 1 || !/^1: lo:/.test(links[0])) {
      throw new Error(`sandbox netns is not empty: ${links.join(" | ")}`);
    }
    exec(
      [
        // IPv6 link-local addresses appear (tentative, then not) when links go up: noise for snapshots.
        "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1",
        `sysctl -qw net.ipv4.ip_forward=${options.ipForward ?? "0"}`,
      ].join("\n"),
    );

    return {
      name,
      dirs,
      namespaces: { net: netns, mnt: mntns },
      run,
      runAsync,
      exec,
      writeFile(filePath, content, mode = "0644") {
        if (!dirs.some((dir) => filePath.startsWith(`${dir}/`))) {
          throw new Error(`${filePath} is not under a sandbox directory (${dirs.join(", ")})`);
        }
        const quoted = shellQuote(filePath);
        exec(`mkdir -p "$(dirname ${quoted})" && cat >${quoted} && chmod ${shellQuote(mode)} ${quoted}`, content);
      },
      primeFirewallTables() {
        // nat first: the order the router's create first touches them, so nft lists them alike.
        exec("iptables -w -t nat -P POSTROUTING ACCEPT\niptables -w -P FORWARD ACCEPT");
      },
      snapshot() {
        for (let attempt = 0; !linksSettled(exec("ip -o link show")); attempt++) {
          if (attempt === 50) {
            throw new Error(`links did not settle: ${exec("ip -o link show")}`);
          }
          sleep(100);
        }
        return exec(SNAPSHOT_SCRIPT(dirs));
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * A trunk `ens33` and, for each name, a veth standing in for an 802.1Q link (this machine's kernel has
 * none; the scripts adopt an existing link of the name), plus the firewall tables every host has.
 * Each stand-in has been up once and is down again, like a link a host has had for a while: the kernel
 * attaches a link's default qdisc on its first up and keeps it after down, so a never-up link shows
 * `qdisc noop` until anything brings it up.
 */
export function trunkWithVethVlans(box: HostSandbox, vlanLinks: readonly string[], { everUp = true } = {}): void {
  const lines = ["ip link add ens33 type veth peer name ovlpeer0", "ip link set ovlpeer0 up"];
  vlanLinks.forEach((name, i) => {
    lines.push(`ip link add ${shellQuote(name)} type veth peer name ovlpeer${i + 1}`, `ip link set ovlpeer${i + 1} up`);
    if (everUp) {
      lines.push(`ip link set ${shellQuote(name)} up`, `ip link set ${shellQuote(name)} down`);
    }
  });
  box.exec(lines.join("\n"));
  box.primeFirewallTables();
}

/** Opens a sandbox, runs `body` in it, and always closes it. */
export async function withHostSandbox<T>(
  options: SandboxOptions,
  body: (sandbox: HostSandbox) => Promise<T> | T,
): Promise<T> {
  const sandbox = await openHostSandbox(options);
  try {
    return await body(sandbox);
  } finally {
    await sandbox.close();
  }
}
