// Test code: which of the e2e's lab cases a run takes. `all` (npm run test:lab) takes every case;
// `ci` (npm test's default, and CI's) keeps at least one case of each kind of host change and each
// real-host check within CI's time budget; `core` is a shorter local loop. docs/testing.md lists
// what each set leaves out and why.

export type CaseSet = "core" | "ci" | "all";
const SETS: readonly CaseSet[] = ["core", "ci", "all"];

/** Minutes each set took on this project's 2-core machine kind (docs/testing.md has the tables). */
export const MINUTES: Record<CaseSet, number> = { core: 14, ci: 24, all: 40 };

/**
 * MACVLAN_OVERLAY_E2E_CASES: core, ci or all; unset: ci. The older MACVLAN_OVERLAY_E2E_DAY2=core
 * still means core.
 */
export function caseSetFromEnv(env: NodeJS.ProcessEnv = process.env): CaseSet {
  const value = env.MACVLAN_OVERLAY_E2E_CASES ?? (env.MACVLAN_OVERLAY_E2E_DAY2 === "core" ? "core" : "ci");
  if (!(SETS as readonly string[]).includes(value)) {
    throw new Error(`MACVLAN_OVERLAY_E2E_CASES ${JSON.stringify(value)}: not one of ${SETS.join(", ")}`);
  }
  return value as CaseSet;
}

export const E2E_CASES = caseSetFromEnv();

/**
 * Why a case is left out of this run, or undefined when the run takes it. `smallest` is the
 * smallest set that has the case: core cases are in every run, ci cases in ci and all.
 */
export function leftOut(smallest: CaseSet, run: CaseSet = E2E_CASES, why = ""): string | undefined {
  if (SETS.indexOf(run) >= SETS.indexOf(smallest)) return undefined;
  return `MACVLAN_OVERLAY_E2E_CASES=${run} leaves it out${why === "" ? "" : ` (${why})`}; npm run test:lab runs every case`;
}

/** What `npm test` says before the lab runs. */
export function e2eCasesNote(set: CaseSet): string {
  return [
    `The lab's end-to-end test runs in this npm test (root, with the lab's packages): the ${set} cases, about ${MINUTES[set]} min on a 2-core machine,`,
    "#   with a progress line per phase. MACVLAN_OVERLAY_E2E=0 npm test skips it; npm run test:lab runs every case.",
  ].join("\n");
}
