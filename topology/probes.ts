// Which pings prove the overlay works. The default plan grows linearly with the containers: each
// container pings its VLAN's gateway, one container of every other VLAN, and the next docker host's
// first container on its own VLAN. All pairs is an option for small overlays.
import type { Container, Host, Topology } from "./types";

/** How a probe's packets travel: inside one VLAN, through the router, or to the router itself. */
export type ProbeKind = "same-vlan" | "routed" | "gateway";

export interface Probe {
  /** Container the ping runs in. */
  readonly from: string;
  /** What is pinged: a container's name, or "gateway". */
  readonly to: string;
  readonly toIp: string;
  readonly kind: ProbeKind;
  readonly expectReachable: boolean;
}

export interface ProbePlanOptions {
  /** Every container to every other container (grows with the square of the containers). Default false. */
  readonly allPairs?: boolean;
}

/** The probes run from the containers of one host, grouped by source container in config order. */
export function connectivityProbes(topology: Topology, hostName: string, options: ProbePlanOptions = {}): Probe[] {
  const host = topology.hosts.find((candidate) => candidate.name === hostName);
  if (host === undefined) {
    throw new Error(`no host named ${JSON.stringify(hostName)} in the topology`);
  }
  const routed = topology.router !== undefined;
  const toContainer = (from: Container, to: Container): Probe => ({
    from: from.name,
    to: to.name,
    toIp: to.ip,
    kind: to.vlan === from.vlan ? "same-vlan" : "routed",
    expectReachable: to.vlan === from.vlan || routed,
  });
  const everyContainer = topology.hosts.flatMap((candidate) => candidate.containers);
  if (options.allPairs) {
    return host.containers.flatMap((from) =>
      everyContainer.filter((to) => to.name !== from.name).map((to) => toContainer(from, to)),
    );
  }
  const dockerHosts = topology.hosts.filter((candidate) => candidate.containers.length > 0);
  return host.containers.flatMap((from) => {
    const probes: Probe[] = [];
    const vlan = topology.vlans.find((candidate) => candidate.id === from.vlan)!;
    // Without a router nobody holds the gateway address: nothing to expect of it.
    if (routed) {
      probes.push({ from: from.name, to: "gateway", toIp: vlan.gateway, kind: "gateway", expectReachable: true });
    }
    for (const other of topology.vlans.filter((candidate) => candidate.id !== from.vlan)) {
      const target = everyContainer.find((candidate) => candidate.vlan === other.id);
      if (target !== undefined) {
        probes.push(toContainer(from, target));
      }
    }
    const neighbour = nextHostContainer(dockerHosts, host, from);
    if (neighbour !== undefined) {
      probes.push(toContainer(from, neighbour));
    }
    return probes;
  });
}

/** The first container on `from`'s VLAN of the next docker host after `host` (cyclic) that has one. */
function nextHostContainer(dockerHosts: readonly Host[], host: Host, from: Container): Container | undefined {
  const start = dockerHosts.indexOf(host);
  for (let step = 1; step < dockerHosts.length; step++) {
    const candidate = dockerHosts[(start + step) % dockerHosts.length];
    const found = candidate.containers.find((container) => container.vlan === from.vlan);
    if (found !== undefined) {
      return found;
    }
  }
  return undefined;
}

/** Each container's name → the name of the host it runs on. */
export function containerHosts(topology: Topology): Map<string, string> {
  return new Map(topology.hosts.flatMap((host) => host.containers.map((container) => [container.name, host.name] as const)));
}

/**
 * The hosts a check's probes touch: the host they start on, the router (the gateway and every routed
 * path), and each target container's host. What the check verifies, and so what re-runs it, is what
 * sits on these hosts; with the linear plan that is a bounded number of hosts per check, so the
 * checks' recorded dependencies grow linearly with the overlay instead of with its square.
 */
export function hostsProbed(
  topology: Topology,
  hostName: string,
  probes: readonly Probe[],
  hostOf: ReadonlyMap<string, string> = containerHosts(topology),
): Set<string> {
  const hosts = new Set([hostName]);
  if (topology.router !== undefined) {
    topology.hosts.filter((host) => host.role === "router").forEach((host) => hosts.add(host.name));
  }
  for (const probe of probes) {
    const target = hostOf.get(probe.to);
    if (target !== undefined) {
      hosts.add(target);
    }
  }
  return hosts;
}
