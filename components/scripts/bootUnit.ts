// What brings the overlay back after a reboot on any systemd Linux: one oneshot unit, ordered before
// docker.service (so dockerd finds the parent links when it restarts containers), that runs each
// concern's boot fragment — the same idempotent converge code its create ran — in name order.

import {
  createdDirRecord,
  createdDirRecordPrefix,
  dropFileCommands,
  dropStaleFileCommands,
  legacyDirRecord,
  type ManagedFile,
  MANAGED_MARKER,
  managedFileFunctions,
  parentDirectory,
  putFileCommands,
} from "./managedFile";
import type { Persistence } from "../../topology/types";
import { holdHostLock, hostLockFunctions, type HostScript, joinScript, prelude, shellQuote, stateFile, stateFunctions } from "./shell";

export const BOOT_UNIT_NAME = "macvlan-overlay.service";
export const BOOT_UNIT_PATH = `/etc/systemd/system/${BOOT_UNIT_NAME}`;
/** `systemctl enable` makes this link for `WantedBy=multi-user.target`; the script makes it itself. */
export const BOOT_UNIT_WANTS_LINK = `/etc/systemd/system/multi-user.target.wants/${BOOT_UNIT_NAME}`;
export const BOOT_RUNNER_PATH = "/etc/macvlan-overlay/boot.sh";
export const BOOT_FRAGMENT_DIR = "/etc/macvlan-overlay/boot.d";

/** What a boot unit needs to know about its host. */
export interface BootUnitSpec {
  /** The trunk NICs the fragments configure; the unit waits for their devices. */
  readonly trunkInterfaces: readonly string[];
}

/** systemd-escape for a device unit name (systemd.unit(5) "String Escaping for Inclusion in Unit Names"). */
export function systemdEscape(value: string): string {
  return [...value]
    .map((char, index) => (/[A-Za-z0-9:_]/.test(char) || (char === "." && index > 0) ? char : `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`))
    .join("");
}

function deviceUnit(ifname: string): string {
  return `sys-subsystem-net-devices-${systemdEscape(ifname)}.device`;
}

