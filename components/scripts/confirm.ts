// Commit confirmed across hosts: an in-place update of a command that can change connectivity (a VLAN
// link, a host shim, promiscuous mode, the router's rules) arms a host-local timer before its first
// change and files its undo journal as a revert script; the host's Confirm command, run once every
// connectivity check passed, disarms them. Unconfirmed by the deadline, the host reverts by itself,
// newest change first. A first create never arms (nothing to go back to); deletes, replacements and
// Docker objects are out of scope.
//
// The revert script is the converge's own text (held once by its create, see createHoldingConverge)
// after two assignments, REVERT_MODE=undo and REVERT_JOURNAL=<the journal>: run with them, the
// converge's first body line evaluates the journal with the helpers of its own text, and nothing else.
// The timer is the same text with REVERT_MODE=timer: it sleeps to the deadline, takes the host lock and
// runs every revert script of the host, newest first.

import { createHash } from "crypto";
import { buildScript, type ScriptStep, shellFunction, steps } from "./scriptBuilder";
import { FAIL, HOLD_HOST_LOCK, LOCK_HOST, QUOTE_WORD, RECORD, RECORDED, SAY, STATE_DIR, UNDO_PUSH, UNLOCK_HOST } from "./shell";

/** The revert scripts, the deadline and the timer of the armed updates of a host. */
export const REVERT_DIR = `${STATE_DIR}/revert`;
/** Written when a host reverted: the time and what it reverted; an arming update or a Confirm removes it. */
export const REVERTED_RECORD = `${STATE_DIR}/reverted`;
/** The stack's `confirmWithinSeconds` when unset. */
export const DEFAULT_CONFIRM_WITHIN_SECONDS = 600;

/** What an arming converge needs: the resource's name on the host and the stack's deadline (0: off). */
export interface Confirmation {
  /** Unique per host, a file name part: "vlan-ens33.10", "promisc-ens33", "shim-mvo-shim10", "nat-router". */
  readonly id: string;
  readonly withinSeconds: number;
}

const PATHS: ReadonlyArray<readonly [string, string]> = [
  ["REVERT_DIR", REVERT_DIR],
  ["REVERTED", REVERTED_RECORD],
];

// The timer: a transient systemd timer, or a process in a session of its own (it outlives the SSH
// session; the Confirm stops its whole group). Under the host lock, a timer confirmed meanwhile finds no deadline.
const START_REVERT_TIMER = shellFunction("start_revert_timer", [
  "start_revert_timer() {",
  "  if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then",
  "    echo \"macvlan-overlay-revert-$1\" >\"$REVERT_DIR/timer.unit\"",
  "    systemd-run --quiet --unit=\"macvlan-overlay-revert-$1\" --on-active=\"$2\" /bin/sh \"$REVERT_DIR/timer\"",
  "  else",
  "    setsid sh \"$REVERT_DIR/timer\" </dev/null >/dev/null 2>&1 9>&- &",
  "    echo \"$!\" >\"$REVERT_DIR/timer.pid\"",
  "  fi",
  "}",
]);

/** Before the first change of an update (the record of the last applied fingerprint differs): arms the host's timer once. */
const ARM_REVERT = shellFunction(
  "arm_revert",
  [
    "arming=no",
    "arm_revert() {",
    "  [ \"$CONFIRM_WITHIN\" -gt 0 ] && [ -n \"${boot_fragment_text:-}\" ] && [ -f \"$APPLIED\" ] || return 0",
    "  ! recorded \"$APPLIED\" \"$FINGERPRINT\" || return 0",
    "  arming=yes",
    "  [ ! -f \"$REVERT_DIR/deadline\" ] || return 0",
    "  mkdir -p \"$REVERT_DIR\"",
    "  rm -f \"$REVERTED\"",
    "  revert_at=$(($(date +%s) + CONFIRM_WITHIN))",
    "  { echo REVERT_MODE=timer; printf '%s' \"$boot_fragment_text\"; } >\"$REVERT_DIR/timer\"",
    "  echo \"$revert_at\" >\"$REVERT_DIR/deadline\"",
    "  start_revert_timer \"$revert_at\" \"$CONFIRM_WITHIN\"",
    "  say \"armed: this host reverts this update at $(date -u -d \"@$revert_at\" +%FT%TZ) unless pulumi up confirms it\"",
    "}",
  ],
  { calls: [RECORDED, START_REVERT_TIMER, SAY], values: PATHS },
);

/**
 * Just before commit: records the applied fingerprint and, for an update, files the journal as this
 * resource's revert script. Run by pulumi up (not at boot), it also takes this resource off the record
 * of an earlier revert: the resource is now as the stack holds it.
 */
