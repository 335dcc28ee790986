// The frame every confirmable concern's scripts share (a VLAN link, promiscuous mode, a host shim, the
// router's rules): a create that runs its converge (through the boot fragment when the host has the
// boot unit), and a delete that names its records, takes the host lock, does its own steps, forgets the
// concern's confirmation and releases the state folder. Only the concern's own steps differ.

import type { ManagedFile } from "./managedFile";
import { createRunningFragment, createWithoutBootUnit } from "./bootUnit";
import { type Confirmation, forgetConfirmation } from "./confirm";
import { buildScript, type ScriptStep, steps } from "./scriptBuilder";
import { DELETE_NOTE, HOLD_HOST_LOCK, KEEPS_NO_JOURNAL, RELEASE_STATE_DIR } from "./shell";

export interface ConcernCreate {
  /** After "# macvlan-overlay: " on the create's second line. */
  readonly title: string;
  /** The host has the boot unit: the create runs the boot fragment, which writes itself as it commits. */
  readonly boot: boolean;
  readonly bootFragment: () => ManagedFile;
  /** The converge under the create's title (without the boot unit). */
  readonly converge: (title: string) => string;
  readonly confirmWithinSeconds?: number;
}

/** The create: the boot fragment run in place, or the converge (held so an update can file it as its revert). */
export function concernCreate(spec: ConcernCreate): string {
  return spec.boot ? createRunningFragment(spec.title, spec.bootFragment()) : createWithoutBootUnit(spec.title, spec.converge(spec.title), spec.confirmWithinSeconds);
}

export interface ConcernDelete {
  readonly title: string;
  readonly confirmation: Confirmation;
  /** Lines naming the concern's records from the header ("BEFORE=..."). */
  readonly recordNames: string | readonly string[];
  /** The header: every value the delete's own steps take (STATE_DIR included). */
  readonly values: ReadonlyArray<readonly [string, string]>;
  /** What this concern undoes, under the host lock. */
  readonly body: ScriptStep;
}

/** The delete: records named, host lock, the concern's steps, its confirmation forgotten, the state folder released. */
export function concernDelete(spec: ConcernDelete): string {
  const forgotten = forgetConfirmation(spec.confirmation);
  const body = steps(spec.recordNames, HOLD_HOST_LOCK, spec.body, forgotten.step, "release_state_dir", { lines: [], uses: [RELEASE_STATE_DIR] });
  return buildScript({
    title: spec.title,
    comments: [DELETE_NOTE],
    values: [...spec.values, ...forgotten.values],
    uses: body.uses,
    body: body.lines,
    replacing: KEEPS_NO_JOURNAL,
  });
}
