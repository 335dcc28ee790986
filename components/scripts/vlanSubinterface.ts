// A VLAN subinterface on the trunk (a RHEL 7 ifcfg-ens33.10 + `ifup ens33.10`): the link, the
// host's address on it, up; plus the persistence backend's boot-time files. An existing link of the
// same name is adopted (the local lab emulates VLANs with veths: its kernel has no 802.1Q).

import type { Persistence, Subinterface } from "../../topology/types";
import { bootFragment, bootFragmentPath, dropFragment, dropStaleFragment, writeOwnFragment } from "./bootUnit";
import { type Confirmation, confirmableConverge } from "./confirm";
import { concernCreate, concernDelete } from "./concernScript";
import { GUARD_ROUTE_BACK } from "./routeGuard";
import { dropFile, dropStaleFile, type ManagedFile, putFile, refuseForeign } from "./managedFile";
import { allPersistenceBackends, NETWORK_SCRIPTS_DIR, notPersistedComment, persistenceBackend } from "./persistence";
import { buildScript, type ScriptStep, shellFunction, steps } from "./scriptBuilder";
import {
  BEGIN_TRANSACTION,
  COMMIT,
  FAIL,
  FORGET,
  type HostScript,
  RECORD,
  RECORDED,
  SAY,
  shellQuote,
  STATE_DIR,
  UNDO_PUSH,
} from "./shell";

export { renderIfcfg } from "./persistence";

export interface VlanSubinterfaceScriptArgs {
  readonly subinterface: Subinterface;
  readonly persistence: Persistence;
  /** Write the boot fragment that re-applies this at boot (the host has the boot unit). Default false. */
  readonly boot?: boolean;
  /** The stack's confirmWithinSeconds: an in-place update arms a revert that far ahead (confirm.ts). Default 0: off. */
  readonly confirmWithinSeconds?: number;
}

function confirmation(args: VlanSubinterfaceScriptArgs): Confirmation {
  return { id: `vlan-${args.subinterface.device}`, withinSeconds: args.confirmWithinSeconds ?? 0 };
}

/** Printed (after "<device>: ") when create made the 802.1Q link itself. */
export const VLAN_LINK_CREATED = "vlan link: created (802.1Q)";
/** Printed, followed by the link type ("veth", "vlan"), when create found a link it did not make. */
export const VLAN_LINK_ADOPTED = "vlan link: adopted existing ";
/** Printed on a later create when the link is the one an earlier create made. */
export const VLAN_LINK_KEPT = "vlan link: exists (made by an earlier create)";

export type VlanLinkMode =
  | { readonly mode: "created" }
  | { readonly mode: "adopted"; readonly linkType: string }
  | { readonly mode: "kept" };

/** Reads from a create run's output how it got the link, for tests and the e2e check. */
export function vlanLinkMode(createOutput: string, device: string): VlanLinkMode | undefined {
  for (const line of createOutput.split("\n")) {
    if (!line.startsWith(`${device}: `)) {
      continue;
    }
    const message = line.slice(device.length + 2);
    if (message === VLAN_LINK_CREATED) {
      return { mode: "created" };
    }
    if (message === VLAN_LINK_KEPT) {
      return { mode: "kept" };
    }
    if (message.startsWith(VLAN_LINK_ADOPTED)) {
      return { mode: "adopted", linkType: message.slice(VLAN_LINK_ADOPTED.length) };
    }
  }
  return undefined;
}

/**
 * State records of one subinterface: `before` holds `link=present|absent` and `up=yes|no` as found
 * by the first create; `address` holds the address a create added (absent when it added none).
 */
export function vlanStateFiles(device: string): { readonly before: string; readonly address: string } {
  return {
    before: `${STATE_DIR}/${stateNames(device).before}`,
    address: `${STATE_DIR}/${stateNames(device).address}`,
  };
}

function stateNames(device: string): { readonly before: string; readonly address: string } {
  return { before: `vlan-${device}.before`, address: `vlan-${device}.address` };
}

