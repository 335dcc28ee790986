// Tests that need what a fresh machine lacks (root, shellcheck, iptables, User-Mode Linux, the lab)
// skip and say why; with MACVLAN_OVERLAY_E2E=required (CI) such a skip is a failure instead.
import { spawnSync } from "node:child_process";

/** The first of `commands` not found on PATH (or in /usr/sbin), or undefined when all are there. */
export function firstMissingCommand(commands: readonly string[]): string | undefined {
  return commands.find((command) => spawnSync("sh", ["-c", `command -v "$1" || test -x "/usr/sbin/$1"`, "sh", command], { stdio: "ignore" }).status !== 0);
}

/** The reason to skip, passed through; throws instead when CI requires every test to run. */
export function skipBecause(reason: string | undefined): string | undefined {
  if (reason !== undefined && process.env.MACVLAN_OVERLAY_E2E === "required") {
    throw new Error(`MACVLAN_OVERLAY_E2E=required, but a test would skip: ${reason}`);
  }
  return reason;
}

/** Why shellcheck tests cannot run here, or undefined when they can. */
export function shellcheckUnavailableReason(): string | undefined {
  return skipBecause(firstMissingCommand(["shellcheck"]) === undefined ? undefined : "shellcheck is not installed (bash lab/install-deps.sh installs it)");
}
