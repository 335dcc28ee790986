// Building blocks every host script shares: quoting, the state records, the undo journal, the host
// lock and the transaction of a create, as shell functions for the script builder (scriptBuilder.ts).
// Everything here is pure: the same input always renders byte-identical text.

import { functionClosure, type ScriptStep, shellFunction, type ShellFunction } from "./scriptBuilder";
import { commentText, joinScript, SCRIPT_PATH, shellQuote } from "./shellText";

export { commentText, joinScript, SCRIPT_PATH, shellQuote };

/** Where scripts record what a host looked like before their first create. */
export const STATE_DIR = "/var/lib/macvlan-overlay";

/**
 * The scripts of one host change. `create` converges the host to the wanted state, also removing
 * what an earlier version added and this one no longer wants, so it is the update too: a command
 * with no `update` runs `create` again when its inputs change (pulumi-command's `update` input:
 * "If empty, the create command will be executed instead"). Storing it once halves what each
 * command keeps in the state. `delete` restores what the first create recorded.
 */
export interface HostScript {
  readonly create: string;
  readonly delete: string;
}

/** The comment line every delete carries. */
export const DELETE_NOTE = "Runs later from its stored text, so it reads only host state.";

const STATE_DIR_VALUE: readonly [string, string] = ["STATE_DIR", STATE_DIR];

export const SAY = shellFunction("say", ["say() { printf '%s\\n' \"$*\"; }"]);
export const FAIL = shellFunction("fail", ["fail() { printf 'error: %s\\n' \"$*\" >&2; exit 1; }"]);

// The undo journal: every change a create makes first pushes the command that reverts it
// (`undo_push CMD ARG...`, newest first); on_exit evaluates it when the create fails. The journal is
// shell text, its quoted words may span lines.
export const QUOTE_WORD = shellFunction("quote_word", ["quote_word() { printf \"'%s'\" \"$(printf '%s' \"$1\" | sed \"s/'/'\\\\\\\\''/g\")\"; }"]);
const UNDO_RUN = shellFunction("undo_run", ["undo_run() { \"$@\" >/dev/null 2>&1 || printf 'rollback: could not undo: %s\\n' \"$*\" >&2; }"]);
export const UNDO_PUSH = shellFunction(
  "undo_push",
  [
    "UNDO=",
    "undo_push() {",
    "  undo_line=undo_run",
    "  for undo_word in \"$@\"; do undo_line=\"$undo_line $(quote_word \"$undo_word\")\"; done",
    "  UNDO=\"$undo_line",
    "$UNDO\"",
    "}",
  ],
  { calls: [QUOTE_WORD, UNDO_RUN] },
);
const RESTORE_FILE = shellFunction("restore_file", [
  "restore_file() { mkdir -p \"$(dirname \"$1\")\"; printf '%s' \"${2%x}\" >\"$1.tmp.$$\"; chmod \"$3\" \"$1.tmp.$$\"; mv -f \"$1.tmp.$$\" \"$1\"; }",
]);
/** `journal_file FILE`: a rollback puts FILE back as it is now (content and mode), or removes it if absent. */
export const JOURNAL_FILE = shellFunction(
  "journal_file",
  [
    "journal_file() {",
    "  if [ -f \"$1\" ]; then undo_push restore_file \"$1\" \"$(cat \"$1\"; printf x)\" \"$(stat -c %a \"$1\")\"; else undo_push rm -f \"$1\"; fi",
    "}",
  ],
  { calls: [UNDO_PUSH, RESTORE_FILE] },
);

/**
 * For scripts that never roll back (deletes, which are safe to run again, and the boot unit's create,
 * which undoes its own way): the functions that journal a change find a journal that keeps nothing.
 */
export const KEEPS_NO_JOURNAL: readonly ShellFunction[] = [
  shellFunction("undo_push", ["undo_push() { :; }"]),
  shellFunction("journal_file", ["journal_file() { :; }"]),
];

