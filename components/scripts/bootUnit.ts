// What brings the overlay back after a reboot on any systemd Linux: one oneshot unit, ordered before
// docker.service (so dockerd finds the parent links when it restarts containers), that runs each
// concern's boot fragment — the very converge text its create ran — in name order.

import {
  dropFile,
  dropStaleFile,
  DROP_FILE,
  ENSURE_DIR,
  type ManagedFile,
  MANAGED_MARKER,
  putFile,
  refuseForeign,
  RELEASE_DIR,
} from "./managedFile";
import type { Persistence } from "../../topology/types";
import { buildScript, type ScriptStep, scriptStart, shellFunction, steps } from "./scriptBuilder";
import { DELETE_NOTE, FAIL, HOLD_HOST_LOCK, type HostScript, KEEPS_NO_JOURNAL, LOCK_HOST, RELEASE_STATE_DIR, SAY, shellQuote, UNLOCK_HOST } from "./shell";
import { joinScript } from "./shellText";
import { bootRearmLines } from "./confirm";

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
    ...bootRearmLines(),
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

/** Where a concern's boot fragment lives: `order` sorts it (10 trunk, 20 links, 25 shims, 30 router). */
export function bootFragmentPath(order: number, name: string): string {
  return `${BOOT_FRAGMENT_DIR}/${String(order).padStart(2, "0")}-${name}.sh`;
}

/** A concern's boot fragment: the marker line, then `body`, its converge script. */
export function bootFragment(order: number, name: string, body: string): ManagedFile {
  return { path: bootFragmentPath(order, name), content: `${MANAGED_MARKER}\n${body}` };
}

/** The heredoc delimiter a create holds its boot fragment under; no line of a fragment may equal it. */
export const BOOT_FRAGMENT_DELIMITER = "MACVLAN_OVERLAY_BOOT_FRAGMENT";

/**
 * A create whose converge is its boot fragment, held once: the create reads the fragment's text
 * verbatim (a quoted heredoc), runs it, and that text — ending in WRITE_OWN_FRAGMENT — writes itself as
 * the fragment file in the same transaction, just before it commits. At boot the runner runs the file.
 */
export function createRunningFragment(title: string, fragment: ManagedFile): string {
  return holdingText(title, fragment.content, fragment.path, "Runs its boot fragment, held once below, which writes itself to its file as it commits.");
}

/**
 * A create without the boot unit whose converge can be confirmed (components/scripts/confirm.ts): it
 * holds its converge text the same way, so an update can file that text as its revert script.
 */
export function createHoldingConverge(title: string, converge: string): string {
  return holdingText(title, converge, "the converge", "Runs its converge, held once below, which it also files as its revert script when an update arms.");
}

/** A create without the boot unit: its converge held (createHoldingConverge) when updates arm, else the converge itself. */
export function createWithoutBootUnit(title: string, converge: string, confirmWithinSeconds = 0): string {
  return confirmWithinSeconds > 0 ? createHoldingConverge(title, converge) : converge;
}

function holdingText(title: string, text: string, what: string, comment: string): string {
  const lines = text.replace(/\n$/, "").split("\n");
  if (lines.includes(BOOT_FRAGMENT_DELIMITER)) {
    throw new Error(`a boot fragment line equals the heredoc delimiter ${BOOT_FRAGMENT_DELIMITER}: ${what}`);
  }
  return joinScript([
    // The fragment sets its own umask; here nothing is written before it runs.
    ...scriptStart(title, [comment], false),
    "boot_fragment_text=",
    "while IFS= read -r fragment_line; do boot_fragment_text=\"$boot_fragment_text$fragment_line",
    `"; done <<'${BOOT_FRAGMENT_DELIMITER}'`,
    ...lines,
    BOOT_FRAGMENT_DELIMITER,
    "eval \"$boot_fragment_text\"",
  ]);
}

/** The owner of a fragment's directory records ("boot-20-vlan-ens33.10"), from $FRAGMENT, as fragment_owner. */
const FRAGMENT_OWNER = "fragment_owner=boot-${FRAGMENT##*/}";
const FRAGMENT_OWNER_WORD = "\"${fragment_owner%.sh}\"";

/**
 * A converge's last step before commit on a host with the boot unit: run by its create
 * (createRunningFragment), it writes the text it was run from as the fragment $FRAGMENT; run at boot
 * from that file, it does nothing.
 */
export function writeOwnFragment(): ScriptStep {
  const write = writeFragment("boot_fragment_text");
  return steps(
    "if [ -n \"${boot_fragment_text+set}\" ]; then",
    `  ${write.lines[0]}`,
    "  # shellcheck disable=SC2154 # set by the create that runs this text",
    ...write.lines.slice(1).map((line) => `  ${line}`),
    "fi",
    { lines: [], uses: write.uses },
  );
}

/** Writes the text held in `textVariable` as the fragment $FRAGMENT (its folder recorded for the fragment). */
export function writeFragment(textVariable: string): ScriptStep {
  return steps(FRAGMENT_OWNER, putFile("FRAGMENT", textVariable, FRAGMENT_OWNER_WORD));
}