/** Files another persistence backend would write for this subinterface and this one does not. */
function filesOfOtherBackends(args: VlanSubinterfaceScriptArgs): ManagedFile[] {
  const wanted = new Set(persistenceBackend(args.persistence).vlanFiles(args.subinterface).map((file) => file.path));
  const seen = new Set<string>();
  return allPersistenceBackends()
    .flatMap((backend) => backend.vlanFiles(args.subinterface))
    .filter((file) => !wanted.has(file.path) && !seen.has(file.path) && seen.add(file.path) !== undefined);
}

// Kinds `ip -d link` prints; the first one found in the output names the link's type.
const LINK_KINDS = [
  "vlan", "veth", "macvlan", "macvtap", "ipvlan", "ipvtap", "bridge", "bond", "team", "dummy", "vxlan",
  "geneve", "tun", "gre", "gretap", "ipip", "sit", "vrf", "wireguard", "ifb", "macsec", "netdevsim",
];

/** `note TEXT`: a line of output about $DEVICE. */
const NOTE = shellFunction("note", ["note() { say \"$DEVICE: $*\"; }"], { calls: [SAY] });
const LINK_EXISTS = shellFunction("link_exists", ["link_exists() { ip link show dev \"$1\" >/dev/null 2>&1; }"]);
const LINK_UP = shellFunction("link_up", ["link_up() { ip -o link show dev \"$1\" | grep -q '[<,]UP[,>]'; }"]);
const DELETE_LINK_IF_PRESENT = shellFunction(
  "delete_link_if_present",
  ["delete_link_if_present() { ! link_exists \"$DEVICE\" || ip link del dev \"$DEVICE\"; }"],
  { calls: [LINK_EXISTS] },
);
const LINK_KIND = shellFunction("link_kind", [
  "link_kind() {",
  `  ip -d -o link show dev "$1" | tr ' ' '\\n' | grep -x -m 1 -E ${shellQuote(LINK_KINDS.join("|"))} || echo device`,
  "}",
]);
const VLAN_ID = shellFunction("vlan_id", ["vlan_id() { ip -d -o link show dev \"$1\" | sed -n 's/.* vlan protocol [^ ]* id \\([0-9][0-9]*\\).*/\\1/p'; }"]);
const HAS_ADDRESS = shellFunction("has_address", ["has_address() { ip -o addr show dev \"$1\" | grep -qF \" inet $2 \"; }"]);
const DROP_ADDRESS = shellFunction(
  "drop_address",
  [
    "drop_address() {",
    "  if link_exists \"$DEVICE\" && has_address \"$DEVICE\" \"$1\"; then",
    "    undo_push ip addr add \"$1\" dev \"$DEVICE\"",
    "    ip addr del \"$1\" dev \"$DEVICE\"",
    "    note \"address $1 removed\"",
    "  else",
    "    note \"address $1 already absent\"",
    "  fi",
    "}",
  ],
  { calls: [LINK_EXISTS, HAS_ADDRESS, UNDO_PUSH, NOTE] },
);
/** Removes the address a create recorded in $ADDED, and the record. */
const FORGET_ADDED_ADDRESS = shellFunction(
  "forget_added_address",
  [
    "forget_added_address() {",
    "  added=",
    "  IFS= read -r added <\"$ADDED\" || :",
    "  [ -z \"$added\" ] || drop_address \"$added\"",
    "  forget \"$ADDED\"",
    "}",
  ],
  { calls: [DROP_ADDRESS, FORGET] },
);

// After ifcfg files change: NetworkManager rereads its profiles (RHEL 8/9 read ifcfg files through
// the ifcfg-rh plugin), and a host where nothing reads them is told so.
const RELOAD_NM_PROFILES = shellFunction(
  "reload_nm_profiles",
  [
    "reload_nm_profiles() {",
    "  command -v nmcli >/dev/null 2>&1 && [ \"$(nmcli -t -f RUNNING general 2>/dev/null)\" = running ] || return 0",
    "  nmcli connection reload",
    "  say 'nmcli: connection profiles reloaded'",
    "}",
  ],
  { calls: [SAY] },
);
/** ifup-eth: RHEL/CentOS 7 network-scripts; the ifcfg-rh plugin: NetworkManager on RHEL 8/9. */
const IFCFG_READ_HERE = shellFunction("ifcfg_read_here", [
  "ifcfg_read_here() {",
  `  [ ! -f ${shellQuote(`${NETWORK_SCRIPTS_DIR}/ifup-eth`)} ] || return 0`,
  "  for plugin in /usr/lib*/NetworkManager/*/libnm-settings-plugin-ifcfg-rh.so; do [ ! -f \"$plugin\" ] || return 0; done",
  "  return 1",
  "}",
]);

