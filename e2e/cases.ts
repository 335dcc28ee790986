// Test code: which of the e2e's lab cases a run takes. `all` (npm test's default, CI's, and npm run
// test:lab's) takes every case; `core` is a shorter local loop. docs/testing.md lists what core
// leaves out. When CI's budget no longer holds every case, a set between the two goes here.

export type CaseSet = "core" | "all";
const SETS: readonly CaseSet[] = ["core", "all"];

/** Minutes each set took on this project's 2-core machine kind (docs/testing.md has the tables). */
export const MINUTES: Record<CaseSet, number> = { core: 13, all: 24 };

/** MACVLAN_OVERLAY_E2E_CASES: core or all; unset: all. The older MACVLAN_OVERLAY_E2E_DAY2=core still means core. */
export function caseSetFromEnv(env: NodeJS.ProcessEnv = process.env): CaseSet {
  const value = env.MACVLAN_OVERLAY_E2E_CASES ?? (env.MACVLAN_OVERLAY_E2E_DAY2 === "core" ? "core" : "all");
  if (!(SETS as readonly string[]).includes(value)) {
    throw new Error(`MACVLAN_OVERLAY_E2E_CASES ${JSON.stringify(value)}: not one of ${SETS.join(", ")}`);
  }
  return value as CaseSet;
}

export const E2E_CASES = caseSetFromEnv();

/**
 * Why a case is left out of this run, or undefined when the run takes it. `smallest` is the
 * smallest set that has the case: core cases are in every run.
 */
export function leftOut(smallest: CaseSet, run: CaseSet = E2E_CASES, why = ""): string | undefined {
  if (SETS.indexOf(run) >= SETS.indexOf(smallest)) return undefined;
  return `MACVLAN_OVERLAY_E2E_CASES=${run} leaves it out${why === "" ? "" : ` (${why})`}; unset, every case runs`;
}

/** What `npm test` says before the lab runs. */
export function e2eCasesNote(set: CaseSet): string {
  return [
    `The lab's end-to-end test runs in this npm test (root, with the lab's packages): ${set === "all" ? "every case" : `the ${set} cases`}, about ${MINUTES[set]} min on a 2-core machine,`,
    "#   with a progress line per phase. MACVLAN_OVERLAY_E2E=0 npm test skips it; MACVLAN_OVERLAY_E2E_CASES=core runs a shorter set.",
  ].join("\n");
}
