// Host scripts need root. A non-root SSH user runs each one through `sudo -n` (never a password
// prompt: there is no terminal), keeping $SSH_CONNECTION, which sudo's env_reset would drop and the
// route guard reads.

import { joinScript, shellQuote } from "./shell";

/** Who runs a script where: the SSH user and the host's name, for messages. */
export interface ScriptRunner {
  readonly sshUser: string;
  readonly hostName: string;
}

/** Shell lines that stop, naming host and user, unless `sudo -n` works for the SSH user. */
function sudoPreflight(runner: ScriptRunner): string[] {
  const { sshUser, hostName } = runner;
  const missing = `${hostName}: sudo is not installed on this host; the SSH user ${sshUser} needs it (or use sshUser root)`;
  const password = `${hostName}: user ${sshUser} cannot run sudo without a password here (sudo -n true failed): add a NOPASSWD rule, e.g. "${sshUser} ALL=(root) NOPASSWD: ALL" in /etc/sudoers.d/`;
  return [
    "if ! command -v sudo >/dev/null 2>&1; then",
    `  printf 'error: %s\\n' ${shellQuote(missing)} >&2`,
    "  exit 1",
    "fi",
    "if ! sudo -n true 2>/dev/null; then",
    `  printf 'error: %s\\n' ${shellQuote(password)} >&2`,
    "  exit 1",
    "fi",
  ];
}

/** The script as the SSH user must run it: unchanged for root, else wrapped in `sudo -n`. */
export function runAsRoot(script: string, runner: ScriptRunner): string {
  if (runner.sshUser === "root") {
    return script;
  }
  return joinScript([
    "#!/bin/sh",
    "# macvlan-overlay: the SSH user is not root; the host script below runs through sudo -n.",
    ...sudoPreflight(runner),
    `exec sudo -n /usr/bin/env SSH_CONNECTION="\${SSH_CONNECTION:-}" /bin/sh -c ${shellQuote(script)}`,
  ]);
}

/** The command that runs a script given on stdin (`sh -s`) as root: through `sudo -n` for a non-root user. */
export function stdinScriptAsRoot(runner: ScriptRunner): string {
  if (runner.sshUser === "root") {
    return "sh -s";
  }
  return joinScript([...sudoPreflight(runner), "exec sudo -n /bin/sh -s"]);
}
