// Test code: reaching the local lab's hosts from the machine, the way the program's resources do —
// ssh with a key for host scripts, the docker CLI over ssh:// for Docker.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
export const LAB_DIR = path.join(PROJECT_ROOT, ".lab");
export const KNOWN_HOSTS = path.join(LAB_DIR, "known_hosts");

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** Path of a private key file (0600). */
  keyFile: string;
  /**
   * false: a connection of its own, never a shared master's (a test of host keys or
   * authentication must make ssh verify them again). Default: shared while the lab is up.
   */
  multiplex?: boolean;
}

/** Where the lab's shared ssh connections live: under the lab's run folder, gone with lab:down. */
export const SSH_MASTERS_DIR = "/run/ovl-lab/ssh";

/**
 * ssh options that share one connection per host, port and user while the lab is up: a new ssh
 * connection costs a User-Mode Linux guest an sshd exec and a key exchange (measured: 14 s against
 * 2.4 s for a session on an open connection, with the machine loaded). The scripts see the same
 * session environment (SSH_CONNECTION) either way.
 */
export function multiplexOptions(): string[] {
  if (!fs.existsSync(path.dirname(SSH_MASTERS_DIR))) {
    return [];
  }
  fs.mkdirSync(SSH_MASTERS_DIR, { recursive: true, mode: 0o700 });
  return [
    "-o", "ControlMaster=auto",
    "-o", `ControlPath=${SSH_MASTERS_DIR}/%C`,
    "-o", "ControlPersist=60",
    "-o", "ServerAliveInterval=5",
    "-o", "ServerAliveCountMax=6",
  ];
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * A command's time limit: a UML host on a loaded machine runs the program's connectivity check (six
 * probes of `docker exec ... ping`) in minutes; ssh killed at the limit exits 255.
 */
const SSH_TIMEOUT_MS = 900_000;

/** ssh's arguments to run `script` on `target`. */
function sshArgs(target: SshTarget, script: string): string[] {
  return [
    "-i", target.keyFile,
    "-p", String(target.port),
    "-o", "BatchMode=yes",
    "-o", "IdentitiesOnly=yes",
    "-o", `UserKnownHostsFile=${KNOWN_HOSTS}`,
    "-o", "StrictHostKeyChecking=yes",
    "-o", "ConnectTimeout=10",
    ...(target.multiplex === false ? ["-o", "ControlMaster=no", "-o", "ControlPath=none"] : multiplexOptions()),
    `${target.user}@${target.host}`,
    script,
  ];
}

/** Runs `script` as the remote command; `input`, if given, is its stdin (pulumi-command's `stdin`). */
export function sshRun(target: SshTarget, script: string, timeoutMs = SSH_TIMEOUT_MS, input?: string): RunResult {
  const result = spawnSync("ssh", sshArgs(target, script), { encoding: "utf8", timeout: timeoutMs, input: input ?? "" });
  return { status: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? String(result.error ?? "") };
}

/** sshRun without blocking: other steps go on while this one waits on its host. */
export function sshRunAsync(target: SshTarget, script: string, input?: string, timeoutMs = SSH_TIMEOUT_MS): Promise<RunResult> {
  return runAsync("ssh", sshArgs(target, script), { input, timeoutMs });
}

/** A child process run to its end without blocking the event loop; killed (status -1) at the time limit. */
export function runAsync(command: string, args: readonly string[], options: { input?: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", (error) => err.push(Buffer.from(String(error))));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

export function sshMust(target: SshTarget, script: string): string {
  const result = sshRun(target, script);
  if (result.status !== 0) {
    throw new Error(`ssh ${target.host} failed (${result.status}): ${result.stderr.trim()}\n${result.stdout.trim()}`);
  }
  return result.stdout;
}

/** A private key text written where ssh can use it; removed by the returned cleanup. */
export function keyFileFor(privateKey: string): { keyFile: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-e2e-key-"));
  const keyFile = path.join(dir, "id");
  fs.writeFileSync(keyFile, privateKey, { mode: 0o600 });
  return { keyFile, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The docker CLI the e2e drives the lab's engines with: the machine's own (a current CLI, which sends
 * a per-network MAC as the Docker provider does), else the lab's Docker 26 CLI, else PATH's.
 */
export const DOCKER_CLI = ["/usr/local/bin/docker", path.join(LAB_DIR, "cache", "engine", "root", "usr", "bin", "docker")].find((cli) => fs.existsSync(cli)) ?? "docker";

/**
 * The docker CLI against `ssh://` hosts with the provider's declared sshOpts: the CLI runs `ssh`
 * from PATH, so a wrapper first on PATH adds the options, as the Pulumi provider does.
 */
export class DockerOverSsh {
  /** The folder of the `ssh` wrapper, first on the docker CLI's PATH. */
  readonly pathDir: string;

  /** `multiplex: false`: ssh connects afresh (verifies the host key, authenticates) every time. */
  constructor(readonly hostUrl: string, sshOpts: readonly string[], options: { multiplex?: boolean } = {}) {
    this.pathDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-e2e-ssh-"));
    const shared = options.multiplex === false ? ["-o", "ControlMaster=no", "-o", "ControlPath=none"] : multiplexOptions();
    const quoted = [...shared, ...sshOpts].map((o) => `'${o.replace(/'/g, `'\\''`)}'`).join(" ");
    // The ssh it runs gets PATH without this folder: an `ssh` the options name (a bastion's
    // ProxyCommand) is the real one, as under the provider, never this wrapper again.
    const realPath = `'${(process.env.PATH ?? "/usr/bin:/bin").replace(/'/g, `'\\''`)}'`;
    fs.writeFileSync(path.join(this.pathDir, "ssh"), `#!/bin/sh\nPATH=${realPath}\nexport PATH\nexec /usr/bin/ssh ${quoted} "$@"\n`, { mode: 0o755 });
  }

  run(args: readonly string[], timeoutMs = SSH_TIMEOUT_MS): RunResult {
    const result = spawnSync(DOCKER_CLI, ["-H", this.hostUrl, ...args], { encoding: "utf8", timeout: timeoutMs, env: this.env() });
    return { status: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? String(result.error ?? "") };
  }

  must(args: readonly string[]): string {
    return this.checked(args, this.run(args));
  }

  runAsync(args: readonly string[], timeoutMs = SSH_TIMEOUT_MS): Promise<RunResult> {
    return runAsync(DOCKER_CLI, ["-H", this.hostUrl, ...args], { timeoutMs, env: this.env() });
  }

  async mustAsync(args: readonly string[]): Promise<string> {
    return this.checked(args, await this.runAsync(args));
  }

  private checked(args: readonly string[], result: RunResult): string {
    if (result.status !== 0) {
      throw new Error(`docker -H ${this.hostUrl} ${args.join(" ")} failed (${result.status}): ${result.stderr.trim()}`);
    }
    return result.stdout.trim();
  }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, PATH: `${this.pathDir}:${process.env.PATH ?? "/usr/bin:/bin"}` };
  }

  dispose(): void {
    fs.rmSync(this.pathDir, { recursive: true, force: true });
  }
}

/** Runs `bash lab/lab.sh <verb> [host]` and returns its output and exit status. */
export function labCommand(verb: "up" | "down" | "status" | "reboot", host?: string): RunResult {
  const result = spawnSync("bash", [path.join(PROJECT_ROOT, "lab", "lab.sh"), verb, ...(host === undefined ? [] : [host])], {
    encoding: "utf8",
    cwd: PROJECT_ROOT,
    // UML guests boot in seconds on an idle machine, minutes on a loaded one
    timeout: 900_000,
  });
  return { status: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}
