// The drift report: `npm run doctor -- -s <stack>` reads every host over SSH at once (the stack's key
// file, or your ssh-agent; never the stack's passphrase), compares what is there with the topology and
// prints a table per host, or JSON with --json. It changes nothing. Exit: 0 no drift, 1 drift, 2 usage
// or config error, 3 a host unreachable (3 wins over 1; drift on the hosts it read is still reported).

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { dockerSshOptions } from "../components/overlayHost";
import { renderConnectivityCheck } from "../components/scripts/connectivityCheck";
import { projectFolderOf } from "../config/stackLocation";
import { type CleanupStep, cleanupPlan, describePlan, parseInventory, renderInventoryScript } from "../doctor/cleanup";
import { expectedHostState, type KnownMacs } from "../doctor/expected";
import { parseFacts, renderFactsScript } from "../doctor/facts";
import { repairCommands } from "../doctor/repair";
import { compare, type Finding, pingFindings, renderTable } from "../doctor/report";
import { type Host, type Topology } from "../topology";
import { connectivityProbes } from "../topology/probes";
import { loadStackTopology, stackFileArgument } from "./validate";

const USAGE = [
  "usage: npm run doctor -- (-s <stack> | Pulumi.<stack>.yaml) [--host <name>] [--json] [--outputs <file>]",
  "       npm run doctor -- (-s <stack> | Pulumi.<stack>.yaml) [--host <name>] --cleanup [--yes]",
  "",
  "Reads every host of the stack over SSH, all at once, and compares what is there with the stack.",
  "It changes nothing (except --cleanup, which removes what the program made, found by its marks).",
  "",
  "  -s, --stack <stack>  the stack's file as Pulumi finds it (Pulumi.<stack>.yaml by the nearest Pulumi.yaml)",
  "  --host <name>        only this host",
  "  --json               the report as JSON on stdout: per host reachable or not, each item with",
  "                       expected, found and differs, and the repair lines",
  "  --outputs <file>     `pulumi stack output --json` saved in a file: compare each container's MAC too",
  "  --cleanup [--yes]    remove what the program made, without Pulumi state (--yes: without asking)",
  "  -h, --help           this text",
  "",
  "exit: 0 no drift, 1 drift, 2 usage or config error, 3 one or more hosts unreachable (wins over 1)",
].join("\n");

/** The doctor's exit codes. */
export const EXIT = { clean: 0, drift: 1, usage: 2, unreachable: 3 } as const;

export interface DoctorOptions {
  readonly stackFile: string;
  readonly outputsFile?: string;
  /** Only this host (by name). */
  readonly host?: string;
  /** The report as JSON instead of tables. */
  readonly json?: boolean;
  /** Remove what the program made, found by its marks, instead of reporting drift. */
  readonly cleanup?: boolean;
  /** With cleanup: do not ask before removing. */
  readonly yes?: boolean;
}

/** The options, `{ help: true }` for -h/--help, or the usage error to print (exit 2). */
export function parseDoctorArgs(args: readonly string[], cwd = process.cwd()): DoctorOptions | { readonly help: true } | string {
  const stackArgs: string[] = [];
  let outputsFile: string | undefined;
  let host: string | undefined;
  let json = false;
  let cleanup = false;
  let yes = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h" || arg === "--help") return { help: true };
    if (arg === "--outputs" || arg === "--host") {
      const value = args[++i];
      if (value === undefined || value === "" || value.startsWith("-")) return `${arg} needs a ${arg === "--host" ? "host name" : "file"}\n${USAGE}`;
      if (arg === "--host") host = value;
      else outputsFile = value;
    } else if (arg === "-s" || arg === "--stack") {
      stackArgs.push(arg, args[++i] ?? "");
    } else if (arg === "--json") {
      json = true;
    } else if (arg === "--cleanup") {
      cleanup = true;
    } else if (arg === "--yes") {
      yes = true;
    } else if (arg.startsWith("--stack=") || !arg.startsWith("-")) {
      stackArgs.push(arg);
    } else {
      return `unknown option ${arg}\n${USAGE}`;
    }
  }
  if (yes && !cleanup) return `--yes goes with --cleanup\n${USAGE}`;
  if (cleanup && outputsFile !== undefined) return `--outputs does not go with --cleanup\n${USAGE}`;
  if (cleanup && json) return `--json does not go with --cleanup\n${USAGE}`;
  const stack = stackFileArgument(stackArgs, cwd);
  if (stack === undefined) return USAGE;
  if ("error" in stack) return stack.error;
  return {
    stackFile: stack.file,
    ...(outputsFile === undefined ? {} : { outputsFile }),
    ...(host === undefined ? {} : { host }),
    ...(json ? { json } : {}),
    ...(cleanup ? { cleanup, yes } : {}),
  };
}

