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
  readonly phases: PhaseTime[] = [];
  private readonly startedAt = Date.now();
  private readonly loadAtStart = os.loadavg()[0];

  /** Phases the run will time (lab up, then each planned test). */
  private total = 1;

  constructor(private readonly print: (line: string) => void = (line) => console.log(line)) {}

  /** One more phase to come (the count in the progress lines). */
  plan(): void {
    this.total++;
  }

  /** Runs `body` as one phase: a progress line before and after, its time recorded even when it throws. */
  async time<T>(phase: string, body: () => T | Promise<T>): Promise<T> {
    const index = this.phases.length + 1;
    this.print(`[e2e ${index}/${this.total} at ${clock(Date.now() - this.startedAt)}] ${phase} ...`);
    const started = Date.now();
    let result: PhaseTime["result"] = "failed";
    try {
      const value = await body();
      result = "ok";
      return value;
    } finally {
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      this.phases.push({ phase, seconds, result });
      this.print(`[e2e ${index}/${this.total} at ${clock(Date.now() - this.startedAt)}] ${phase}: ${result} in ${seconds} s`);
    }
  }

  /** A phase the run leaves out, named in the table with why. */
  skipped(phase: string): void {
    this.phases.push({ phase, seconds: 0, result: "skipped" });
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
