// Files a script owns on a host: written with a marker first line, never over someone else's file,
// removed only while they still carry the marker. A directory a create had to make is recorded by
// every resource that writes into it (each under its own record name, so parallel creates never share
// a record) and removed by whichever delete leaves it empty.

import { functionClosure, type ScriptStep, shellFunction } from "./scriptBuilder";
import { FAIL, FORGET, JOURNAL_FILE, RECORD, RECORDED, RELEASE_STATE_DIR, SAY, shellQuote, STATE_DIR, UNDO_PUSH } from "./shell";

/** First line of every file this project writes; the proof that a file is ours to change or remove. */
export const MANAGED_MARKER = "# Managed by macvlan-overlay; removed by pulumi destroy.";

/** A file a backend owns on the host, with its exact content (marker line included). */
export interface ManagedFile {
  readonly path: string;
  readonly content: string;
}

/** Start of the names of every resource's record saying that a create of ours made `dir`. */
export function createdDirRecordPrefix(dir: string): string {
  return `created-dir${dir.replace(/\//g, "_")}@`;
}

/**
 * Name of `owner`'s record (e.g. "vlan-ens33.10") saying which directories a create made for `dir`
 * (`dir_record` renders it on the host). Versions before per-resource records shared one record per
 * directory, this name without "@<owner>": adopted, then removed.
 */
export function createdDirRecord(dir: string, owner: string): string {
  return `${createdDirRecordPrefix(dir)}${owner}`;
}

/** The marker line as a header value. */
const MARKER_VALUE: readonly [string, string] = ["MARKER", MANAGED_MARKER];

/** `is_ours FILE`: FILE exists and starts with the marker line. */
export const IS_OURS = shellFunction(
  "is_ours",
  ["is_ours() {", "  first_line=", "  [ -f \"$1\" ] && { IFS= read -r first_line <\"$1\" || :; } && [ \"$first_line\" = \"$MARKER\" ]", "}"],
  { values: [MARKER_VALUE] },
);
/** `refuse_foreign FILE`: fails when FILE exists and is not ours. */
const REFUSE_FOREIGN = shellFunction(
  "refuse_foreign",
  [
    "refuse_foreign() {",
    "  [ ! -e \"$1\" ] || is_ours \"$1\" || fail \"$1 exists and is not managed by macvlan-overlay (no marker line); refusing to change it\"",
    "}",
  ],
  { calls: [IS_OURS, FAIL] },
);
/** `drop_file FILE`: removes FILE if it is ours, saying what it found. */
export const DROP_FILE = shellFunction(
  "drop_file",
  [
    "drop_file() {",
    "  if [ ! -e \"$1\" ]; then say \"$1: already absent\"",
    "  elif is_ours \"$1\"; then journal_file \"$1\"; rm -f \"$1\"; say \"$1: removed\"",
    "  else say \"$1: not ours (no marker line), left in place\"; fi",
    "}",
  ],
  { calls: [IS_OURS, JOURNAL_FILE, SAY] },
);
/** `drop_stale_file FILE`: a file of ours this version no longer writes, removed quietly if present. */
const DROP_STALE_FILE = shellFunction(
  "drop_stale_file",
  ["drop_stale_file() { ! is_ours \"$1\" || { journal_file \"$1\"; rm -f \"$1\"; say \"$1: removed (no longer wanted)\"; }; }"],
  { calls: [IS_OURS, JOURNAL_FILE, SAY] },
);
/** `dir_record DIR OWNER`: the path of OWNER's record of the directories a create made for DIR (createdDirRecord). */
const DIR_RECORD = shellFunction("dir_record", ["dir_record() { printf '%s/created-dir%s@%s' \"$STATE_DIR\" \"$(printf '%s' \"$1\" | tr / _)\" \"$2\"; }"], {
  values: [["STATE_DIR", STATE_DIR]],
});
/** `remove_made_dirs DIR TOP`: removes DIR and its parents up to TOP while they are empty. */
const REMOVE_MADE_DIRS = shellFunction("remove_made_dirs", [
  "remove_made_dirs() {",
  "  made_dir=$1",
  "  while [ -d \"$made_dir\" ] && rmdir \"$made_dir\" 2>/dev/null && [ \"$made_dir\" != \"$2\" ]; do made_dir=$(dirname \"$made_dir\"); done",
  "}",
]);
/**
 * `ensure_dir DIR OWNER`: makes DIR if missing and records the topmost directory it made; a directory
 * another resource of ours made (its record, or the one shared record of versions before per-resource
 * records) is recorded as OWNER's too.
 */
