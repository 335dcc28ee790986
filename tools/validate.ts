// Checks a Pulumi.<stack>.yaml against the topology rules without Pulumi: `npm run validate -- Pulumi.dev.yaml`.

import * as fs from "fs";
import { StackFileError, readStackConfig, type StackConfig } from "../config/stackFile";
import { type Topology, formatProblems, parseTopology } from "../topology";

const USAGE = "usage: npm run validate -- Pulumi.<stack>.yaml";

export interface ValidationReport {
  /** 0 valid, 1 problems in the file, 2 the file could not be checked. */
  readonly exitCode: 0 | 1 | 2;
  /** What to print: on stdout when exitCode is 0, on stderr otherwise. */
  readonly output: string;
}

export function validateStackFile(path: string): ValidationReport {
  const loaded = loadStackTopology(path);
  if (!loaded.ok) return loaded.report;
  const { hosts, vlans } = loaded.topology;
  const containers = hosts.reduce((total, host) => total + host.containers.length, 0);
  return {
    exitCode: 0,
    output: `${path}: ok (${count(hosts.length, "host")}, ${count(vlans.length, "vlan")}, ${count(containers, "container")})`,
  };
}

/** The stack file's validated topology, or the report validate prints for it (exit 1 or 2). */
export function loadStackTopology(
  path: string,
): { readonly ok: true; readonly topology: Topology } | { readonly ok: false; readonly report: ValidationReport } {
  if (!fs.existsSync(path)) return { ok: false, report: { exitCode: 2, output: `${path}: no such file` } };

  let stack: StackConfig;
  try {
    stack = readStackConfig(path);
  } catch (error) {
    if (!(error instanceof StackFileError)) throw error;
    if (error.reason === "unreadable") return { ok: false, report: { exitCode: 2, output: error.message } };
    return { ok: false, report: { exitCode: 1, output: `${error.message}\n${path}: ${count(1, "problem")}` } };
  }

  const result = parseTopology(stack.raw);
  // Numbers the Pulumi CLI would read differently come first: they may explain the other problems.
  const problems = [...stack.literalProblems, ...(result.ok ? [] : result.problems)];
  if (!result.ok || problems.length > 0) {
    const output = `${formatProblems(problems)}\n${path}: ${count(problems.length, "problem")}`;
    return { ok: false, report: { exitCode: 1, output } };
  }
  return { ok: true, topology: result.topology };
}

/** Runs the command line: one stack file argument. */
export function validateCommandLine(args: readonly string[]): ValidationReport {
  if (args.length === 1 && (args[0] === "-h" || args[0] === "--help")) return { exitCode: 0, output: USAGE };
  if (args.length !== 1 || args[0] === "" || args[0].startsWith("-")) return { exitCode: 2, output: USAGE };
  return validateStackFile(args[0]);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

if (require.main === module) {
  const report = validateCommandLine(process.argv.slice(2));
  (report.exitCode === 0 ? process.stdout : process.stderr).write(`${report.output}\n`);
  process.exitCode = report.exitCode;
}