/** The header variables of the backend's files (FILE_1, FILE_1_TEXT, ...) and of other backends' (STALE_FILE_1, ...). */
function fileValues(args: VlanSubinterfaceScriptArgs, withText: boolean): Array<readonly [string, string]> {
  const files = persistenceBackend(args.persistence).vlanFiles(args.subinterface);
  return [
    ...files.flatMap((file, index): Array<readonly [string, string]> => [
      [`FILE_${index + 1}`, file.path],
      ...(withText ? [[`FILE_${index + 1}_TEXT`, file.content] as const] : []),
    ]),
    ...filesOfOtherBackends(args).map((file, index): readonly [string, string] => [`STALE_FILE_${index + 1}`, file.path]),
  ];
}

function fileVariables(args: VlanSubinterfaceScriptArgs): { readonly files: string[]; readonly stale: string[] } {
  const count = persistenceBackend(args.persistence).vlanFiles(args.subinterface).length;
  return {
    files: Array.from({ length: count }, (_, index) => `FILE_${index + 1}`),
    stale: filesOfOtherBackends(args).map((_, index) => `STALE_FILE_${index + 1}`),
  };
}

/** The boot fragment's path for a subinterface (20: after the trunks). */
function fragmentPath(args: VlanSubinterfaceScriptArgs): string {
  return bootFragmentPath(20, `vlan-${args.subinterface.device}`);
}

/** Derived from the header, the same for every subinterface: its records and their owner name. */
const RECORD_NAMES = [
  "BEFORE=\"$STATE_DIR/vlan-$DEVICE.before\"",
  "ADDED=\"$STATE_DIR/vlan-$DEVICE.address\"",
  "OWNER=\"vlan-$DEVICE\"",
];

function comments(args: VlanSubinterfaceScriptArgs): string[] {
  return args.boot === true
    ? ["Brought back at boot by macvlan-overlay.service, which runs this text."]
    : notPersistedComment(persistenceBackend(args.persistence), "vlan");
}

/**
 * Create and update: converge the host to this subinterface's wanted state without ever deleting an
 * existing link (running containers sit on it). An update also removes what an earlier version added
 * and this one does not want: an old address, another backend's files. Every change is journalled.
 * With the boot unit, the same text is the boot fragment (it writes itself there as it commits).
 */
