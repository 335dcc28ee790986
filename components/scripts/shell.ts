// Building blocks every host script shares: quoting, the common prelude, and state records.
// Everything here is pure: the same input always renders byte-identical text.

/** Where scripts record what a host looked like before their first create. */
export const STATE_DIR = "/var/lib/macvlan-overlay";

/** The PATH every script sets, so a bare login environment finds ip, iptables and sysctl. */
export const SCRIPT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The two scripts of one host change: `create` is idempotent, `delete` restores the recorded state. */
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
 * Shell functions for state records: `record FILE LINE...` writes a record atomically,
 * `recorded FILE LINE` tests for a line, `forget FILE` removes a record and then STATE_DIR if empty.
 */
export function stateFunctions(): string[] {
  return [
    "record() {",
    "  record_file=$1",
    "  shift",
    "  mkdir -p \"$STATE_DIR\"",
    "  printf '%s\\n' \"$@\" >\"$record_file.tmp\"",
    "  mv -f \"$record_file.tmp\" \"$record_file\"",
    "}",
    "recorded() { [ -f \"$1\" ] && grep -qxF -- \"$2\" \"$1\"; }",
    "forget() {",
    "  rm -f \"$1\"",
    "  rmdir \"$STATE_DIR\" 2>/dev/null || true",
    "}",
  ];
}

/** Joins script lines into the final text: LF line ends and exactly one trailing newline. */
export function joinScript(lines: readonly string[]): string {
  return `${lines.join("\n")}\n`;
}