/** Container MACs from `pulumi stack output --json`: `hosts.<host>.containers[].{name, mac}`. */
export function macsFromOutputs(text: string, file: string): KnownMacs {
  let outputs: unknown;
  try {
    outputs = JSON.parse(text);
  } catch (error) {
    throw new Error(`--outputs ${file}: not JSON (${(error as Error).message})`);
  }
  const macs = new Map<string, string>();
  const hosts = (outputs as { hosts?: Record<string, { containers?: { name?: unknown; mac?: unknown }[] }> }).hosts ?? {};
  for (const host of Object.values(hosts)) {
    for (const container of host.containers ?? []) {
      if (typeof container.name === "string" && typeof container.mac === "string") {
        macs.set(container.name, container.mac);
      }
    }
  }
  return macs;
}

export interface ShellResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One script to run on one host. */
export interface HostJob {
  readonly host: Host;
  readonly script: string;
}

export interface HostShell {
  /** Runs script text on the host; its exit status and output (status 255: SSH itself failed). */
  run(host: Host, script: string): ShellResult;
  /** Runs each job on its host at the same time; results in the jobs' order. Without it, one after another. */
  runEach?(jobs: readonly HostJob[]): ShellResult[];
}

const SCRIPT_TIMEOUT_MS = 120_000;

/**
 * The stack's own SSH settings, with the ssh client of this machine (`ssh`: another client, for
 * tests). With `progress`, a line on stderr as each host answers, while the others are still read.
 */
export function sshShell(topology: Topology, baseDir: string, options: { readonly ssh?: string; readonly progress?: boolean } = {}): HostShell {
  const sshOptions = [...dockerSshOptions(topology.ssh, baseDir), "-o", "ConnectTimeout=10"];
  const command = (host: Host) => ({
    command: options.ssh ?? "ssh",
    args: [...sshOptions, "-p", String(host.port), `${topology.ssh.user}@${host.address}`, "sh", "-s"],
  });
  return {
    run(host, script) {
      const { command: file, args } = command(host);
      const result = spawnSync(file, args, { input: script, encoding: "utf8", timeout: SCRIPT_TIMEOUT_MS });
      return { status: result.status ?? 255, stdout: result.stdout ?? "", stderr: result.stderr ?? String(result.error ?? "") };
    },
    runEach(jobs) {
      const processes = jobs.map((job) => ({ ...command(job.host), input: job.script, label: job.host.name }));
      return runAtOnce(processes, SCRIPT_TIMEOUT_MS, options.progress === true);
    },
  };
}

interface ProcessJob {
  readonly command: string;
  readonly args: readonly string[];
  readonly input: string;
  readonly label: string;
}

/**
 * Runs every process at the same time and waits for all: the doctor's API stays synchronous (the
 * e2e and scripts call it so), and a Node child does the waiting. Each process is killed after
 * `timeoutMs`; `progress` writes one stderr line per process as it ends.
 */
export function runAtOnce(jobs: readonly ProcessJob[], timeoutMs: number, progress: boolean): ShellResult[] {
  if (jobs.length === 0) return [];
  const result = spawnSync(process.execPath, ["-e", `(${runnerMain.toString()})()`], {
    input: JSON.stringify({ jobs, timeoutMs, progress }),
    encoding: "utf8",
    maxBuffer: 512 << 20,
    stdio: ["pipe", "pipe", progress ? "inherit" : "pipe"],
    timeout: timeoutMs + 30_000,
  });
  try {
    return JSON.parse(result.stdout) as ShellResult[];
  } catch {
    const why = `the parallel runner failed (exit ${result.status ?? result.signal}): ${String(result.stderr ?? result.error ?? "").trim()}`;
    return jobs.map(() => ({ status: 255, stdout: "", stderr: why }));
  }
}