export const ENSURE_DIR = shellFunction(
  "ensure_dir",
  [
    "ensure_dir() {",
    "  dir_made=$(dir_record \"$1\" \"$2\")",
    "  if [ -d \"$1\" ]; then",
    "    [ ! -f \"$dir_made\" ] || return 0",
    "    for other_record in \"${dir_made%@*}\"@* \"${dir_made%@*}\"; do",
    "      [ -f \"$other_record\" ] || continue",
    "      top_dir=",
    "      IFS= read -r top_dir <\"$other_record\" || :",
    "      [ -z \"$top_dir\" ] || record \"$dir_made\" \"$top_dir\"",
    "      return 0",
    "    done",
    "    return 0",
    "  fi",
    "  top_dir=$1",
    "  while [ ! -d \"$(dirname \"$top_dir\")\" ]; do top_dir=$(dirname \"$top_dir\"); done",
    "  record \"$dir_made\" \"$top_dir\"",
    "  mkdir -p \"$1\"",
    "  undo_push remove_made_dirs \"$1\" \"$top_dir\"",
    "  say \"$1: directory created\"",
    "}",
  ],
  { calls: [DIR_RECORD, RECORD, REMOVE_MADE_DIRS, UNDO_PUSH, SAY] },
);
/** `put_file FILE TEXT OWNER`: ensure_dir for FILE's directory, then writes FILE (never someone else's) when its content differs (journalled). */
const PUT_FILE = shellFunction(
  "put_file",
  [
    "put_file() {",
    "  ensure_dir \"${1%/*}\" \"$3\"",
    "  refuse_foreign \"$1\"",
    "  if [ -f \"$1\" ] && [ \"$(cat \"$1\"; printf x)\" = \"$2\"x ]; then say \"$1: unchanged\"; return 0; fi",
    "  put_state=written",
    "  [ ! -f \"$1\" ] || put_state='rewritten (content differed)'",
    "  journal_file \"$1\"",
    "  put_tmp=\"${1%/*}/.${1##*/}.macvlan-overlay.tmp.$$\"",
    "  printf '%s' \"$2\" >\"$put_tmp\"",
    "  mv -f \"$put_tmp\" \"$1\"",
    "  say \"$1: $put_state\"",
    "}",
  ],
  { calls: [ENSURE_DIR, REFUSE_FOREIGN, SAY, JOURNAL_FILE] },
);
/** `release_dir DIR OWNER`: removes DIR if it is empty and OWNER's create made it; forgets the record. */
export const RELEASE_DIR = shellFunction(
  "release_dir",
  [
    "release_dir() {",
    "  dir_made=$(dir_record \"$1\" \"$2\")",
    "  [ -f \"$dir_made\" ] || return 0",
    "  top_dir=",
    "  IFS= read -r top_dir <\"$dir_made\" || :",
    "  if [ -d \"$1\" ] && [ -n \"$(ls -A \"$1\")\" ]; then",
    "    say \"$1: still in use, left in place\"",
    "  elif [ -d \"$1\" ]; then",
    "    remove_made_dirs \"$1\" \"${top_dir:-$1}\"",
    "    say \"$1: directory removed (create made it)\"",
    "    [ ! -f \"${dir_made%@*}\" ] || forget \"${dir_made%@*}\"",
    "  fi",
    "  forget \"$dir_made\"",
    "}",
  ],
  { calls: [DIR_RECORD, REMOVE_MADE_DIRS, SAY, FORGET] },
);

/** The file functions as plain lines (with MARKER, without what stateFunctions() has), for a script written around prelude(). */
export function managedFileFunctions(): string[] {
  const state = new Set(functionClosure([RECORD, RECORDED, FORGET, RELEASE_STATE_DIR]).map((fn) => fn.name));
  const own = functionClosure([PUT_FILE, DROP_FILE, DROP_STALE_FILE, ENSURE_DIR, RELEASE_DIR]).filter((fn) => !state.has(fn.name));
  return [`MARKER=${shellQuote(MANAGED_MARKER)}`, ...own.filter((fn) => fn.name !== "say" && fn.name !== "fail").flatMap((fn) => fn.text)];
}

/** The directory of a file held in header variable `pathVariable` ("${FILE%/*}"). */
function directoryOf(pathVariable: string): string {
  return `"\${${pathVariable}%/*}"`;
}

/** Create-side preflight: fail, before anything changes, when the file named by `pathVariable` is not ours. */
export function refuseForeign(pathVariable: string): ScriptStep {
  return { lines: [`refuse_foreign "$${pathVariable}"`], uses: [REFUSE_FOREIGN] };
}

/** Create side: make the file's directory if needed (recorded for `owner`, a shell word), then write it if its content differs. */
export function putFile(pathVariable: string, textVariable: string, owner: string): ScriptStep {
  return {
    lines: [`put_file "$${pathVariable}" "$${textVariable}" ${owner}`],
    uses: [PUT_FILE],
  };
}

/** Update side: remove a file of ours this version no longer writes, then the directory `owner` made for it, once empty. */
export function dropStaleFile(pathVariable: string, owner: string): ScriptStep {
  return { lines: [`drop_stale_file "$${pathVariable}"`, `release_dir ${directoryOf(pathVariable)} ${owner}`], uses: [DROP_STALE_FILE, RELEASE_DIR] };
}

/** Delete side: remove the file if it is ours, then any directory `owner`'s create made for it, once empty. */
export function dropFile(pathVariable: string, owner: string): ScriptStep {
  return { lines: [`drop_file "$${pathVariable}"`, `release_dir ${directoryOf(pathVariable)} ${owner}`], uses: [DROP_FILE, RELEASE_DIR] };
}
