// Test code: where an e2e run's time goes. Each phase (lab up, a deploy, a check, a reboot, a day-2
// scenario, destroy, lab down) is timed; a progress line is printed as each one starts and ends, and
// the table is printed at the end of the run and written to a file, so runs can be compared.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface PhaseTime {
  phase: string;
  seconds: number;
  result: "ok" | "failed" | "skipped";
}

/** Where the table goes: MACVLAN_OVERLAY_E2E_TIMINGS, else e2e-timings.md in the project folder (git-ignored). */
export function timingsFile(projectRoot: string): string {
  return process.env.MACVLAN_OVERLAY_E2E_TIMINGS ?? path.join(projectRoot, "e2e-timings.md");
}

export class PhaseClock {
  /** Every phase of the run in order, as planned; each row is filled in when its phase ends. */
  readonly phases: PhaseTime[] = [];
  private readonly startedAt = Date.now();
  private readonly loadAtStart = os.loadavg()[0];
  private readonly pending = new Set<PhaseTime>();
  private ran = 0;

  /** `first`: a phase that runs before any planned test (lab up). */
  constructor(first: string, private readonly print: (line: string) => void = (line) => console.log(line)) {
    this.plan(first);
  }

  /** One more phase to come, in run order; a skipped one keeps its row, with "skipped". */
  plan(phase: string, skipped = false): void {
    const row: PhaseTime = { phase, seconds: 0, result: "skipped" };
    this.phases.push(row);
    if (!skipped) this.pending.add(row);
  }

  /** Runs `body` as the planned phase of that name: a progress line before and after, its time recorded even when it throws. */
  async time<T>(phase: string, body: () => T | Promise<T>): Promise<T> {
    const row = [...this.pending].find((candidate) => candidate.phase === phase);
    if (row === undefined) throw new Error(`e2e timings: no phase ${JSON.stringify(phase)} is planned`);
    this.pending.delete(row);
    const index = ++this.ran;
    const total = this.phases.filter((p) => p.result !== "skipped" || this.pending.has(p) || p === row).length;
    this.print(`[e2e ${index}/${total} at ${clock(Date.now() - this.startedAt)}] ${phase} ...`);
    const started = Date.now();
    row.result = "failed";
    try {
      const value = await body();
      row.result = "ok";
      return value;
    } finally {
      row.seconds = Math.round((Date.now() - started) / 100) / 10;
      this.print(`[e2e ${index}/${total} at ${clock(Date.now() - this.startedAt)}] ${phase}: ${row.result} in ${row.seconds} s`);
    }
  }

  /** The table, Markdown: one row per phase in run order, then the whole run and the load at its start. */
  table(): string {
    const rows = this.phases.map((p) => `| ${p.phase.replace(/\|/g, "\\|")} | ${p.seconds.toFixed(1)} | ${p.result} |`);
    const total = Math.round((Date.now() - this.startedAt) / 1000);
    return [
      `e2e run of ${new Date(this.startedAt).toISOString()}: ${total} s in all (${clock(total * 1000)}), load average at start ${this.loadAtStart.toFixed(2)}, ${os.cpus().length} cores`,
      "",
      "| phase | seconds | result |",
      "|---|---:|---|",
      ...rows,
      "",
    ].join("\n");
  }

  /** Prints the table and writes it to `file`; returns the table. */
  report(file: string): string {
    const table = this.table();
    this.print(`e2e timings (also in ${file}):\n${table}`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, table);
    return table;
  }
}

/** "mm:ss" from milliseconds. */
function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}
