// Building blocks every host script shares: quoting, the common prelude, and state records.
// Everything here is pure: the same input always renders byte-identical text.

/** Where scripts record what a host looked like before their first create. */
export const STATE_DIR = "/var/lib/macvlan-overlay";

/** The PATH every script sets, so a bare login environment finds ip, iptables and sysctl. */
export const SCRIPT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

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

/** POSIX single-quote quoting; always quotes, so the result is one word whatever the value. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Text that is safe inside a `#` comment line: a newline there would end the comment. */
export function commentText(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, "?");
}

/** A state record's path inside STATE_DIR, as a shell word ("$STATE_DIR"/'name'). */
export function stateFile(name: string): string {
  return `"$STATE_DIR"/${shellQuote(name)}`;
}

/**
 * The lines every script starts with: shell options, PATH and `say`; for scripts that change the host
 * (`changesHost`, the default) also STATE_DIR and `fail`.
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
    ...(changesHost
      ? [
          "umask 022",
          `STATE_DIR=${shellQuote(STATE_DIR)}`,
          "fail() { printf 'error: %s\\n' \"$*\" >&2; exit 1; }",
        ]
      : []),
  ];
}

/**
 * Shell functions for state records, each write journalled (see transactionFunctions):
 * `record FILE LINE...` writes a record atomically under a name no other run uses,
 * `recorded FILE LINE` tests for a line, `forget FILE` removes a record. STATE_DIR is shared by
 * every resource of a host, some of whose scripts run in parallel: a delete that leaves it empty
 * removes it (`release_state_dir`, so destroy leaves the host as it was), and a write that finds it
 * just removed by such a delete makes it again and writes once more.
 */
export function stateFunctions(): string[] {
  return [
    ...journalFunctions(),
    "# A rollback removes STATE_DIR again if this run made it and no other record is in it.",
    "make_state_dir() {",
    "  if [ ! -d \"$STATE_DIR\" ]; then",
    "    undo_push release_state_dir",
    "    mkdir -p \"$STATE_DIR\"",
    "  fi",
    "}",
    "record() {",
    "  record_file=$1",
    "  shift",
    "  make_state_dir",
    "  journal_file \"$record_file\"",
    "  if ! printf '%s\\n' \"$@\" 2>/dev/null >\"$record_file.tmp.$$\"; then",
    "    make_state_dir",
    "    printf '%s\\n' \"$@\" >\"$record_file.tmp.$$\"",
    "  fi",
    "  mv -f \"$record_file.tmp.$$\" \"$record_file\"",
    "}",
    "recorded() { [ -f \"$1\" ] && grep -qxF -- \"$2\" \"$1\"; }",
    "# The end of a delete: STATE_DIR goes once no resource of this host keeps a record in it.",
    "release_state_dir() { rmdir \"$STATE_DIR\" 2>/dev/null || true; }",
    "forget() {",
    "  journal_file \"$1\"",
    "  rm -f \"$1\"",
    "}",
  ];
}

/**
 * The undo journal: every change a create or update makes first pushes the command that reverts it
 * (`undo_push CMD ARG...`, newest first); `rollback` runs them. Delete scripts journal too but never
 * roll back: a delete is safe to run again.
 */
function journalFunctions(): string[] {
  return [
    "UNDO=",
    "quote_word() { printf \"'%s'\" \"$(printf '%s' \"$1\" | sed \"s/'/'\\\\\\\\''/g\")\"; }",
    "undo_push() {",
    "  undo_line=undo_run",
    "  for undo_word in \"$@\"; do undo_line=\"$undo_line $(quote_word \"$undo_word\")\"; done",
    "  UNDO=\"$undo_line",
    "$UNDO\"",
    "}",
    "# Puts FILE back as it is now (content and mode) or removes it if it does not exist yet.",
    "journal_file() {",
    "  if [ -f \"$1\" ]; then",
    "    undo_push restore_file \"$1\" \"$(cat \"$1\"; printf x)\" \"$(stat -c %a \"$1\")\"",
    "  else",
    "    undo_push rm -f \"$1\"",
    "  fi",
    "}",
    "restore_file() {",
    "  mkdir -p \"$(dirname \"$1\")\"",
    "  printf '%s' \"${2%x}\" >\"$1.tmp.$$\"",
    "  chmod \"$3\" \"$1.tmp.$$\"",
    "  mv -f \"$1.tmp.$$\" \"$1\"",
    "}",
    "undo_run() { \"$@\" >/dev/null 2>&1 || printf 'rollback: could not undo: %s\\n' \"$*\" >&2; }",
    "# The journal is shell text, newest first; its quoted words may span lines.",
    "rollback() { eval \"$UNDO\"; }",
  ];
}

