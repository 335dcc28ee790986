// The drift report: `npm run doctor -- Pulumi.<stack>.yaml [--outputs <file>]` reads every host over
// SSH (the stack's key file, or your ssh-agent; never the stack's passphrase), compares what is there
// with the topology, prints a table per host and exits 1 on any difference. It changes nothing.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { dockerSshOptions } from "../components/overlayHost";
import { renderConnectivityCheck } from "../components/scripts/connectivityCheck";
import { type CleanupStep, cleanupPlan, describePlan, parseInventory, renderInventoryScript } from "../doctor/cleanup";
import { expectedHostState, type KnownMacs } from "../doctor/expected";
import { parseFacts, renderFactsScript } from "../doctor/facts";
import { repairCommands } from "../doctor/repair";
import { compare, type Finding, pingFindings, renderTable } from "../doctor/report";
import { type Host, type Topology } from "../topology";
import { connectivityProbes } from "../topology/probes";
import { loadStackTopology } from "./validate";

const USAGE = "usage: npm run doctor -- Pulumi.<stack>.yaml [--outputs <pulumi stack output --json file>] | --cleanup [--yes]";

export interface DoctorOptions {
  readonly stackFile: string;
  readonly outputsFile?: string;
  /** Remove what the program made, found by its marks, instead of reporting drift. */
  readonly cleanup?: boolean;
  /** With cleanup: do not ask before removing. */
  readonly yes?: boolean;
}

export function parseDoctorArgs(args: readonly string[]): DoctorOptions | string {
  const positional: string[] = [];
  let outputsFile: string | undefined;
  let cleanup = false;
  let yes = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--outputs") {
      outputsFile = args[++i];
      if (outputsFile === undefined) return `--outputs needs a file\n${USAGE}`;
    } else if (args[i] === "--cleanup") {
      cleanup = true;
    } else if (args[i] === "--yes") {
      yes = true;
    } else if (args[i].startsWith("-")) {
      return `unknown option ${args[i]}\n${USAGE}`;
    } else {
      positional.push(args[i]);
    }
  }
  if (yes && !cleanup) return `--yes goes with --cleanup\n${USAGE}`;
  if (cleanup && outputsFile !== undefined) return `--outputs does not go with --cleanup\n${USAGE}`;
  if (positional.length !== 1) return USAGE;
  return { stackFile: positional[0], ...(outputsFile === undefined ? {} : { outputsFile }), ...(cleanup ? { cleanup, yes } : {}) };
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

export interface HostShell {
  /** Runs script text on the host as root; returns stdout, or throws with the reason. */
  run(host: Host, script: string): { status: number; stdout: string; stderr: string };
}

/** The stack's own SSH settings, with the ssh client of this machine. */
export function sshShell(topology: Topology, baseDir: string): HostShell {
  const options = [...dockerSshOptions(topology.ssh, baseDir), "-o", "ConnectTimeout=10"];
  return {
    run(host, script) {
      const result = spawnSync("ssh", [...options, "-p", String(host.port), `${topology.ssh.user}@${host.address}`, "sh", "-s"], {
        input: script,
        encoding: "utf8",
        timeout: 120_000,
      });
      return { status: result.status ?? 255, stdout: result.stdout ?? "", stderr: result.stderr ?? String(result.error ?? "") };
    },
  };
}

/** Every finding for one host: its state items and, on docker hosts, the pings from its containers. */
export function examineHost(topology: Topology, host: Host, shell: HostShell, macs: KnownMacs): Finding[] {
  const expectations = expectedHostState(topology, host, macs);
  const facts = shell.run(host, renderFactsScript(expectations));
  if (facts.status !== 0) {
    return [{ item: "ssh", expected: "reachable, facts read", found: `exit ${facts.status}: ${lastLine(facts.stderr)}`, ok: false }];
  }
  const findings = compare(expectations, parseFacts(facts.stdout));
  if (host.containers.length > 0) {
    const probes = connectivityProbes(topology, host.name);
    const check = shell.run(host, renderConnectivityCheck({ probes }));
    const pings = pingFindings(check.stdout, probes);
    findings.push(...pings);
    // A check that could not run at all reports no probe: that is a difference too, never a silence.
    if (pings.length === 0 && probes.length > 0) {
      findings.push({ item: "connectivity check", expected: `${probes.length} probes run`, found: `exit ${check.status}: ${lastLine(check.stderr)}`, ok: false });
    }
  }
  return findings;
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop() ?? "";
}

export function runDoctor(options: DoctorOptions, shellFor: (topology: Topology) => HostShell, log: (line: string) => void): { exitCode: number; report: string } {
  const loaded = loadStackTopology(options.stackFile);
  if (!loaded.ok) return { exitCode: loaded.report.exitCode, report: loaded.report.output };
  const topology = loaded.topology;
  const macs = options.outputsFile === undefined ? new Map<string, string>() : macsFromOutputs(fs.readFileSync(options.outputsFile, "utf8"), options.outputsFile);
  if (topology.ssh.privateKeyFromConfig) log("[doctor] the stack's key is a secret: using your ssh-agent");
  const shell = shellFor(topology);
  const tables: string[] = [];
  const all: Finding[] = [];
  let differences = 0;
  topology.hosts.forEach((host, index) => {
    log(`[doctor] ${index + 1}/${topology.hosts.length} ${host.name} (${host.address}): reading`);
    const findings = examineHost(topology, host, shell, macs);
    const bad = findings.filter((f) => !f.ok).length;
    differences += bad;
    all.push(...findings);
    log(`[doctor] ${host.name}: ${findings.length} items, ${bad} differ`);
    tables.push(renderTable(`## ${host.name} (${host.role}, ${host.address})`, findings));
  });
  const summary = differences === 0 ? "doctor: every host matches the stack" : `doctor: ${differences} item(s) differ from the stack`;
  const repair = repairCommands(options.stackFile, topology.reapply, all);
  return { exitCode: differences === 0 ? 0 : 1, report: [...tables, summary, ...(repair.length > 0 ? [repair.join("\n")] : [])].join("\n\n") };
}

/**
 * Cleanup without state: every host's marks listed, the whole plan printed, one question (unless
 * --yes), then each step run in order; a failed step is reported and the next still runs.
 */
export async function runCleanup(
  options: DoctorOptions,
  shellFor: (topology: Topology) => HostShell,
  log: (line: string) => void,
  confirm: (question: string) => Promise<boolean>,
): Promise<{ exitCode: number; report: string }> {
  const loaded = loadStackTopology(options.stackFile);
  if (!loaded.ok) return { exitCode: loaded.report.exitCode, report: loaded.report.output };
  const topology = loaded.topology;
  const shell = shellFor(topology);
  const plans: { host: Host; steps: CleanupStep[] }[] = [];
  for (const [index, host] of topology.hosts.entries()) {
    log(`[cleanup] ${index + 1}/${topology.hosts.length} ${host.name} (${host.address}): listing what macvlan-overlay made`);
    const listed = shell.run(host, renderInventoryScript());
    if (listed.status !== 0) {
      return { exitCode: 1, report: `${host.name}: cannot list (exit ${listed.status}: ${lastLine(listed.stderr)}); nothing was changed on any host` };
    }
    plans.push({ host, steps: cleanupPlan(parseInventory(listed.stdout), topology.persistence) });
  }
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
    process.exitCode = 2;
  } else {
    const baseDir = path.dirname(path.resolve(options.stackFile));
    const shellFor = (topology: Topology) => sshShell(topology, baseDir);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const done = (result: { exitCode: number; report: string }) => {
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