// State records. STATE_DIR is shared by every resource of a host: the delete that leaves it empty
// removes it, so destroy leaves the host as it was.
export const RELEASE_STATE_DIR = shellFunction("release_state_dir", ["release_state_dir() { rmdir \"$STATE_DIR\" 2>/dev/null || true; }"], {
  values: [STATE_DIR_VALUE],
});
const MAKE_STATE_DIR = shellFunction(
  "make_state_dir",
  ["make_state_dir() { [ -d \"$STATE_DIR\" ] || { undo_push release_state_dir; mkdir -p \"$STATE_DIR\"; }; }"],
  { calls: [UNDO_PUSH, RELEASE_STATE_DIR], values: [STATE_DIR_VALUE] },
);
/** `record FILE LINE...`: writes a record atomically under a name no other run uses (journalled). */
export const RECORD = shellFunction(
  "record",
  [
    "record() {",
    "  record_file=$1",
    "  shift",
    "  make_state_dir",
    "  journal_file \"$record_file\"",
    "  # STATE_DIR just removed by a delete of a version before the host lock: made again.",
    "  printf '%s\\n' \"$@\" 2>/dev/null >\"$record_file.tmp.$$\" || { make_state_dir; printf '%s\\n' \"$@\" >\"$record_file.tmp.$$\"; }",
    "  mv -f \"$record_file.tmp.$$\" \"$record_file\"",
    "}",
  ],
  { calls: [MAKE_STATE_DIR, JOURNAL_FILE] },
);
/** `recorded FILE LINE`: the record holds that line. */
export const RECORDED = shellFunction("recorded", ["recorded() { [ -f \"$1\" ] && grep -qxF -- \"$2\" \"$1\"; }"]);
/** `forget FILE`: removes a record (journalled). */
export const FORGET = shellFunction("forget", ["forget() { journal_file \"$1\"; rm -f \"$1\"; }"], { calls: [JOURNAL_FILE] });

/** The lock file one host's scripts take turns on (see LOCK_HOST). */
export const HOST_LOCK_FILE = "/run/macvlan-overlay.lock";

/** How long a script waits for the host lock before it fails, changing nothing. */
export const HOST_LOCK_WAIT_SECONDS = 300;

/**
 * One script of ours at a time on a host. The engine runs every ready step at once (`pulumi up
 * --parallel` is unbounded), and a host's scripts share STATE_DIR, the boot fragment folder and the
 * ifcfg folder, each checking and then changing them. `lock_host` waits (HOST_LOCK_WAIT secs) for an
 * exclusive flock on HOST_LOCK, held on fd 9 until `unlock_host` (from the EXIT trap) removes the file
 * and lets go, so nothing stays in /run; a waiter that then holds the removed file (its device and inode
 * differ from the path's) tries again. SIGKILL leaves the file, unlocked, for the next script. A script
 * holding the lock must never wait for another script of ours (say, by starting macvlan-overlay.service).
 */
export const UNLOCK_HOST = shellFunction(
  "unlock_host",
  ["host_locked=no", "unlock_host() { [ \"$host_locked\" = no ] || { rm -f \"$HOST_LOCK\"; exec 9>&-; host_locked=no; }; }"],
  { values: [["HOST_LOCK", HOST_LOCK_FILE]] },
);
export const LOCK_HOST = shellFunction(
  "lock_host",
  [
    "lock_host() {",
    "  command -v flock >/dev/null 2>&1 ||",
    "    fail 'flock (util-linux) is not installed; the macvlan-overlay scripts of a host take turns with it; nothing was changed'",
    "  while :; do",
    "    exec 9>>\"$HOST_LOCK\"",
    "    flock -w \"$HOST_LOCK_WAIT\" 9 ||",
    "      fail \"waited $HOST_LOCK_WAIT s for $HOST_LOCK: another macvlan-overlay script on this host still holds it (fuser -v $HOST_LOCK names it); nothing was changed\"",
    "    # Still the file at that path, not one the last holder removed as it let go?",
    "    [ \"$(stat -L -c %d:%i /proc/self/fd/9)\" != \"$(stat -c %d:%i \"$HOST_LOCK\" 2>/dev/null)\" ] || break",
    "    exec 9>&-",
    "  done",
    "  host_locked=yes",
    "}",
  ],
  { calls: [FAIL], values: [["HOST_LOCK", HOST_LOCK_FILE], ["HOST_LOCK_WAIT", String(HOST_LOCK_WAIT_SECONDS)]] },
);