function converge(args: VlanSubinterfaceScriptArgs, title: string, fragment = false): string {
  const sub = args.subinterface;
  const tooling = persistenceBackend(args.persistence).vlanTooling(sub);
  const { files, stale } = fileVariables(args);
  const putFiles = steps(...files.map((file) => putFile(file, `${file}_TEXT`, "\"$OWNER\"")));
  const indented = (step: ScriptStep, by = "  "): ScriptStep => ({ lines: step.lines.map((line) => `${by}${line}`), uses: step.uses });
  return confirmableConverge(confirmation(args), (confirm) => {
  const body = steps(
    confirm.guard,
    RECORD_NAMES,
    BEGIN_TRANSACTION,
    "# Preflight: nothing changes on the host until these pass.",
    ...files.map(refuseForeign),
    ...(sub.address ? [{ lines: ["guard_route_back \"$DEVICE\" \"$ADDRESS\""], uses: [GUARD_ROUTE_BACK] }] : []),
    "if link_exists \"$DEVICE\"; then",
    "  if [ \"$(link_kind \"$DEVICE\")\" = vlan ]; then",
    "    found_id=$(vlan_id \"$DEVICE\")",
    "    [ \"$found_id\" = \"$VLAN_ID\" ] || fail \"$DEVICE: existing 802.1Q link has id $found_id, expected $VLAN_ID\"",
    "  fi",
    "else",
    "  link_exists \"$PARENT\" || fail \"$DEVICE: parent interface $PARENT does not exist\"",
    "fi",
    confirm.arm,
    "if [ ! -f \"$BEFORE\" ]; then",
    "  if ! link_exists \"$DEVICE\"; then",
    "    record \"$BEFORE\" link=absent up=no",
    "    note \"recorded previous state (link absent)\"",
    "  elif link_up \"$DEVICE\"; then",
    "    record \"$BEFORE\" link=present up=yes",
    "    note \"recorded previous state (link present, up)\"",
    "  else",
    "    record \"$BEFORE\" link=present up=no",
    "    note \"recorded previous state (link present, down)\"",
    "  fi",
    "fi",
    ...stale.map((file) => dropStaleFile(file, "\"$OWNER\"")),
    ...(files.length > 0 ? ["files_written=no"] : []),
    "if link_exists \"$DEVICE\"; then",
    "  if recorded \"$BEFORE\" link=absent; then",
    `    note ${shellQuote(VLAN_LINK_KEPT)}`,
    "  else",
    `    note ${shellQuote(VLAN_LINK_ADOPTED)}"$(link_kind "$DEVICE")"`,
    "  fi",
    ...(tooling
      ? [
          `elif ${tooling.present}; then`,
          indented(putFiles),
          "  files_written=yes",
          "  undo_push delete_link_if_present",
          "  # 9>&-: whatever the tool leaves running must not keep the host lock (fd 9).",
          `  ${tooling.up} 9>&- || fail "$DEVICE: "${shellQuote(`${tooling.name} failed`)}`,
          `  note ${shellQuote(VLAN_LINK_CREATED)}`,
          `  note "brought up by "${shellQuote(tooling.name)}`,
        ]
      : []),
    "else",
    "  if ! link_error=$(ip link add link \"$PARENT\" name \"$DEVICE\" type vlan id \"$VLAN_ID\" 2>&1); then",
    "    fail \"$DEVICE: cannot create the 802.1Q link on $PARENT: $link_error (does the kernel have 802.1Q, module 8021q?)\"",
    "  fi",
    "  undo_push delete_link_if_present",
    `  note ${shellQuote(VLAN_LINK_CREATED)}`,
    "fi",
    ...(files.length > 0
      ? [
          "if [ \"$files_written\" = no ]; then",
          indented(putFiles),
          "fi",
          { lines: ["reload_nm_profiles"], uses: [RELOAD_NM_PROFILES] },
          ...(args.boot === true
            ? [
                "if ! ifcfg_read_here; then",
                "  note \"nothing on this host reads ifcfg files (no network-scripts ifup-eth, no NetworkManager ifcfg-rh plugin); macvlan-overlay.service brings the link back at boot\"",
                "fi",
                { lines: [], uses: [IFCFG_READ_HERE] },
              ]
            : []),
        ]
      : []),
    ...(sub.address
      ? [
          "if [ -f \"$ADDED\" ] && ! recorded \"$ADDED\" \"$ADDRESS\"; then",
          "  forget_added_address",
          "fi",
          "if has_address \"$DEVICE\" \"$ADDRESS\"; then",
          "  note \"address $ADDRESS already present\"",
          "else",
          "  record \"$ADDED\" \"$ADDRESS\"",
          "  undo_push ip addr del \"$ADDRESS\" dev \"$DEVICE\"",
          "  ip addr add \"$ADDRESS\" dev \"$DEVICE\"",
          "  note \"address $ADDRESS added\"",
          "fi",
          { lines: [], uses: [HAS_ADDRESS] },
        ]
      : ["if [ -f \"$ADDED\" ]; then", "  forget_added_address", "fi"]),
    "if link_up \"$DEVICE\"; then",
    "  note \"already up\"",
    "else",
    "  undo_push ip link set dev \"$DEVICE\" down",
    "  ip link set dev \"$DEVICE\" up",
    "  note \"up (was down)\"",
    "fi",
    args.boot === true ? writeOwnFragment() : dropStaleFragment(),
    confirm.file,
    "commit",
    {
      lines: [],
      uses: [LINK_EXISTS, LINK_KIND, VLAN_ID, LINK_UP, FAIL, RECORD, NOTE, RECORDED, UNDO_PUSH, DELETE_LINK_IF_PRESENT, FORGET_ADDED_ADDRESS, COMMIT],
    },
  );
  return buildScript({
    fragment,
    title,
    comments: comments(args),
    values: [
      ["DEVICE", sub.device],
      ["PARENT", sub.parent],
      ["VLAN_ID", String(sub.vlan)],
      ...(sub.address ? [["ADDRESS", sub.address.cidr] as const] : []),
      ...fileValues(args, true),
      ["FRAGMENT", fragmentPath(args)],
      ["STATE_DIR", STATE_DIR],
      ...confirm.values,
    ],
    uses: body.uses,
    body: body.lines,
  });
  });
}

