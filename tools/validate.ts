// `pulumi up`'s preflight without Pulumi: `npm run validate -- -s <stack>` (or a stack file) runs every
// check the program runs before it registers a resource (config/preflight.ts, the same code), on the
// stack file Pulumi would read, and prints every problem at once.

import * as fs from "fs";
import { checkConfig, checkFiles, configWarnings } from "../config/preflight";
import { StackFileError, readStackConfig, type StackConfig } from "../config/stackFile";
import { projectFolderOf, stackFileFor } from "../config/stackLocation";
import { type Topology, formatProblems, type ConfigProblem } from "../topology";
import { configFields } from "../topology/schema";

const USAGE = [
  "usage: npm run validate -- -s <stack>",
  "       npm run validate -- Pulumi.<stack>.yaml",
  "",
  "Runs every check `pulumi up` runs before it creates anything: the config, the key file, each host's",
  "pinned SSH key (its hostKey or its sshKnownHostsFile entry, and the bastion's).",
  "",
  "  -s, --stack <stack>  the stack's file as Pulumi finds it: Pulumi.<stack>.yaml beside the nearest",
  "                       Pulumi.yaml at or above this folder (in its stackConfigDir, if set)",
  "  -h, --help           this text",
  "",
  "exit: 0 valid (warnings on stderr), 1 problems, 2 usage error or a stack file that cannot be read",
].join("\n");

export interface ValidationReport {
  /** 0 valid, 1 problems in the file, 2 the file could not be checked (or a usage error). */
  readonly exitCode: 0 | 1 | 2;
  /** The verdict: on stdout when exitCode is 0, on stderr otherwise. */
  readonly output: string;
  /** Warnings and what could not be checked here, one line each, on stderr before the verdict. */
  readonly notes: readonly string[];
}

/** Every problem the program would stop at, and what validate could not check. */
export interface Validation {
  readonly file: string;
  /** Problems, one line each, worded as `pulumi up` words them. */
  readonly problems: readonly string[];
  readonly notes: readonly string[];
  /** The topology, when the config passed (even if a file check then failed). */
  readonly topology?: Topology;
}

/**
 * The stack file checked as the program checks its config: `baseDir` is where relative key and
 * known_hosts paths resolve (the program's working folder), by default the project folder.
 */
export function validateStack(stack: StackConfig, file: string, baseDir = projectFolderOf(file)): Validation {
  const config = checkConfig(stack.raw, stack.literalProblems);
  const imported = fromEnvironments(stack, config.ok ? [] : config.problems);
  const notes = imported.notes;
  if (!config.ok) return { file, problems: imported.problems.map((problem) => formatProblems([problem])), notes };
  const files = checkFiles(config.topology, baseDir);
  const warnings = configWarnings(config.topology).map((warning) => `warning: ${warning}`);
  return { file, problems: files.ok ? [] : files.errors, notes: [...notes, ...warnings], topology: config.topology };
}

/**
 * With ESC environments imported, a top-level key the file leaves out may come from them: validate
 * cannot read them, so a problem at such a key, or naming it, is a note, not a problem.
 */
function fromEnvironments(stack: StackConfig, problems: readonly ConfigProblem[]): { problems: ConfigProblem[]; notes: string[] } {
  if (stack.environments.length === 0) return { problems: [...problems], notes: [] };
  const source = `ESC environment${stack.environments.length === 1 ? "" : "s"} ${stack.environments.join(", ")}`;
  const absent = Object.keys(configFields).filter((key) => !(key in stack.raw));
  const names = (problem: ConfigProblem, key: string) =>
    problem.path === key || problem.path.startsWith(`${key}.`) || new RegExp(`\\b${key}\\b`).test(problem.message);
  const leftToEsc = new Set<string>();
  const kept = problems.filter((problem) => {
    const keys = absent.filter((key) => names(problem, key));
    keys.forEach((key) => leftToEsc.add(key));
    return keys.length === 0;
  });
  return {
    problems: kept,
    notes: [
      `note: the stack imports ${source}: validate cannot read ESC, so the keys it sets are checked by pulumi up, not here`,
      ...[...leftToEsc].map((key) => `note: ${key}: not in the stack file: it may come from ${source}, not checked here`),
    ],
  };
}

