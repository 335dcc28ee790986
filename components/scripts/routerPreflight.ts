// Checks a router must pass before its create or update changes anything: the iptables command exists,
// and no firewalld is running (its own forward chain rejects routed traffic that our rules never see).

import type { ScriptStep } from "./scriptBuilder";
import { FAIL } from "./shell";

/** The firewalld zone the suggested commands create; zone names are limited to 17 characters. */
export const FIREWALLD_ZONE = "macvlan-overlay";

/** The firewall-cmd commands that let the router's VLAN interfaces forward (and masquerade) under firewalld. */
export function firewalldCommands(interfaces: readonly string[], masquerade: boolean): string[] {
  const zone = `--zone=${FIREWALLD_ZONE}`;
  return [
    `firewall-cmd --permanent --new-zone=${FIREWALLD_ZONE}`,
    ...interfaces.map((device) => `firewall-cmd --permanent ${zone} --add-interface=${device}`),
    `firewall-cmd --permanent ${zone} --add-forward`,
    ...(masquerade ? [`firewall-cmd --permanent ${zone} --add-masquerade`] : []),
    "firewall-cmd --reload",
  ];
}

/** The header value the preflight reads: the firewall-cmd commands for this router, indented, one a line. */
export function firewalldCommandsValue(interfaces: readonly string[], masquerade: boolean): readonly [string, string] {
  return ["FIREWALLD_COMMANDS", firewalldCommands(interfaces, masquerade).map((line) => `  ${line}`).join("\n")];
}

/** Body lines that stop the script before any change (they read $FIREWALLD_COMMANDS). */
export const ROUTER_PREFLIGHT: ScriptStep = {
  lines: [
    "command -v iptables >/dev/null 2>&1 ||",
    "  fail 'iptables is not installed on this router (Debian/Ubuntu: apt-get install iptables; RHEL: dnf install iptables-nft); nothing was changed on this host'",
    "if command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state >/dev/null 2>&1; then",
    "  fail \"firewalld is running on this router: it rejects forwarded traffic before the macvlan-overlay rules see it.",
    "Either let the VLAN interfaces forward under firewalld (intra-zone forwarding, firewalld 0.9 or newer):",
    "$FIREWALLD_COMMANDS",
    "and set router.masquerade to false if firewalld masquerades, or stop it: systemctl disable --now firewalld.",
    "Nothing was changed on this host.\"",
    "fi",
  ],
  uses: [FAIL],
};