/** The boot fragment: the converge, run by the boot unit in name order (20: after the trunks); its create runs the same text. */
export function vlanBootFragment(args: VlanSubinterfaceScriptArgs): ManagedFile {
  return bootFragment(20, `vlan-${args.subinterface.device}`, converge(args, "VLAN subinterface (create, update, boot)", true));
}

function renderCreate(args: VlanSubinterfaceScriptArgs): string {
  return concernCreate({
    title: "VLAN subinterface (create or update)",
    boot: args.boot === true,
    bootFragment: () => vlanBootFragment(args),
    converge: (title) => converge(args, title),
    confirmWithinSeconds: args.confirmWithinSeconds,
  });
}

function renderDelete(args: VlanSubinterfaceScriptArgs): string {
  const tooling = persistenceBackend(args.persistence).vlanTooling(args.subinterface);
  const { files, stale } = fileVariables(args);
  const body = steps(
    "if [ -f \"$ADDED\" ]; then",
    "  forget_added_address",
    "fi",
    "if [ ! -f \"$BEFORE\" ]; then",
    "  note \"no record of a create, link left as it is\"",
    "elif recorded \"$BEFORE\" link=absent; then",
    "  if link_exists \"$DEVICE\"; then",
    ...(tooling
      ? [
          `    if ${tooling.present}; then`,
          `      ${tooling.down} 9>&- || note ${shellQuote(`${tooling.downName} failed, deleting the link with ip`)}`,
          "    fi",
          "    if link_exists \"$DEVICE\"; then",
          "      ip link del dev \"$DEVICE\"",
          "    fi",
        ]
      : ["    ip link del dev \"$DEVICE\""]),
    "    note \"vlan link deleted (create made it)\"",
    "  else",
    "    note \"vlan link already gone\"",
    "  fi",
    "elif ! link_exists \"$DEVICE\"; then",
    "  note \"link is gone, nothing to restore\"",
    "elif recorded \"$BEFORE\" up=no && link_up \"$DEVICE\"; then",
    "  ip link set dev \"$DEVICE\" down",
    "  note \"down (restored), link kept (it existed before create)\"",
    "else",
    "  note \"link kept (it existed before create)\"",
    "fi",
    ...files.map((file) => dropFile(file, "\"$OWNER\"")),
    ...stale.map((file) => dropStaleFile(file, "\"$OWNER\"")),
    ...(files.length > 0 ? [{ lines: ["reload_nm_profiles"], uses: [RELOAD_NM_PROFILES] }] : []),
    ...(args.boot === true ? [dropFragment()] : []),
    "if [ -f \"$BEFORE\" ]; then",
    "  forget \"$BEFORE\"",
    "fi",
    { lines: [], uses: [FORGET_ADDED_ADDRESS, NOTE, RECORDED, LINK_EXISTS, LINK_UP, FORGET] },
  );
  return concernDelete({
    title: "VLAN subinterface (delete)",
    confirmation: confirmation(args),
    recordNames: RECORD_NAMES,
    values: [
      ["DEVICE", args.subinterface.device],
      ...fileValues(args, false),
      ...(args.boot === true ? [["FRAGMENT", fragmentPath(args)] as const] : []),
      ["STATE_DIR", STATE_DIR],
    ],
    body,
  });
}

export function renderVlanSubinterface(args: VlanSubinterfaceScriptArgs): HostScript {
  return { create: renderCreate(args), delete: renderDelete(args) };
}