export function validateStackFile(file: string): ValidationReport {
  if (!fs.existsSync(file)) return { exitCode: 2, output: `${file}: no such file`, notes: [] };
  let stack: StackConfig;
  try {
    stack = readStackConfig(file);
  } catch (error) {
    if (!(error instanceof StackFileError)) throw error;
    if (error.reason === "unreadable") return { exitCode: 2, output: error.message, notes: [] };
    return { exitCode: 1, output: `${error.message}\n${file}: ${count(1, "problem")}`, notes: [] };
  }
  const result = validateStack(stack, file);
  if (result.problems.length > 0) {
    return { exitCode: 1, output: [...result.problems, `${file}: ${count(result.problems.length, "problem")}`].join("\n"), notes: result.notes };
  }
  if (result.topology === undefined) {
    return { exitCode: 0, output: `${file}: no problem in what the file holds (the rest comes from ESC)`, notes: result.notes };
  }
  const { hosts, vlans } = result.topology;
  const containers = hosts.reduce((total, host) => total + host.containers.length, 0);
  return {
    exitCode: 0,
    output: `${file}: ok (${count(hosts.length, "host")}, ${count(vlans.length, "vlan")}, ${count(containers, "container")})`,
    notes: result.notes,
  };
}

/**
 * The stack file's validated topology, or the report validate prints for it (exit 1 or 2): the
 * config checks only, without the files, for tools that read hosts themselves (doctor, diagram).
 */
export function loadStackTopology(
  path: string,
): { readonly ok: true; readonly topology: Topology } | { readonly ok: false; readonly report: ValidationReport } {
  if (!fs.existsSync(path)) return { ok: false, report: { exitCode: 2, output: `${path}: no such file`, notes: [] } };

  let stack: StackConfig;
  try {
    stack = readStackConfig(path);
  } catch (error) {
    if (!(error instanceof StackFileError)) throw error;
    if (error.reason === "unreadable") return { ok: false, report: { exitCode: 2, output: error.message, notes: [] } };
    return { ok: false, report: { exitCode: 1, output: `${error.message}\n${path}: ${count(1, "problem")}`, notes: [] } };
  }

  const config = checkConfig(stack.raw, stack.literalProblems);
  if (!config.ok) {
    const output = `${formatProblems(config.problems)}\n${path}: ${count(config.problems.length, "problem")}`;
    return { ok: false, report: { exitCode: 1, output, notes: [] } };
  }
  return { ok: true, topology: config.topology };
}

/** The stack file a command line names: `-s <stack>` / `--stack <stack>` / `--stack=<stack>`, or one file. */
export function stackFileArgument(args: readonly string[], cwd = process.cwd()): { readonly file: string } | { readonly error: string } | undefined {
  if (args.length === 1 && args[0].startsWith("--stack=")) return stackFileFor(args[0].slice("--stack=".length), cwd);
  if (args.length === 2 && (args[0] === "-s" || args[0] === "--stack") && args[1] !== "" && !args[1].startsWith("-")) {
    return stackFileFor(args[1], cwd);
  }
  if (args.length === 1 && args[0] !== "" && !args[0].startsWith("-")) return { file: args[0] };
  return undefined;
}

/** Runs the command line: `-s <stack>`, or one stack file. */
export function validateCommandLine(args: readonly string[], cwd = process.cwd()): ValidationReport {
  if (args.length === 1 && (args[0] === "-h" || args[0] === "--help")) return { exitCode: 0, output: USAGE, notes: [] };
  const stack = stackFileArgument(args, cwd);
  if (stack === undefined) return { exitCode: 2, output: USAGE, notes: [] };
  if ("error" in stack) return { exitCode: 2, output: stack.error, notes: [] };
  return validateStackFile(stack.file);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

if (require.main === module) {
  const report = validateCommandLine(process.argv.slice(2));
  for (const note of report.notes) process.stderr.write(`${note}\n`);
  (report.exitCode === 0 ? process.stdout : process.stderr).write(`${report.output}\n`);
  process.exitCode = report.exitCode;
}
