// A VLAN subinterface on the trunk (a RHEL 7 ifcfg-ens33.10 + `ifup ens33.10`): the link, the
// host's address on it, up; plus the persistence backend's boot-time files. An existing link of the
// same name is adopted (the local lab emulates VLANs with veths: its kernel has no 802.1Q).

import type { Persistence, Subinterface } from "../../topology/types";
import { bootFragment, bootFragmentCommands } from "./bootUnit";
import { routeGuardFunctions } from "./routeGuard";
import {
  dropFileCommands,
  dropStaleFileCommands,
  managedFileFunctions,
  putFileCommands,
  refuseForeignCommands,
} from "./managedFile";
import { allPersistenceBackends, NETWORK_SCRIPTS_DIR, notPersistedComment, persistenceBackend } from "./persistence";
import type { ManagedFile } from "./managedFile";
import {
  holdHostLock,
  type HostScript,
  joinScript,
  prelude,
  shellQuote,
  STATE_DIR,
  stateFile,
  stateFunctions,
  transactionTrap,
} from "./shell";

export { renderIfcfg } from "./persistence";

export interface VlanSubinterfaceScriptArgs {
  readonly subinterface: Subinterface;
  readonly persistence: Persistence;
  /** Write the boot fragment that re-applies this at boot (the host has the boot unit). Default false. */
  readonly boot?: boolean;
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

/** Who owns a subinterface's records of directories it made (one name per device). */
function recordOwner(device: string): string {
  return `vlan-${device}`;
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

function linkFunctions(): string[] {
  return [
    "link_exists() { ip link show dev \"$1\" >/dev/null 2>&1; }",
    "link_up() { ip -o link show dev \"$1\" | grep -q '[<,]UP[,>]'; }",
    "delete_link_if_present() { if link_exists \"$DEVICE\"; then ip link del dev \"$DEVICE\"; fi; }",
    "link_kind() {",
    `  ip -d -o link show dev "$1" | tr ' ' '\\n' | grep -x -m 1 -E ${shellQuote(LINK_KINDS.join("|"))} || echo device`,
    "}",
    "vlan_id() { ip -d -o link show dev \"$1\" | sed -n 's/.* vlan protocol [^ ]* id \\([0-9][0-9]*\\).*/\\1/p'; }",
    "has_address() { ip -o addr show dev \"$1\" | grep -qF \" inet $2 \"; }",
    "drop_address() {",
    "  if link_exists \"$DEVICE\" && has_address \"$DEVICE\" \"$1\"; then",
    "    undo_push ip addr add \"$1\" dev \"$DEVICE\"",
    "    ip addr del \"$1\" dev \"$DEVICE\"",
    "    say \"$DEVICE: address $1 removed\"",
    "  else",
    "    say \"$DEVICE: address $1 already absent\"",
    "  fi",
    "}",
    "forget_added_address() {",
    "  added=",
    "  IFS= read -r added <\"$ADDED\" || true",
    "  [ -z \"$added\" ] || drop_address \"$added\"",
    "  forget \"$ADDED\"",
    "}",
  ];
}

function common(args: VlanSubinterfaceScriptArgs, action: "create or update" | "delete" | "boot"): string[] {
  const sub = args.subinterface;
  const backend = persistenceBackend(args.persistence);
  const files = [...backend.vlanFiles(sub), ...filesOfOtherBackends(args)];
  const boot = args.boot === true;
  return [
    ...prelude(
      `VLAN ${sub.vlan} subinterface ${sub.device} on ${sub.parent} (${action})`,
      boot ? ["Brought back at boot by macvlan-overlay.service (its boot fragment is this script's converge part)."] : notPersistedComment(backend, "vlan"),
    ),
    `DEVICE=${shellQuote(sub.device)}`,
    `BEFORE=${stateFile(stateNames(sub.device).before)}`,
    `ADDED=${stateFile(stateNames(sub.device).address)}`,
    ...stateFunctions(),
    ...(files.length > 0 || action !== "boot" ? managedFileFunctions() : []),
    ...(files.length > 0 ? ifcfgReaderFunctions(args.boot === true) : []),
    ...linkFunctions(),
  ];
}

/**
 * After ifcfg files change: NetworkManager rereads its profiles (RHEL 8/9 read ifcfg files through
 * the ifcfg-rh plugin), and a host where nothing reads them is told so.
 */
function ifcfgReaderFunctions(boot: boolean): string[] {
  const reload = [
    "nm_running() { command -v nmcli >/dev/null 2>&1 && [ \"$(nmcli -t -f RUNNING general 2>/dev/null)\" = running ]; }",
    "reload_nm_profiles() {",
    "  if nm_running; then",
    "    nmcli connection reload",
    "    say 'nmcli: connection profiles reloaded'",
    "  fi",
    "}",
  ];
  if (!boot) {
    return reload;
  }
  return [
    ...reload,
    "# ifup-eth: RHEL/CentOS 7 network-scripts; the ifcfg-rh plugin: NetworkManager on RHEL 8/9.",
    "ifcfg_read_here() {",
    `  [ -f ${shellQuote(`${NETWORK_SCRIPTS_DIR}/ifup-eth`)} ] && return 0`,
    "  for plugin in /usr/lib*/NetworkManager/*/libnm-settings-plugin-ifcfg-rh.so; do",
    "    [ -f \"$plugin\" ] && return 0",
    "  done",
    "  return 1",
    "}",
  ];
}

/** The boot fragment: the converge part alone, run by the boot unit in name order (20: after the trunks). */
export function vlanBootFragment(args: VlanSubinterfaceScriptArgs) {
  return bootFragment(20, `vlan-${args.subinterface.device}`, converge(args, "boot"));
}

function renderConverge(args: VlanSubinterfaceScriptArgs, action: "create or update"): string {
  return converge(args, action, bootFragmentCommands(vlanBootFragment(args), args.boot === true).write);
}

/**
 * Create and update: converge the host to this subinterface's wanted state without ever deleting an
 * existing link (running containers sit on it). An update also removes what an earlier version added
 * and this one does not want: an old address, another backend's files. Every change is journalled.
 */
function converge(args: VlanSubinterfaceScriptArgs, action: "create or update" | "boot", bootLines: readonly string[] = []): string {
  const sub = args.subinterface;
  const backend = persistenceBackend(args.persistence);
  const owner = recordOwner(sub.device);
  const files = backend.vlanFiles(sub);
  const tooling = backend.vlanTooling(sub);
  const putFiles = files.flatMap((file) => putFileCommands(file, owner));
  const lines = [
    ...common(args, action),
    ...transactionTrap(),
    `PARENT=${shellQuote(sub.parent)}`,
    `VLAN_ID=${shellQuote(String(sub.vlan))}`,
    ...(sub.address ? [`ADDRESS=${shellQuote(sub.address.cidr)}`] : []),
    "# Preflight: nothing changes on the host until these pass.",
    ...files.flatMap(refuseForeignCommands),
    ...(sub.address ? routeGuardFunctions() : []),
    ...(sub.address ? ["guard_route_back \"$DEVICE\" \"$ADDRESS\""] : []),
    "if link_exists \"$DEVICE\"; then",
    "  if [ \"$(link_kind \"$DEVICE\")\" = vlan ]; then",
    "    found_id=$(vlan_id \"$DEVICE\")",
    "    [ \"$found_id\" = \"$VLAN_ID\" ] || fail \"$DEVICE: existing 802.1Q link has id $found_id, expected $VLAN_ID\"",
    "  fi",
    "else",
    "  link_exists \"$PARENT\" || fail \"$DEVICE: parent interface $PARENT does not exist\"",
    "fi",
    "if [ ! -f \"$BEFORE\" ]; then",
    "  if ! link_exists \"$DEVICE\"; then",
    "    record \"$BEFORE\" link=absent up=no",
    "    say \"$DEVICE: recorded previous state (link absent)\"",
    "  elif link_up \"$DEVICE\"; then",
    "    record \"$BEFORE\" link=present up=yes",
    "    say \"$DEVICE: recorded previous state (link present, up)\"",
    "  else",
    "    record \"$BEFORE\" link=present up=no",
    "    say \"$DEVICE: recorded previous state (link present, down)\"",
    "  fi",
    "fi",
    ...filesOfOtherBackends(args).flatMap((file) => dropStaleFileCommands(file, owner)),
    ...(files.length > 0 ? ["files_written=no"] : []),
    "if link_exists \"$DEVICE\"; then",
    "  if recorded \"$BEFORE\" link=absent; then",
    `    say "$DEVICE: "${shellQuote(VLAN_LINK_KEPT)}`,
    "  else",
    `    say "$DEVICE: "${shellQuote(VLAN_LINK_ADOPTED)}"$(link_kind \"$DEVICE\")"`,
    "  fi",
  ];
  if (tooling) {
    lines.push(
      `elif ${tooling.present}; then`,
      ...putFiles.map((line) => `  ${line}`),
      "  files_written=yes",
      "  undo_push delete_link_if_present",
      "  # 9>&-: whatever the tool leaves running must not keep the host lock (fd 9).",
      `  ${tooling.up} 9>&- || fail "$DEVICE: "${shellQuote(`${tooling.name} failed`)}`,
      `  say "$DEVICE: "${shellQuote(VLAN_LINK_CREATED)}`,
      `  say "$DEVICE: brought up by "${shellQuote(tooling.name)}`,
    );
  }
  lines.push(
    "else",
    "  if ! link_error=$(ip link add link \"$PARENT\" name \"$DEVICE\" type vlan id \"$VLAN_ID\" 2>&1); then",
    "    fail \"$DEVICE: cannot create the 802.1Q link on $PARENT: $link_error (does the kernel have 802.1Q, module 8021q?)\"",
    "  fi",
    "  undo_push delete_link_if_present",
    `  say "$DEVICE: "${shellQuote(VLAN_LINK_CREATED)}`,
    "fi",
  );
  if (putFiles.length > 0) {
    lines.push(
      "if [ \"$files_written\" = no ]; then",
      ...putFiles.map((line) => `  ${line}`),
      "fi",
      "reload_nm_profiles",
      ...(args.boot === true
        ? [
            "if ! ifcfg_read_here; then",
            "  say \"$DEVICE: nothing on this host reads ifcfg files (no network-scripts ifup-eth, no NetworkManager ifcfg-rh plugin); macvlan-overlay.service brings the link back at boot\"",
            "fi",
          ]
        : []),
    );
  }
  if (sub.address) {
    lines.push(
      "if [ -f \"$ADDED\" ] && ! recorded \"$ADDED\" \"$ADDRESS\"; then",
      "  forget_added_address",
      "fi",
      "if has_address \"$DEVICE\" \"$ADDRESS\"; then",
      "  say \"$DEVICE: address $ADDRESS already present\"",
      "else",
      "  record \"$ADDED\" \"$ADDRESS\"",
      "  undo_push ip addr del \"$ADDRESS\" dev \"$DEVICE\"",
      "  ip addr add \"$ADDRESS\" dev \"$DEVICE\"",
      "  say \"$DEVICE: address $ADDRESS added\"",
      "fi",
    );
  } else {
    lines.push("if [ -f \"$ADDED\" ]; then", "  forget_added_address", "fi");
  }
  lines.push(
    "if link_up \"$DEVICE\"; then",
    "  say \"$DEVICE: already up\"",
    "else",
    "  undo_push ip link set dev \"$DEVICE\" down",
    "  ip link set dev \"$DEVICE\" up",
    "  say \"$DEVICE: up (was down)\"",
    "fi",
    ...bootLines,
    "commit",
  );
  return joinScript(lines);
}

function renderDelete(args: VlanSubinterfaceScriptArgs): string {
  const sub = args.subinterface;
  const backend = persistenceBackend(args.persistence);
  const tooling = backend.vlanTooling(sub);
  const lines = [
    ...common(args, "delete"),
    ...holdHostLock(),
    "if [ -f \"$ADDED\" ]; then",
    "  forget_added_address",
    "fi",
    "if [ ! -f \"$BEFORE\" ]; then",
    "  say \"$DEVICE: no record of a create, link left as it is\"",
    "elif recorded \"$BEFORE\" link=absent; then",
    "  if link_exists \"$DEVICE\"; then",
  ];
  if (tooling) {
    lines.push(
      `    if ${tooling.present}; then`,
      `      ${tooling.down} 9>&- || say "$DEVICE: "${shellQuote(`${tooling.downName} failed, deleting the link with ip`)}`,
      "    fi",
      "    if link_exists \"$DEVICE\"; then",
      "      ip link del dev \"$DEVICE\"",
      "    fi",
    );
  } else {
    lines.push("    ip link del dev \"$DEVICE\"");
  }
  lines.push(
    "    say \"$DEVICE: vlan link deleted (create made it)\"",
    "  else",
    "    say \"$DEVICE: vlan link already gone\"",
    "  fi",
    "elif ! link_exists \"$DEVICE\"; then",
    "  say \"$DEVICE: link is gone, nothing to restore\"",
    "elif recorded \"$BEFORE\" up=no && link_up \"$DEVICE\"; then",
    "  ip link set dev \"$DEVICE\" down",
    "  say \"$DEVICE: down (restored), link kept (it existed before create)\"",
    "else",
    "  say \"$DEVICE: link kept (it existed before create)\"",
    "fi",
    ...backend.vlanFiles(sub).flatMap((file) => dropFileCommands(file, recordOwner(sub.device))),
    ...filesOfOtherBackends(args).flatMap((file) => dropStaleFileCommands(file, recordOwner(sub.device))),
    ...(backend.vlanFiles(sub).length > 0 ? ["reload_nm_profiles"] : []),
    ...(args.boot === true ? bootFragmentCommands(vlanBootFragment(args), true).drop : []),
    "if [ -f \"$BEFORE\" ]; then",
    "  forget \"$BEFORE\"",
    "fi",
    "release_state_dir",
  );
  return joinScript(lines);
}

export function renderVlanSubinterface(args: VlanSubinterfaceScriptArgs): HostScript {
  return { create: renderConverge(args, "create or update"), delete: renderDelete(args) };
}