/** Signals that end a script through its EXIT trap, with the shell's usual 128+N status. */
const EXIT_ON_SIGNALS = "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM";

/**
 * For a script that never rolls back (a delete): hold the host lock from here to the end, let go on
 * exit, also when the session drops.
 */
export const HOLD_HOST_LOCK: ScriptStep = { lines: ["trap unlock_host EXIT", EXIT_ON_SIGNALS, "lock_host"], uses: [UNLOCK_HOST, LOCK_HOST] };

/**
 * A create's exit: before `commit` — a failed command under `set -e`, `fail`, or the SSH session
 * dropping (HUP, TERM, INT, PIPE) — it rolls the journal back, so the host is left as the run found it.
 * Only SIGKILL escapes; the next run converges from whatever it finds.
 */
const ON_EXIT = shellFunction(
  "on_exit",
  [
    "committed=no",
    "on_exit() {",
    "  exit_status=$?",
    "  trap - EXIT",
    "  trap '' HUP INT TERM PIPE",
    "  if [ \"$committed\" = no ]; then",
    "    set +e",
    "    [ -z \"${UNDO:-}\" ] || { eval \"$UNDO\"; echo 'rollback: the changes this run had made are undone' >&2; }",
    "    [ \"$exit_status\" -ne 0 ] || exit_status=1",
    "  fi",
    "  unlock_host",
    "  exit \"$exit_status\"",
    "}",
  ],
  { calls: [UNLOCK_HOST] },
);
export const COMMIT = shellFunction("commit", ["commit() { committed=yes; UNDO=; }"]);

/** A create or update from here on: rolled back unless it reaches `commit`, and holding the host lock. */
export const BEGIN_TRANSACTION: ScriptStep = { lines: ["trap on_exit EXIT", EXIT_ON_SIGNALS, "lock_host"], uses: [ON_EXIT, LOCK_HOST] };

/**
 * The lines every script of earlier versions started with: shell options, PATH and `say`; for
 * scripts that change the host (`changesHost`, the default) also STATE_DIR and `fail`. For scripts
 * written by hand around the builder's functions (the doctor's).
 */
export function prelude(title: string, comments: readonly string[] = [], changesHost = true): string[] {
  return [
    "#!/bin/sh",
    `# macvlan-overlay: ${commentText(title)}`,
    ...(changesHost
      ? ["# Rendered by components/scripts; delete runs later from its stored text, so it reads only host state."]
      : ["# Rendered by components/scripts."]),
    ...comments.map((line) => `# ${commentText(line)}`),
    "set -eu",
    `PATH=${SCRIPT_PATH}`,
    "export PATH",
    "say() { printf '%s\\n' \"$*\"; }",
    ...(changesHost ? ["umask 022", `STATE_DIR=${shellQuote(STATE_DIR)}`, "fail() { printf 'error: %s\\n' \"$*\" >&2; exit 1; }"] : []),
  ];
}

/** The record functions and their journal as plain lines, for a script written around prelude(). */
export function stateFunctions(): string[] {
  return functionClosure([RECORD, RECORDED, FORGET, RELEASE_STATE_DIR]).flatMap((fn) => fn.text);
}

/**
 * The scripts with the stack's `reapply` number as a comment after their first line: changing the
 * number changes every script text, which pulumi-command runs as an in-place update. 0 (the
 * default) leaves the text as it is, so stacks that never set it see no change.
 */
export function withReapply(script: HostScript, reapply: number): HostScript {
  if (reapply === 0) return script;
  const mark = (text: string): string => {
    const cut = text.indexOf("\n") + 1;
    return `${text.slice(0, cut)}# reapply ${reapply}: the stack's reapply key; changing it re-runs this create in place\n${text.slice(cut)}`;
  };
  return { create: mark(script.create), delete: mark(script.delete) };
}
