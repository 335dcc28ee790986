// Files a script owns on a host: written with a marker first line, never over someone else's file,
// removed only while they still carry the marker. Directories a create had to make are recorded
// (shared by every script writing there) and removed by whichever delete leaves them empty.

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

/** Name of the STATE_DIR record saying which directories a create made for `dir`. */
export function createdDirRecord(dir: string): string {
  return `created-dir${dir.replace(/\//g, "_")}`;
}

/** Shell functions: is_ours, put_file, drop_file, ensure_dir, release_dir (needs stateFunctions). */
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
    "  put_tmp=\"$(dirname \"$1\")/.$(basename \"$1\").macvlan-overlay.tmp\"",
    "  printf '%s' \"$2\" >\"$put_tmp\"",
    "  mv -f \"$put_tmp\" \"$1\"",
    "  say \"$1: $put_state\"",
    "}",
    "drop_file() {",
    "  rm -f \"$(dirname \"$1\")/.$(basename \"$1\").macvlan-overlay.tmp\"",
    "  if [ ! -e \"$1\" ]; then",
    "    say \"$1: already absent\"",
    "  elif is_ours \"$1\"; then",
    "    rm -f \"$1\"",
    "    say \"$1: removed\"",
    "  else",
    "    say \"$1: not ours (no marker line), left in place\"",
    "  fi",
    "}",
    "ensure_dir() {",
    "  [ -d \"$1\" ] && return 0",
    "  top_dir=$1",
    "  while [ ! -d \"$(dirname \"$top_dir\")\" ]; do top_dir=$(dirname \"$top_dir\"); done",
    "  [ -f \"$2\" ] || record \"$2\" \"$top_dir\"",
    "  mkdir -p \"$1\"",
    "  say \"$1: directory created\"",
    "}",
    "release_dir() {",
    "  [ -f \"$2\" ] || return 0",
    "  top_dir=",
    "  IFS= read -r top_dir <\"$2\" || true",
    "  dir=$1",
    "  while [ -d \"$dir\" ]; do",
    "    if ! rmdir \"$dir\" 2>/dev/null; then",
    "      say \"$dir: still in use, left in place\"",
    "      return 0",
    "    fi",
    "    say \"$dir: directory removed (create made it)\"",
    "    [ \"$dir\" = \"$top_dir\" ] && break",
    "    dir=$(dirname \"$dir\")",
    "  done",
    "  forget \"$2\"",
    "}",
  ];
}

/** Create-side preflight: fail, before anything changes, when a file of that name is not ours. */
export function refuseForeignCommands(file: ManagedFile): string[] {
  return [`refuse_foreign ${shellQuote(file.path)}`];
}

/** Create side: make the directory if needed (recorded), then write the file if its content differs. */
export function putFileCommands(file: ManagedFile): string[] {
  const dir = parentDirectory(file.path);
  return [
    `ensure_dir ${shellQuote(dir)} ${stateFile(createdDirRecord(dir))}`,
    `put_file ${shellQuote(file.path)} ${shellQuote(file.content)}`,
  ];
}

/** Delete side: remove the file if it is ours, then any directory a create made for it, once empty. */
export function dropFileCommands(file: ManagedFile): string[] {
  const dir = parentDirectory(file.path);
  return [
    `drop_file ${shellQuote(file.path)}`,
    `release_dir ${shellQuote(dir)} ${stateFile(createdDirRecord(dir))}`,
  ];
}