/** The runner's whole program, run by `node -e`: no imports from this file reach it. */
function runnerMain(): void {
  const { spawn } = require("node:child_process") as typeof import("node:child_process");
  const fsModule = require("node:fs") as typeof import("node:fs");
  const request = JSON.parse(fsModule.readFileSync(0, "utf8")) as { jobs: ProcessJob[]; timeoutMs: number; progress: boolean };
  const results: ShellResult[] = new Array(request.jobs.length);
  let left = request.jobs.length;
  request.jobs.forEach((job, index) => {
    const started = Date.now();
    let stdout = "";
    let stderr = "";
    let finished = false;
    const child = spawn(job.command, job.args, { stdio: ["pipe", "pipe", "pipe"] });
    const finish = (status: number, extra: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      results[index] = { status, stdout, stderr: stderr + extra };
      if (request.progress) {
        process.stderr.write(`[doctor] ${job.label}: finished (exit ${status}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      }
      // A killed process's own children may hold its pipes open: do not wait for them.
      if (--left === 0) process.stdout.write(JSON.stringify(results), () => process.exit(0));
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(255, `no answer within ${request.timeoutMs / 1000} s: killed`);
    }, request.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", (error: Error) => finish(255, error.message));
    child.on("close", (code: number | null, signal: string | null) => finish(code ?? 255, signal === null ? "" : `killed by ${signal}`));
    child.stdin.on("error", () => undefined);
    child.stdin.end(job.input);
  });
}

function runJobs(shell: HostShell, jobs: readonly HostJob[]): ShellResult[] {
  if (jobs.length === 0) return [];
  return shell.runEach?.(jobs) ?? jobs.map((job) => shell.run(job.host, job.script));
}

/** What the doctor learnt about one host. */
export interface HostReport {
  readonly host: Host;
  /** Why the host could not be read (SSH failed, or the facts script did); absent when it was read. */
  readonly unreachable?: string;
  readonly findings: readonly Finding[];
}

/**
 * Every host read at once: first each host's facts, then, on the docker hosts that answered, the
 * program's own connectivity check (its pings, one finding per probe).
 */
export function examineHosts(topology: Topology, hosts: readonly Host[], shell: HostShell, macs: KnownMacs): HostReport[] {
  const expectations = hosts.map((host) => expectedHostState(topology, host, macs));
  const facts = runJobs(shell, hosts.map((host, index) => ({ host, script: renderFactsScript(expectations[index]) })));
  const read = hosts.flatMap((host, index) => (facts[index].status === 0 && host.containers.length > 0 ? [host] : []));
  const probes = new Map(read.map((host) => [host.name, connectivityProbes(topology, host.name)]));
  const checks = runJobs(shell, read.map((host) => ({ host, script: renderConnectivityCheck({ probes: probes.get(host.name)! }) })));
  const checkOf = new Map(read.map((host, index) => [host.name, checks[index]]));
  return hosts.map((host, index) => {
    if (facts[index].status !== 0) return { host, unreachable: `exit ${facts[index].status}: ${lastLine(facts[index].stderr)}`, findings: [] };
    const findings = compare(expectations[index], parseFacts(facts[index].stdout));
    const check = checkOf.get(host.name);
    return { host, findings: check === undefined ? findings : [...findings, ...checkFindings(check, probes.get(host.name)!)] };
  });
}

/** One finding per probe of the connectivity check; a check that could not run at all is a difference too, never a silence. */
function checkFindings(check: ShellResult, probes: ReturnType<typeof connectivityProbes>): Finding[] {
  const pings = pingFindings(check.stdout, probes);
  if (pings.length > 0 || probes.length === 0) return pings;
  return [{ item: "connectivity check", expected: `${probes.length} probes run`, found: `exit ${check.status}: ${lastLine(check.stderr)}`, ok: false }];
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop() ?? "";
}

/** The hosts to read: all, or the one --host names (else the usage error naming the valid ones). */
function selectHosts(topology: Topology, options: DoctorOptions): readonly Host[] | string {
  if (options.host === undefined) return topology.hosts;
  const host = topology.hosts.find((candidate) => candidate.name === options.host);
  return host !== undefined ? [host] : `--host ${options.host}: no such host in ${options.stackFile} (hosts: ${topology.hosts.map((h) => h.name).join(", ")})`;
}

export interface DoctorResult {
  readonly exitCode: number;
  /** The tables and summary, or the JSON document with --json; on stdout. */
  readonly report: string;
}

/** A usage or config error: as text, or inside the JSON document with --json. */
function failure(options: DoctorOptions, message: string): DoctorResult {
  const report = options.json ? JSON.stringify({ stackFile: options.stackFile, exitCode: EXIT.usage, error: message }, null, 2) : message;
  return { exitCode: EXIT.usage, report };
}

export function runDoctor(options: DoctorOptions, shellFor: (topology: Topology) => HostShell, log: (line: string) => void): DoctorResult {
  const loaded = loadStackTopology(options.stackFile);
  if (!loaded.ok) return failure(options, loaded.report.output);
  const topology = loaded.topology;
  const hosts = selectHosts(topology, options);
  if (typeof hosts === "string") return failure(options, hosts);
  let macs: KnownMacs = new Map<string, string>();
  if (options.outputsFile !== undefined) {
    try {
      macs = macsFromOutputs(fs.readFileSync(options.outputsFile, "utf8"), options.outputsFile);
    } catch (error) {
      const message = (error as Error).message;
      return failure(options, message.startsWith("--outputs") ? message : `--outputs ${options.outputsFile}: ${message}`);
    }
  }
  if (topology.ssh.privateKeyFromConfig) log("[doctor] the stack's key is a secret: using your ssh-agent");
  hosts.forEach((host, index) => log(`[doctor] ${index + 1}/${hosts.length} ${host.name} (${host.address}): reading`));
  const reports = examineHosts(topology, hosts, shellFor(topology), macs);
  for (const { host, unreachable, findings } of reports) {
    log(unreachable !== undefined ? `[doctor] ${host.name}: unreachable (${unreachable})` : `[doctor] ${host.name}: ${findings.length} items, ${findings.filter((f) => !f.ok).length} differ`);
  }

  const read = reports.filter((report) => report.unreachable === undefined);
  const unreachable = reports.filter((report) => report.unreachable !== undefined);
  const differences = read.reduce((total, report) => total + report.findings.filter((f) => !f.ok).length, 0);
  const exitCode = unreachable.length > 0 ? EXIT.unreachable : differences > 0 ? EXIT.drift : EXIT.clean;
  // Only what was read gets repair advice: an unreachable host needs SSH first, not a reapply.
  const repair = repairCommands(options.stackFile, topology.reapply, read.flatMap((report) => report.findings));
  const summary = [
    ...(unreachable.length > 0
      ? [`doctor: ${unreachable.length} host(s) unreachable, not compared: ${unreachable.map((report) => report.host.name).join(", ")}`]
      : []),
    differences > 0
      ? `doctor: ${differences} item(s) differ from the stack${unreachable.length > 0 ? " on the hosts read" : ""}`
      : unreachable.length > 0
        ? read.length > 0
          ? "doctor: every host read matches the stack"
          : "doctor: no host could be read"
        : "doctor: every host matches the stack",
  ].join("\n");

  if (options.json) {
    const document = {
      stackFile: options.stackFile,
      exitCode,
      hosts: reports.map(({ host, unreachable: why, findings }) => ({
        name: host.name,
        role: host.role,
        address: host.address,
        reachable: why === undefined,
        ...(why === undefined ? {} : { error: why }),
        differences: findings.filter((f) => !f.ok).length,
        items: findings.map((f) => ({ item: f.item, expected: f.expected, found: f.found, differs: !f.ok })),
      })),
      differences,
      unreachable: unreachable.map((report) => report.host.name),
      summary,
      repair: repair.slice(1).map((line) => line.trim()),
    };
    return { exitCode, report: JSON.stringify(document, null, 2) };
  }
  const sections = reports.map(({ host, unreachable: why, findings }) => {
    const title = `## ${host.name} (${host.role}, ${host.address})`;
    return why === undefined ? renderTable(title, findings) : `${title}\nunreachable: ${why}\nnot compared: fix SSH to ${host.name} (address, port, key, known_hosts) and run the doctor again`;
  });
  return { exitCode, report: [...sections, summary, ...(repair.length > 0 ? [repair.join("\n")] : [])].join("\n\n") };
}

/**
 * Cleanup without state: every host's marks listed (all hosts at once), the whole plan printed, one
 * question (unless --yes), then each step run in order; a failed step is reported and the next still runs.
 */
export async function runCleanup(
  options: DoctorOptions,
  shellFor: (topology: Topology) => HostShell,
  log: (line: string) => void,
  confirm: (question: string) => Promise<boolean>,
): Promise<DoctorResult> {
  const loaded = loadStackTopology(options.stackFile);
  if (!loaded.ok) return failure(options, loaded.report.output);
  const topology = loaded.topology;
  const hosts = selectHosts(topology, options);
  if (typeof hosts === "string") return failure(options, hosts);
  const shell = shellFor(topology);
  hosts.forEach((host, index) => log(`[cleanup] ${index + 1}/${hosts.length} ${host.name} (${host.address}): listing what macvlan-overlay made`));
  const listed = runJobs(shell, hosts.map((host) => ({ host, script: renderInventoryScript() })));
  const unlisted = hosts.flatMap((host, index) => (listed[index].status === 0 ? [] : [`${host.name}: cannot list (exit ${listed[index].status}: ${lastLine(listed[index].stderr)})`]));
  if (unlisted.length > 0) return { exitCode: EXIT.unreachable, report: `${unlisted.join("\n")}\nnothing was changed on any host` };
  const plans: { host: Host; steps: CleanupStep[] }[] = hosts.map((host, index) => ({
    host,
    steps: cleanupPlan(parseInventory(listed[index].stdout), topology.persistence),
  }));
  const plan = plans.map(({ host, steps }) => describePlan(host.name, steps)).join("\n");
  const total = plans.reduce((sum, p) => sum + p.steps.length, 0);
  if (total === 0) return { exitCode: 0, report: `${plan}\ncleanup: nothing to remove` };
  log(plan);
  if (!options.yes && !(await confirm(`remove these (${total} step(s) on ${plans.filter((p) => p.steps.length > 0).length} host(s))? [y/N] `))) {
    return { exitCode: 1, report: "cleanup: not confirmed; nothing was changed" };
  }
  const failed: string[] = [];
  for (const { host, steps } of plans) {
    for (const step of steps) {
      const result = shell.run(host, step.script);
      log(`[cleanup] ${host.name}: ${step.description}: ${result.status === 0 ? "done" : `FAILED (exit ${result.status}: ${lastLine(result.stderr)})`}`);
      for (const line of result.stdout.trim().split("\n").filter((l) => l !== "")) log(`    ${line}`);
      if (result.status !== 0) failed.push(`${host.name}: ${step.description}`);
    }
  }
  return failed.length === 0
    ? { exitCode: 0, report: `cleanup: ${total} step(s) done` }
    : { exitCode: 1, report: [`cleanup: ${failed.length} of ${total} step(s) failed:`, ...failed.map((f) => `  ${f}`)].join("\n") };
}

async function askOnTerminal(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    process.stderr.write(`${question}\nno terminal to ask on: use --yes\n`);
    return false;
  }
  const readline = await import("node:readline/promises");
  const prompt = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}

if (require.main === module) {
  const options = parseDoctorArgs(process.argv.slice(2));
  if (typeof options === "string") {
    process.stderr.write(`${options}\n`);
    process.exitCode = EXIT.usage;
  } else if ("help" in options) {
    process.stdout.write(`${USAGE}\n`);
  } else {
    const baseDir = projectFolderOf(options.stackFile);
    const shellFor = (topology: Topology) => sshShell(topology, baseDir, { progress: true });
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const done = (result: DoctorResult) => {
      process.stdout.write(`${result.report}\n`);
      process.exitCode = result.exitCode;
    };
    if (options.cleanup) {
      void runCleanup(options, shellFor, log, askOnTerminal).then(done);
    } else {
      done(runDoctor(options, shellFor, log));
    }
  }
}
