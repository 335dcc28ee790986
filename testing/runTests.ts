// `npm test`: every test of the project with Node's test runner. When the lab's end-to-end test is
// going to run (root, the lab's packages, MACVLAN_OVERLAY_E2E not 0), it says so first: which cases,
// how long that takes, and how to skip it. The e2e then prints one progress line per phase.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { E2E_CASES, e2eCasesNote } from "../e2e/cases";

const DIST = path.resolve(__dirname, "..");
const suites = process.argv.slice(2);

/** Whether the lab's e2e will run: its own prerequisite check (a required run that lacks one fails in the test, by name). */
function labWillRun(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require("../e2e/labFixture") as typeof import("../e2e/labFixture")).missing === undefined;
  } catch {
    return false;
  }
}

if ((suites.length === 0 || suites.some((suite) => suite.startsWith("e2e"))) && labWillRun()) {
  console.log(`# ${e2eCasesNote(E2E_CASES)}`);
}
const run = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...(suites.length === 0 ? [DIST] : suites.map((suite) => path.join(DIST, suite)))], { stdio: "inherit" });
process.exit(run.status ?? 1);