/** The lock file one host's scripts take turns on (see hostLockFunctions). */
export const HOST_LOCK_FILE = "/run/macvlan-overlay.lock";

/** How long a script waits for the host lock before it fails, changing nothing. */
export const HOST_LOCK_WAIT_SECONDS = 300;

/**
 * One script of ours at a time on a host. The engine runs every ready step at once (`pulumi up
 * --parallel` is unbounded), and a host's scripts share STATE_DIR, the boot fragment folder and the
 * ifcfg folder, each checking and then changing them. `lock_host` waits (HOST_LOCK_WAIT secs) for an
 * exclusive flock on HOST_LOCK_FILE, held on fd 9 until `unlock_host` (from the EXIT trap) removes the
 * file and lets go, so nothing stays in /run; a waiter that then holds the removed file tries again.
 * SIGKILL leaves the file, unlocked, for the next script. A script holding the lock must never wait
 * for another script of ours (say, by starting macvlan-overlay.service).
 */
export function hostLockFunctions(): string[] {
  return [
    `HOST_LOCK=${shellQuote(HOST_LOCK_FILE)}`,
    `HOST_LOCK_WAIT=${HOST_LOCK_WAIT_SECONDS}`,
    "host_locked=no",
    "lock_host() {",
    "  command -v flock >/dev/null 2>&1 ||",
    "    fail 'flock (util-linux) is not installed; the macvlan-overlay scripts of a host take turns with it; nothing was changed'",
    "  while :; do",
    "    exec 9>>\"$HOST_LOCK\"",
    "    if ! flock -w \"$HOST_LOCK_WAIT\" 9; then",
    "      exec 9>&-",
    "      fail \"waited $HOST_LOCK_WAIT s for $HOST_LOCK: another macvlan-overlay script on this host still holds it (fuser -v $HOST_LOCK names it); nothing was changed\"",
    "    fi",
    "    # Still the file at that path, not one the last holder removed as it let go?",
    "    if [ \"$(stat -L -c %d:%i /proc/self/fd/9)\" = \"$(stat -c %d:%i \"$HOST_LOCK\" 2>/dev/null)\" ]; then",
    "      host_locked=yes",
    "      return 0",
    "    fi",
    "    exec 9>&-",
    "  done",
    "}",
    "unlock_host() {",
    "  [ \"$host_locked\" = yes ] || return 0",
    "  rm -f \"$HOST_LOCK\"",
    "  exec 9>&-",
    "  host_locked=no",
    "}",
  ];
}

/**
 * For a script without transactionTrap (a delete): hold the host lock from here to the end, let go on
 * exit, also when the session drops.
 */
export function holdHostLock(): string[] {
  return [
    ...hostLockFunctions(),
    "trap unlock_host EXIT",
    ...exitOnSignals(),
    "lock_host",
  ];
}

/** Signals that end a script through its EXIT trap, with the shell's usual 128+N status. */
function exitOnSignals(): string[] {
  return ["trap 'exit 129' HUP", "trap 'exit 130' INT", "trap 'exit 141' PIPE", "trap 'exit 143' TERM"];
}

/**
 * The trap of a create or update (after stateFunctions), and the host lock it then holds to the end:
 * when the script exits before `commit` — a failed command under `set -e`, `fail`, or the SSH session
 * dropping (HUP, TERM, INT, PIPE) — it rolls the journal back, so the host is left as this run found
 * it. Only SIGKILL escapes; the next run converges from whatever it finds.
 */
export function transactionTrap(): string[] {
  return [
    ...hostLockFunctions(),
    "committed=no",
    "on_exit() {",
    "  exit_status=$?",
    "  trap - EXIT",
    "  trap '' HUP INT TERM PIPE",
    "  if [ \"$committed\" != yes ]; then",
    "    set +e",
    "    if [ -n \"$UNDO\" ]; then",
    "      rollback",
    "      printf '%s\\n' 'rollback: the changes this run had made are undone' >&2",
    "    fi",
    "    [ \"$exit_status\" -ne 0 ] || exit_status=1",
    "  fi",
    "  unlock_host",
    "  exit \"$exit_status\"",
    "}",
    "trap on_exit EXIT",
    ...exitOnSignals(),
    "commit() { committed=yes; UNDO=; }",
    "lock_host",
  ];
}

/** Joins script lines into the final text: LF line ends and exactly one trailing newline. */
export function joinScript(lines: readonly string[]): string {
  return `${lines.join("\n")}\n`;
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