const FILE_REVERT = shellFunction(
  "file_revert",
  [
    "file_revert() {",
    "  recorded \"$APPLIED\" \"$FINGERPRINT\" || record \"$APPLIED\" \"$FINGERPRINT\"",
    "  [ ! -f \"$REVERTED\" ] || [ -z \"${boot_fragment_text:-}\" ] || { sed -i \"s/ $REVERT_ID\\.[0-9a-f]*//\" \"$REVERTED\"; grep -q 'reverted: .' \"$REVERTED\" || rm -f \"$REVERTED\"; }",
    "  [ \"$arming\" = yes ] || return 0",
    "  revert_file=\"$REVERT_DIR/$(date +%s%N)-$REVERT_ID.$FINGERPRINT.revert\"",
    "  undo_push rm -f \"$revert_file\"",
    "  { echo REVERT_MODE=undo; printf 'REVERT_JOURNAL=%s\\n' \"$(quote_word \"$UNDO\")\"; printf '%s' \"$boot_fragment_text\"; } >\"$revert_file\"",
    "}",
  ],
  { calls: [RECORDED, RECORD, UNDO_PUSH, QUOTE_WORD], values: PATHS },
);

/** The text run as a revert script (undo) or as the host's timer: nothing of the converge runs. */
const REVERT_MODE = shellFunction(
  "revert_mode",
  [
    "revert_mode() {",
    "  if [ \"$REVERT_MODE\" = undo ]; then set +e; eval \"$REVERT_JOURNAL\"; return 0; fi",
    "  while revert_at=$(cat \"$REVERT_DIR/deadline\" 2>/dev/null) && [ \"$(date +%s)\" -lt \"$revert_at\" ]; do",
    "    sleep \"$((revert_at - $(date +%s)))\" || sleep 1",
    "  done",
    "  trap unlock_host EXIT",
    "  lock_host",
    "  [ -f \"$REVERT_DIR/deadline\" ] || return 0",
    "  reverted=",
    "  for revert_file in $(ls -r \"$REVERT_DIR\"); do",
    "    case $revert_file in *.revert) ;; *) continue ;; esac",
    "    sh \"$REVERT_DIR/$revert_file\" || :",
    "    rm -f \"$REVERT_DIR/$revert_file\"",
    "    revert_name=${revert_file#*-}",
    "    reverted=\"$reverted ${revert_name%.revert}\"",
    "  done",
    "  [ -z \"$reverted\" ] || echo \"$(date -u +%FT%TZ) reverted:$reverted\" >\"$REVERTED\"",
    "  rm -f \"$REVERT_DIR/deadline\" \"$REVERT_DIR/timer\" \"$REVERT_DIR/timer.pid\" \"$REVERT_DIR/timer.unit\"",
    "  rmdir \"$REVERT_DIR\" \"$STATE_DIR\" 2>/dev/null || :",
    "}",
  ],
  { calls: [LOCK_HOST, UNLOCK_HOST], values: PATHS },
);

/** The parts a converge puts in its body and header when it can be confirmed. */
export interface ConfirmSteps {
  /** First in the body: a revert script or the timer runs only its revert_mode. */
  readonly guard: ScriptStep;
  /**
   * After the preflight (the host lock held), before the first change: an update that its preflight
   * refuses changes nothing, so it arms nothing either.
   */
  readonly arm: ScriptStep;
  /** Last before `commit`. */
  readonly file: ScriptStep;
  readonly values: ReadonlyArray<readonly [string, string]>;
}

const NOTHING: ScriptStep = { lines: [], uses: [] };

function confirmSteps(confirm: Confirmation | undefined, fingerprint: string): ConfirmSteps {
  if (confirm === undefined || confirm.withinSeconds === 0) {
    return { guard: NOTHING, arm: NOTHING, file: NOTHING, values: [] };
  }
  return {
    guard: steps(
      "APPLIED=\"$STATE_DIR/applied-$REVERT_ID\"",
      "[ -z \"${REVERT_MODE:-}\" ] || { revert_mode; exit 0; }",
      { lines: [], uses: [REVERT_MODE] },
    ),
    arm: { lines: ["arm_revert"], uses: [ARM_REVERT] },
    file: { lines: ["file_revert"], uses: [FILE_REVERT] },
    values: [
      ["REVERT_ID", confirm.id],
      ["FINGERPRINT", fingerprint],
      ["CONFIRM_WITHIN", String(confirm.withinSeconds)],
    ],
  };
}

/**
 * A converge that can be confirmed: `render` is called with the steps and header values to place;
 * the fingerprint in the header is the digest of the text rendered without it, so it changes exactly
 * when the converge does.
 */
export function confirmableConverge(confirm: Confirmation | undefined, render: (parts: ConfirmSteps) => string): string {
  if (confirm === undefined || confirm.withinSeconds === 0) return render(confirmSteps(confirm, ""));
  const fingerprint = createHash("sha256").update(render(confirmSteps(confirm, "-"))).digest("hex").slice(0, 16);
  return render(confirmSteps(confirm, fingerprint));
}

