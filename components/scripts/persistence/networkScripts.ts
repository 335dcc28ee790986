// RHEL/CentOS 7 network-scripts: one ifcfg file per subinterface, brought up by `ifup`.
// The promiscuous flag is not persisted: ifcfg PROMISC=yes is no longer honoured on RHEL7+, and the
// usual workaround, /sbin/ifup-local, is one file shared by everything on the host, so not ours to own.

import type { Subinterface } from "../../../topology/types";
import { MANAGED_MARKER } from "../managedFile";
import { shellQuote } from "../shell";
import type { PersistenceBackend } from "./backend";
import { ipForwardSysctlFile } from "./ipForwardFile";

export const NETWORK_SCRIPTS_DIR = "/etc/sysconfig/network-scripts";

export function ifcfgPath(device: string): string {
  return `${NETWORK_SCRIPTS_DIR}/ifcfg-${device}`;
}

/** The RHEL 7 ifcfg file of a VLAN subinterface, as docs/lab-note.md writes it, under our marker line. */
export function renderIfcfg(sub: Subinterface): string {
  const lines = [MANAGED_MARKER, "BOOTPROTO=none", `NAME=${sub.device}`, `DEVICE=${sub.device}`, "ONBOOT=yes"];
  if (sub.address) {
    lines.push(`IPADDR=${sub.address.address}`, `NETWORK=${sub.address.network}`, `PREFIX=${sub.address.prefix}`);
  }
  lines.push("VLAN=yes");
  return `${lines.join("\n")}\n`;
}

export const networkScriptsBackend: PersistenceBackend = {
  name: "network-scripts",
  persists: { vlan: true, promiscuous: false, ipForward: true, iptables: false },
  whyNotPersisted: {
    promiscuous: "ifcfg PROMISC=yes is unsupported on RHEL7+ and /sbin/ifup-local is a shared file",
    iptables: "rules are not saved to /etc/sysconfig/iptables in this version",
  },
  vlanFiles: (sub) => [{ path: ifcfgPath(sub.device), content: renderIfcfg(sub) }],
  vlanTooling: () => ({
    name: "ifup",
    downName: "ifdown",
    // ifup alone exists on Debian too (ifupdown); ifup-eth marks a real network-scripts host.
    present: `[ -f ${shellQuote(`${NETWORK_SCRIPTS_DIR}/ifup-eth`)} ] && command -v ifup >/dev/null 2>&1`,
    up: "ifup \"$DEVICE\"",
    down: "ifdown \"$DEVICE\"",
  }),
  ipForwardFiles: () => [ipForwardSysctlFile()],
};
