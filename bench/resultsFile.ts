// bench/RESULTS.md: each benchmark command rewrites only its own section (between its markers),
// headed by the machine it ran on, so `npm run bench` and `npm run bench:check` can run apart.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { markdownTable } from "./markdownTable";

export const RESULTS_FILE = path.resolve(__dirname, "..", "..", "bench", "RESULTS.md");

const HEADER = `# Benchmark results

Written by \`npm run bench\` and \`npm run bench:check\` (code in \`bench/\`); each run replaces its
own section below. The analysis of missed targets at the end is written by hand.
`;

/** Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`, or appends the section. */
export function replaceSection(document: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from >= 0 && to > from) {
    return document.slice(0, from) + section + document.slice(to + end.length);
  }
  return `${document.trimEnd()}\n\n${section}\n`;
}

export function machineTable(): string {
  const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", cwd: path.dirname(RESULTS_FILE) }).stdout.trim();
  const dirty = spawnSync("git", ["status", "--porcelain", "--", "components", "topology", "config", "index.ts"], { encoding: "utf8", cwd: path.dirname(RESULTS_FILE) }).stdout.trim();
  return markdownTable(
    ["date", "commit", "nproc", "memory", "kernel", "node", "load average at start"],
    [[
      new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      `${commit || "?"}${dirty ? " (modified)" : ""}`,
      String(os.cpus().length),
      `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
      `${os.release()}`,
      process.version,
      os.loadavg().map((l) => l.toFixed(1)).join(" "),
    ]],
  );
}

export function writeSection(name: string, body: string): void {
  const current = fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, "utf8") : HEADER;
  fs.writeFileSync(RESULTS_FILE, replaceSection(current, name, body));
}
