// The `summary` stack output: a few lines `pulumi up` prints at its end — the hosts, each host's
// links, networks and containers (from its plan, components/plan.ts), the router's NAT, and what the
// connectivity check found. Pure.
import { planHost } from "../components/plan";
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
    const concerns = planHost(topology, host);
    const links = concerns
      .flatMap((concern) => (concern.kind === "vlan-link" ? [concern.subinterface] : []))
      .map((s) => (s.address === undefined ? s.device : `${s.device} ${s.address.cidr}`))
      .join(", ");
    const parts = [`${host.name} (${host.role}, ${host.address}): ${links || "no VLAN link"}`];
    if (host.role === "docker") {
      const networks = concerns.flatMap((concern) => (concern.kind === "docker-network" ? [concern.vlan.network] : []));
      parts.push(`networks ${networks.join(", ")}`);
      // In config order, as the stack file lists them (the plan has them by VLAN).
      const containers = concerns
        .flatMap((concern) => (concern.kind === "container" ? [concern.container] : []))
        .sort((a, b) => host.containers.indexOf(a) - host.containers.indexOf(b));
      parts.push(containers.length === 0 ? "no containers" : `containers ${containers.map((c) => `${c.name} ${c.ip}`).join(", ")}`);
    }
    const router = concerns.find((concern) => concern.kind === "nat-router");
    if (router?.kind === "nat-router") {
      parts.push(router.masquerade ? "ip_forward, FORWARD and MASQUERADE" : "ip_forward and FORWARD, no NAT");
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
