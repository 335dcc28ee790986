// Files a script owns on a host: written with a marker first line, never over someone else's file,
// removed only while they still carry the marker. A directory a create had to make is recorded by
// every resource that writes into it (each under its own record name, so parallel creates never share
// a record) and removed by whichever delete leaves it empty.

import { shellQuote, stateFile } from "./shell";

/** First line of every file this project writes; the proof that a file is ours to change or remove. */
export const MANAGED_MARKER = "# Managed by macvlan-overlay; removed by pulumi destroy.";

/** A file a backend owns on the host, with its exact content (marker line included). */
export interface ManagedFile {
  readonly path: string;
  readonly content: string;
}

/** The parent directory of an absolute path ("/etc/sysctl.d/x.conf" → "/etc/sysctl.d"). */
export function parentDirectory(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut <= 0 ? "/" : path.slice(0, cut);
}

/** Start of the names of every resource's record saying that a create of ours made `dir`. */
export function createdDirRecordPrefix(dir: string): string {
  return `created-dir${dir.replace(/\//g, "_")}@`;
}

/** The one record per directory that versions before per-resource records shared (adopted, then removed). */
export function legacyDirRecord(dir: string): string {
  return `created-dir${dir.replace(/\//g, "_")}`;
}

/** Name of `owner`'s record (e.g. "vlan-ens33.10") saying which directories a create made for `dir`. */
export function createdDirRecord(dir: string, owner: string): string {
  return `${createdDirRecordPrefix(dir)}${owner}`;
}

/** Shell functions: is_ours, put_file, drop_file, ensure_dir, release_dir (needs stateFunctions); changes are journalled. */
export function managedFileFunctions(): string[] {
  return [
    `MARKER=${shellQuote(MANAGED_MARKER)}`,
    "is_ours() {",
    "  [ -f \"$1\" ] || return 1",
    "  first_line=",
    "  IFS= read -r first_line <\"$1\" || true",
    "  [ \"$first_line\" = \"$MARKER\" ]",
    "}",
    "refuse_foreign() {",
    "  if [ -e \"$1\" ] && ! is_ours \"$1\"; then",
    "    fail \"$1 exists and is not managed by macvlan-overlay (no marker line); refusing to change it\"",
    "  fi",
    "}",
    "put_file() {",
    "  refuse_foreign \"$1\"",
    "  if [ -f \"$1\" ] && [ \"$(cat \"$1\"; printf x)\" = \"$2\"x ]; then",
    "    say \"$1: unchanged\"",
    "    return 0",
    "  fi",
    "  put_state=written",
    "  [ -f \"$1\" ] && put_state='rewritten (content differed)'",
    "  journal_file \"$1\"",
    "  put_tmp=\"$(dirname \"$1\")/.$(basename \"$1\").macvlan-overlay.tmp.$$\"",
    "  printf '%s' \"$2\" >\"$put_tmp\"",
    "  mv -f \"$put_tmp\" \"$1\"",
    "  say \"$1: $put_state\"",
    "}",
    "drop_file() {",
    "  if [ ! -e \"$1\" ]; then",
    "    say \"$1: already absent\"",
    "  elif is_ours \"$1\"; then",
    "    journal_file \"$1\"",
    "    rm -f \"$1\"",
    "    say \"$1: removed\"",
    "  else",
    "    say \"$1: not ours (no marker line), left in place\"",
    "  fi",
    "}",
    "# A file of ours that this version no longer writes: removed quietly if present.",
    "drop_stale_file() {",
    "  is_ours \"$1\" || return 0",
    "  journal_file \"$1\"",
    "  rm -f \"$1\"",
    "  say \"$1: removed (no longer wanted)\"",
    "}",
    "# ensure_dir DIR RECORD PREFIX: makes DIR if missing and records the topmost directory it made;",
    "# a directory another resource of ours made (a record under PREFIX) is recorded as ours too.",
    "ensure_dir() {",
    "  if [ -d \"$1\" ]; then",
    "    [ ! -f \"$2\" ] || return 0",
    "    # ${3%@}: the one shared record of versions before per-resource records.",
    "    for other_record in \"$STATE_DIR\"/\"$3\"* \"$STATE_DIR\"/\"${3%@}\"; do",
    "      [ -f \"$other_record\" ] || continue",
    "      top_dir=",
    "      IFS= read -r top_dir <\"$other_record\" || true",
    "      [ -z \"$top_dir\" ] || record \"$2\" \"$top_dir\"",
    "      return 0",
    "    done",
    "    return 0",
    "  fi",
    "  top_dir=$1",
    "  while [ ! -d \"$(dirname \"$top_dir\")\" ]; do top_dir=$(dirname \"$top_dir\"); done",
    "  record \"$2\" \"$top_dir\"",
    "  mkdir -p \"$1\"",
    "  undo_push remove_made_dirs \"$1\" \"$top_dir\"",
    "  say \"$1: directory created\"",
    "}",
    "# remove_made_dirs DIR TOP: removes DIR and its parents up to TOP while they are empty.",
    "remove_made_dirs() {",
    "  made_dir=$1",
    "  while [ -d \"$made_dir\" ] && rmdir \"$made_dir\" 2>/dev/null; do",
    "    [ \"$made_dir\" != \"$2\" ] || break",
    "    made_dir=$(dirname \"$made_dir\")",
    "  done",
    "}",
    "# release_dir DIR RECORD LEGACY_RECORD: removes DIR if empty and a create of ours made it.",
    "release_dir() {",
    "  [ -f \"$2\" ] || return 0",
    "  top_dir=",
    "  IFS= read -r top_dir <\"$2\" || true",
    "  if [ ! -d \"$1\" ]; then",
    "    :",
    "  elif [ -n \"$(ls -A \"$1\")\" ]; then",
    "    say \"$1: still in use, left in place\"",
    "  else",
    "    remove_made_dirs \"$1\" \"${top_dir:-$1}\"",
    "    say \"$1: directory removed (create made it)\"",
    "    [ ! -f \"$3\" ] || forget \"$3\"",
    "  fi",
    "  forget \"$2\"",
    "}",
  ];
}

