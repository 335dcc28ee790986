// The e2e's timing table, without the lab: phases in run order, skipped ones kept, a failed phase
// timed and reported as failed, progress lines before and after each, the table written to its file.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { PhaseClock, timingsFile } from "./timings";

test("each phase gets a progress line before and after and a row in run order; a skipped one keeps its row; a failure is timed too", async () => {
  const lines: string[] = [];
  const clock = new PhaseClock("lab up", (line) => lines.push(line));
  clock.plan("first deploy");
  clock.plan("sudo users", true);
  clock.plan("destroy");
  await clock.time("lab up", () => undefined);
  assert.equal(await clock.time("first deploy", async () => 42), 42);
  await assert.rejects(clock.time("destroy", () => { throw new Error("boom"); }), /boom/);
  assert.deepEqual(clock.phases.map((p) => `${p.phase}: ${p.result}`), ["lab up: ok", "first deploy: ok", "sudo users: skipped", "destroy: failed"]);
  assert.deepEqual(lines.map((line) => line.replace(/ at \d\d:\d\d\]/, "]").replace(/ in [\d.]+ s$/, " in N s")), [
    "[e2e 1/3] lab up ...", "[e2e 1/3] lab up: ok in N s",
    "[e2e 2/3] first deploy ...", "[e2e 2/3] first deploy: ok in N s",
    "[e2e 3/3] destroy ...", "[e2e 3/3] destroy: failed in N s",
  ]);
  await assert.rejects(clock.time("not planned", () => undefined), /no phase "not planned" is planned/);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovl-timings-")), "t.md");
  const table = clock.report(file);
  assert.equal(fs.readFileSync(file, "utf8"), table);
  assert.match(table, /^e2e run of \S+: \d+ s in all \(\d\d:\d\d\), load average at start \d+\.\d\d, \d+ cores\n\n\| phase \| seconds \| result \|\n\|---\|---:\|---\|\n\| lab up \| \d+\.\d \| ok \|\n\| first deploy \| \d+\.\d \| ok \|\n\| sudo users \| 0\.0 \| skipped \|\n\| destroy \| \d+\.\d \| failed \|\n$/);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
});

test("the table goes to MACVLAN_OVERLAY_E2E_TIMINGS, else e2e-timings.md in the project folder", () => {
  const saved = process.env.MACVLAN_OVERLAY_E2E_TIMINGS;
  try {
    delete process.env.MACVLAN_OVERLAY_E2E_TIMINGS;
    assert.equal(timingsFile("/p"), "/p/e2e-timings.md");
    process.env.MACVLAN_OVERLAY_E2E_TIMINGS = "/tmp/x.md";
    assert.equal(timingsFile("/p"), "/tmp/x.md");
  } finally {
    if (saved === undefined) delete process.env.MACVLAN_OVERLAY_E2E_TIMINGS;
    else process.env.MACVLAN_OVERLAY_E2E_TIMINGS = saved;
  }
});
