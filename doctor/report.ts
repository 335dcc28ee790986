// Turns expectations and found facts into verdicts and the per-host table the doctor prints.

import { type Expectation, matches } from "./expected";

export interface Finding {
  readonly item: string;
  readonly expected: string;
  readonly found: string;
  readonly ok: boolean;
}

export function compare(expectations: readonly Expectation[], found: ReadonlyMap<number, string>): Finding[] {
  return expectations.map((e, index) => {
    const text = found.get(index) ?? "(not read)";
    return { item: e.item, expected: e.expected, found: text, ok: matches(e.expected, text) };
  });
}

/** Findings from the connectivity check's output lines: `probe A -> B (IP): expected X, got Y`. */
export function pingFindings(checkOutput: string): Finding[] {
  const findings: Finding[] = [];
  for (const line of checkOutput.split("\n")) {
    const match = /^probe (\S+) -> (\S+) \(([^)]*)\): expected (\S+), got (.*)$/.exec(line);
    if (match) {
      findings.push({ item: `ping ${match[1]} -> ${match[2]} (${match[3]})`, expected: match[4], found: match[5], ok: match[4] === match[5] });
    }
  }
  return findings;
}

/** A fixed-width table: item, expected, found, verdict. */
export function renderTable(title: string, findings: readonly Finding[]): string {
  const rows = findings.map((f) => [f.item, f.expected, f.found, f.ok ? "ok" : "DIFFERS"]);
  const header = ["item", "expected", "found", "verdict"];
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((row) => row[col].length)));
  const line = (cells: readonly string[]): string => cells.map((cell, col) => cell.padEnd(widths[col])).join("  ").trimEnd();
  return [title, line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