export function renderBootUnitFile(spec: BootUnitSpec): string {
  const devices = spec.trunkInterfaces.map(deviceUnit).join(" ");
  return [
    MANAGED_MARKER,
    "[Unit]",
    "Description=macvlan-overlay: re-apply VLAN links, promiscuous mode and router rules",
    `Wants=network-pre.target ${devices}`,
    `After=network-pre.target systemd-sysctl.service ${devices}`,
    "Before=docker.service network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecStart=/bin/sh ${BOOT_RUNNER_PATH}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** The runner: every fragment, in name order; one that fails does not stop the others. */
export function renderBootRunner(): string {
  return [
    MANAGED_MARKER,
    "set -u",
    "status=0",
    `for fragment in ${shellQuote(BOOT_FRAGMENT_DIR)}/*.sh; do`,
    "  [ -f \"$fragment\" ] || continue",
    "  if ! sh \"$fragment\"; then",
    "    printf 'macvlan-overlay: %s failed\\n' \"$fragment\" >&2",
    "    status=1",
    "  fi",
    "done",
    "exit \"$status\"",
    "",
  ].join("\n");
}

/** A concern's boot fragment: `order` sorts it (10 trunk, 20 links, 30 router), `body` is its converge script. */
export function bootFragment(order: number, name: string, body: string): ManagedFile {
  return { path: `${BOOT_FRAGMENT_DIR}/${String(order).padStart(2, "0")}-${name}.sh`, content: `${MANAGED_MARKER}\n${body}` };
}

/** Names this unit's directory records (see managedFile). */
const OWNER = "boot-unit";

const daemonReload = "if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi";

/** A directory the unit needs, made (and recorded) only if missing, removed on delete only if made and empty. */
function ensureDir(dir: string): string {
  return `ensure_dir ${shellQuote(dir)} ${stateFile(createdDirRecord(dir, OWNER))} ${shellQuote(createdDirRecordPrefix(dir))}`;
}
function releaseDir(dir: string): string {
  return `release_dir ${shellQuote(dir)} ${stateFile(createdDirRecord(dir, OWNER))} ${stateFile(legacyDirRecord(dir))}`;
}

export function renderBootUnit(spec: BootUnitSpec): HostScript {
  const unit: ManagedFile = { path: BOOT_UNIT_PATH, content: renderBootUnitFile(spec) };
  const runner: ManagedFile = { path: BOOT_RUNNER_PATH, content: renderBootRunner() };
  const link = shellQuote(BOOT_UNIT_WANTS_LINK);
  const functions = [...stateFunctions(), ...managedFileFunctions()];
  const wantsDir = parentDirectory(BOOT_UNIT_WANTS_LINK);
  // Fragments are removed by their own concerns' deletes, which run before this one.
  const removal = [
    `if [ "$(readlink ${link} 2>/dev/null)" = ${shellQuote(BOOT_UNIT_PATH)} ]; then rm -f ${link}; say 'boot unit: disabled'; fi`,
    releaseDir(wantsDir),
    releaseDir(BOOT_FRAGMENT_DIR),
    ...dropFileCommands(runner, OWNER),
    ...dropFileCommands(unit, OWNER),
    // The unit is deleted after every concern of its host (they depend on it): its directory records
    // may be the last in STATE_DIR.
    "release_state_dir",
  ];
  const create = [
    ...prelude("boot unit (create)"),
    ...functions,
    ...hostLockFunctions(),
    "undo() {",
    "  trap - EXIT HUP INT TERM",
    ...removal.map((line) => `  ${line} >/dev/null`),
    "}",
    "fresh=no",
    "# A first create that fails halfway removes what it made; a later one leaves the working unit.",
    "on_exit() {",
    "  status=$?",
    "  if [ \"$fresh\" = yes ] && [ \"$status\" != 0 ]; then undo; fi",
    "  unlock_host",
    "  exit \"$status\"",
    "}",
    "trap on_exit EXIT",
    "trap 'exit 129' HUP",
    "trap 'exit 143' TERM",
    "lock_host",
    "refuse_foreign " + shellQuote(unit.path),
    "refuse_foreign " + shellQuote(runner.path),
    `if [ -e ${link} ] || [ -L ${link} ]; then`,
    `  [ "$(readlink ${link})" = ${shellQuote(BOOT_UNIT_PATH)} ] || fail ${shellQuote(`${BOOT_UNIT_WANTS_LINK} exists and is not ours; refusing to change it`)}`,
    "fi",
    `[ -e ${shellQuote(BOOT_UNIT_PATH)} ] || fresh=yes`,
    ...putFileCommands(unit, OWNER),
    ...putFileCommands(runner, OWNER).flatMap((line) =>
      line.startsWith("put_file") ? ["# shellcheck disable=SC2016 # the runner's text: its $ expand when it runs at boot", line] : [line],
    ),
    ensureDir(BOOT_FRAGMENT_DIR),
    `if [ "$(readlink ${link} 2>/dev/null)" = ${shellQuote(BOOT_UNIT_PATH)} ]; then`,
    "  say 'boot unit: enabled already'",
    "else",
    `  ${ensureDir(wantsDir)}`,
    `  ln -s ${shellQuote(BOOT_UNIT_PATH)} ${link}`,
    "  say 'boot unit: enabled'",
    "fi",
    daemonReload,
  ];
  const del = [...prelude("boot unit (delete)"), ...functions, ...holdHostLock(), ...removal, daemonReload];
  // Create converges, so an update is the same script.
  return { create: joinScript(create), delete: joinScript(del) };
}

/** The boot unit is installed unless the stack asks for no persistence at all. */
export function bootUnitWanted(persistence: Persistence): boolean {
  return persistence !== "none";
}

/**
 * A concern's side of the boot unit, for its create/update and delete scripts (they need
 * managedFileFunctions): `write` puts the fragment, `drop` removes it (and the fragment directory,
 * if this concern made it and it is empty); with the boot unit not wanted, `write` removes a fragment
 * an earlier version wrote.
 */
export function bootFragmentCommands(fragment: ManagedFile, wanted: boolean): { readonly write: string[]; readonly drop: string[] } {
  const owner = `boot-${fragment.path.slice(BOOT_FRAGMENT_DIR.length + 1).replace(/\.sh$/, "")}`;
  const drop = dropFileCommands(fragment, owner);
  if (!wanted) {
    return { write: dropStaleFileCommands(fragment, owner), drop };
  }
  const write = putFileCommands(fragment, owner).flatMap((line) =>
    line.startsWith("put_file") ? ["# shellcheck disable=SC2016,SC1003 # the fragment's text, quoted: its $ and \\ act when it runs at boot", line] : [line],
  );
  return { write, drop };
}