/** A converge without the boot unit: removes the fragment $FRAGMENT an earlier version wrote. */
export function dropStaleFragment(): ScriptStep {
  return steps(FRAGMENT_OWNER, dropStaleFile("FRAGMENT", FRAGMENT_OWNER_WORD));
}

/** A delete: removes the fragment $FRAGMENT (and the fragment directory, if this concern made it and it is empty). */
export function dropFragment(): ScriptStep {
  return steps(FRAGMENT_OWNER, dropFile("FRAGMENT", FRAGMENT_OWNER_WORD));
}

/** Names this unit's directory records (see managedFile). */
const OWNER = "boot-unit";

const DAEMON_RELOAD = "if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi";

/** Disables the unit and removes its files and the folders its create made. Fragments go with their concerns' deletes, before. */
const REMOVE_BOOT_UNIT = shellFunction(
  "remove_boot_unit",
  [
    "remove_boot_unit() {",
    "  if [ \"$(readlink \"$WANTS_LINK\" 2>/dev/null)\" = \"$UNIT\" ]; then rm -f \"$WANTS_LINK\"; say 'boot unit: disabled'; fi",
    `  release_dir "\${WANTS_LINK%/*}" ${OWNER}`,
    `  release_dir "$FRAGMENT_DIR" ${OWNER}`,
    "  drop_file \"$RUNNER\"",
    `  release_dir "\${RUNNER%/*}" ${OWNER}`,
    "  drop_file \"$UNIT\"",
    `  release_dir "\${UNIT%/*}" ${OWNER}`,
    // The unit is deleted after every concern of its host (they depend on it): its directory records
    // may be the last in STATE_DIR.
    "  release_state_dir",
    "}",
  ],
  { calls: [SAY, RELEASE_DIR, DROP_FILE, RELEASE_STATE_DIR] },
);

/** The exit of the unit's create: a first create that fails halfway removes what it made; a later one leaves the working unit. */
const ON_UNIT_EXIT = shellFunction(
  "on_unit_exit",
  [
    "fresh=no",
    "on_unit_exit() {",
    "  unit_status=$?",
    "  if [ \"$fresh\" = yes ] && [ \"$unit_status\" != 0 ]; then",
    "    trap - EXIT HUP INT TERM",
    "    remove_boot_unit >/dev/null",
    "  fi",
    "  unlock_host",
    "  exit \"$unit_status\"",
    "}",
  ],
  { calls: [REMOVE_BOOT_UNIT, UNLOCK_HOST] },
);

const PATHS: ReadonlyArray<readonly [string, string]> = [
  ["UNIT", BOOT_UNIT_PATH],
  ["RUNNER", BOOT_RUNNER_PATH],
  ["FRAGMENT_DIR", BOOT_FRAGMENT_DIR],
  ["WANTS_LINK", BOOT_UNIT_WANTS_LINK],
];

export function renderBootUnit(spec: BootUnitSpec): HostScript {
  const create = steps(
    "trap on_unit_exit EXIT",
    "trap 'exit 129' HUP",
    "trap 'exit 143' TERM",
    "lock_host",
    refuseForeign("UNIT"),
    refuseForeign("RUNNER"),
    "if [ -e \"$WANTS_LINK\" ] || [ -L \"$WANTS_LINK\" ]; then",
    "  [ \"$(readlink \"$WANTS_LINK\")\" = \"$UNIT\" ] || fail \"$WANTS_LINK exists and is not ours; refusing to change it\"",
    "fi",
    "[ -e \"$UNIT\" ] || fresh=yes",
    putFile("UNIT", "UNIT_TEXT", OWNER),
    putFile("RUNNER", "RUNNER_TEXT", OWNER),
    `ensure_dir "$FRAGMENT_DIR" ${OWNER}`,
    "if [ \"$(readlink \"$WANTS_LINK\" 2>/dev/null)\" = \"$UNIT\" ]; then",
    "  say 'boot unit: enabled already'",
    "else",
    `  ensure_dir "\${WANTS_LINK%/*}" ${OWNER}`,
    "  ln -s \"$UNIT\" \"$WANTS_LINK\"",
    "  say 'boot unit: enabled'",
    "fi",
    DAEMON_RELOAD,
    { lines: [], uses: [ON_UNIT_EXIT, LOCK_HOST, FAIL, SAY, ENSURE_DIR] },
  );
  const remove = steps(HOLD_HOST_LOCK, "remove_boot_unit", DAEMON_RELOAD, { lines: [], uses: [REMOVE_BOOT_UNIT] });
  return {
    // Create converges, so an update is the same script.
    create: buildScript({
      title: "boot unit (create or update)",
      values: [...PATHS, ["UNIT_TEXT", renderBootUnitFile(spec)], ["RUNNER_TEXT", renderBootRunner()]],
      uses: create.uses,
      body: create.lines,
      replacing: KEEPS_NO_JOURNAL,
    }),
    delete: buildScript({ title: "boot unit (delete)", comments: [DELETE_NOTE], values: PATHS, uses: remove.uses, body: remove.lines, replacing: KEEPS_NO_JOURNAL }),
  };
}

/** The boot unit is installed unless the stack asks for no persistence at all. */
export function bootUnitWanted(persistence: Persistence): boolean {
  return persistence !== "none";
}