/**
 * A delete of a concern that can arm: its applied record and any revert script of it go too, whatever
 * the stack's confirmWithinSeconds is now (an earlier version may have armed), so a cleanup without
 * state renders the same delete.
 */
export function forgetConfirmation(confirm: Confirmation): { step: ScriptStep; values: ReadonlyArray<readonly [string, string]> } {
  return {
    step: steps("rm -f \"$STATE_DIR/applied-$REVERT_ID\" \"$REVERT_DIR\"/*-\"$REVERT_ID\".*.revert"),
    values: [["REVERT_ID", confirm.id], ["REVERT_DIR", REVERT_DIR]],
  };
}

/** The fingerprint an arming converge files its revert under, read from its create text; undefined when it cannot arm. */
export function armedFingerprint(create: string): string | undefined {
  return /^FINGERPRINT='([0-9a-f]{16})'$/m.exec(create)?.[1];
}

export interface ConfirmScriptArgs {
  /** The fingerprints of every arming command on the host, as their creates hold them. */
  readonly fingerprints: readonly string[];
  /** The stack's reapply number now: the message after a revert asks for the next one. */
  readonly reapply: number;
}

/**
 * The host's Confirm: run once every connectivity check passed, it disarms the revert scripts filed
 * under the fingerprints it carries, and stops the timer when none is left. A host that already
 * reverted fails it, saying when and what to do.
 */
export function renderConfirm(args: ConfirmScriptArgs): string {
  for (const fingerprint of args.fingerprints) {
    if (!/^[0-9a-f]{16}$/.test(fingerprint)) throw new Error(`renderConfirm: fingerprint ${JSON.stringify(fingerprint)} is not 16 hex digits`);
  }
  const body = steps(
    HOLD_HOST_LOCK,
    "if [ -f \"$REVERTED\" ]; then",
    "  fail \"this host did not confirm in time and reverted: $(cat \"$REVERTED\"). The stack's state holds the new inputs: after fixing the cause, run pulumi config set reapply $NEXT_REAPPLY, then pulumi up\"",
    "fi",
    "confirmed=0",
    "left=0",
    "for revert_file in \"$REVERT_DIR\"/*.revert; do",
    "  [ -f \"$revert_file\" ] || continue",
    "  fingerprint=${revert_file%.revert}",
    "  case \" $FINGERPRINTS \" in",
    "    *\" ${fingerprint##*.} \"*) rm -f \"$revert_file\"; confirmed=$((confirmed + 1)) ;;",
    "    *) left=$((left + 1)) ;;",
    "  esac",
    "done",
    "if [ \"$left\" = 0 ] && [ -d \"$REVERT_DIR\" ]; then",
    "  [ ! -f \"$REVERT_DIR/timer.pid\" ] || kill -s TERM -- \"-$(cat \"$REVERT_DIR/timer.pid\")\" 2>/dev/null || :",
    "  [ ! -f \"$REVERT_DIR/timer.unit\" ] || systemctl stop \"$(cat \"$REVERT_DIR/timer.unit\").timer\" 2>/dev/null || :",
    "  rm -f \"$REVERT_DIR/deadline\" \"$REVERT_DIR/timer\" \"$REVERT_DIR/timer.pid\" \"$REVERT_DIR/timer.unit\"",
    "  rmdir \"$REVERT_DIR\"",
    "fi",
    "say \"confirmed: $confirmed armed change(s) disarmed, $left still armed\"",
    { lines: [], uses: [FAIL, SAY] },
  );
  return buildScript({
    title: "confirm the update (disarm this host's reverts)",
    values: [["FINGERPRINTS", [...args.fingerprints].sort().join(" ")], ["NEXT_REAPPLY", String(args.reapply + 1)], ...PATHS],
    uses: body.uses,
    body: body.lines,
  });
}

/**
 * Lines for the boot runner, before it runs the fragments: a timer armed before the reboot is armed
 * again for the time left, or reverts at once if its deadline passed (then the fragments bring back
 * the restored versions).
 */
export function bootRearmLines(): string[] {
  return [
    `revert_dir='${REVERT_DIR}'`,
    "if [ -f \"$revert_dir/timer\" ] && [ -f \"$revert_dir/deadline\" ]; then",
    "  if [ \"$(date +%s)\" -ge \"$(cat \"$revert_dir/deadline\")\" ]; then",
    "    sh \"$revert_dir/timer\" || status=1",
    "  else",
    "    setsid sh \"$revert_dir/timer\" </dev/null >/dev/null 2>&1 &",
    "    echo \"$!\" >\"$revert_dir/timer.pid\"",
    "  fi",
    "fi",
  ];
}