/** Create-side preflight: fail, before anything changes, when a file of that name is not ours. */
export function refuseForeignCommands(file: ManagedFile): string[] {
  return [`refuse_foreign ${shellQuote(file.path)}`];
}

/** Create side: make the directory if needed (recorded for `owner`), then write the file if its content differs. */
export function putFileCommands(file: ManagedFile, owner: string): string[] {
  const dir = parentDirectory(file.path);
  return [
    `ensure_dir ${shellQuote(dir)} ${stateFile(createdDirRecord(dir, owner))} ${shellQuote(createdDirRecordPrefix(dir))}`,
    `put_file ${shellQuote(file.path)} ${shellQuote(file.content)}`,
  ];
}

/** Update side: remove a file of ours this version no longer writes, then the directory it made for it, once empty. */
export function dropStaleFileCommands(file: ManagedFile, owner: string): string[] {
  const dir = parentDirectory(file.path);
  return [
    `drop_stale_file ${shellQuote(file.path)}`,
    `release_dir ${shellQuote(dir)} ${stateFile(createdDirRecord(dir, owner))} ${stateFile(legacyDirRecord(dir))}`,
  ];
}

/** Delete side: remove the file if it is ours, then any directory `owner`'s create made for it, once empty. */
export function dropFileCommands(file: ManagedFile, owner: string): string[] {
  const dir = parentDirectory(file.path);
  return [
    `drop_file ${shellQuote(file.path)}`,
    `release_dir ${shellQuote(dir)} ${stateFile(createdDirRecord(dir, owner))} ${stateFile(legacyDirRecord(dir))}`,
  ];
}
