// The `summary` stack output: a few lines `pulumi up` prints at its end — the hosts, each host's
// links, networks and containers, the router's NAT, and what the connectivity check found. Pure.
import type { Topology } from "../topology";

/** One probe as the connectivity check reported it (what the summary needs of it). */
export interface ProbeOutcome {
  readonly expected: string;
  readonly result: string;
}

/**
 * The summary text for a deployed topology; `checks` holds each checking host's reported probes
 * (absent with `verify: false`).
 */
export function renderSummary(topology: Topology, checks: Readonly<Record<string, readonly ProbeOutcome[]>>): string {
  const docker = topology.hosts.filter((host) => host.role === "docker");
  const containers = docker.reduce((sum, host) => sum + host.containers.length, 0);
  const lines = [
    `${topology.hosts.length} hosts (${docker.length} docker, ${topology.hosts.length - docker.length} router), ` +
      `${topology.vlans.length} VLANs (${topology.vlans.map((vlan) => vlan.id).join(", ")}), ${containers} containers`,
  ];
  for (const host of topology.hosts) {
    const links = host.subinterfaces.map((s) => (s.address === undefined ? s.device : `${s.device} ${s.address.cidr}`)).join(", ");
    const parts = [`${host.name} (${host.role}, ${host.address}): ${links || "no VLAN link"}`];
    if (host.role === "docker") {
      const networks = host.subinterfaces.map((s) => topology.vlans.find((vlan) => vlan.id === s.vlan)!.network);
      parts.push(`networks ${networks.join(", ")}`);
      parts.push(host.containers.length === 0 ? "no containers" : `containers ${host.containers.map((c) => `${c.name} ${c.ip}`).join(", ")}`);
    } else if (topology.router !== undefined) {
      parts.push(topology.router.masquerade ? "ip_forward, FORWARD and MASQUERADE" : "ip_forward and FORWARD, no NAT");
    }
    lines.push(`  ${parts.join("; ")}`);
  }
  if (!topology.verify) {
    lines.push("check: off (verify: false)");
  } else {
    const verdicts = Object.entries(checks).map(([host, probes]) => {
      const differing = probes.filter((probe) => probe.result !== probe.expected).length;
      if (probes.length === 0) return `${host}: no probe reported`;
      return differing === 0 ? `${host} ${probes.length}/${probes.length} as expected` : `${host} ${differing} of ${probes.length} DIFFER`;
    });
    lines.push(`check: ${verdicts.join("; ") || "no checking host"}`);
  }
  return `${lines.join("\n")}\n`;
}
