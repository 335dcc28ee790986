// Turns expectations and found facts into verdicts and the per-host table the doctor prints.

import { inPlanOrder, parseConnectivityReport, type Probe } from "../components/scripts/connectivityCheck";
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

/** Findings from the connectivity check's report, one per probe. */
export function pingFindings(checkOutput: string, plan: readonly Probe[] = []): Finding[] {
  return inPlanOrder(parseConnectivityReport(checkOutput), plan).map((probe) => ({
    item: `ping ${probe.from} -> ${probe.to} (${probe.toIp}, ${probe.kind})`,
    expected: probe.expected,
    found: probe.result,
    ok: probe.expected === probe.result,
  }));
}

/** A fixed-width table: item, expected, found, verdict. */
export function renderTable(title: string, findings: readonly Finding[]): string {
  const rows = findings.map((f) => [f.item, f.expected, f.found, f.ok ? "ok" : "DIFFERS"]);
  const header = ["item", "expected", "found", "verdict"];
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((row) => row[col].length)));
  const line = (cells: readonly string[]): string => cells.map((cell, col) => cell.padEnd(widths[col])).join("  ").trimEnd();
  return [title, line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
