// Which pings prove the overlay works: every container to every other container, expected to
// answer when they share a VLAN or a router joins their VLANs.
import type { Topology } from "./types";

export interface Probe {
  /** Container the ping runs in. */
  readonly from: string;
  /** Container pinged, by name (for the output line). */
  readonly to: string;
  readonly toIp: string;
  readonly expectReachable: boolean;
}

/** The probes run from the containers of one host, in config order. */
export function connectivityProbes(topology: Topology, hostName: string): Probe[] {
  const everyContainer = topology.hosts.flatMap((host) => host.containers);
  const host = topology.hosts.find((candidate) => candidate.name === hostName);
  if (host === undefined) {
    throw new Error(`no host named ${JSON.stringify(hostName)} in the topology`);
  }
  return host.containers.flatMap((from) =>
    everyContainer
      .filter((to) => to.name !== from.name)
      .map((to) => ({
        from: from.name,
        to: to.name,
        toIp: to.ip,
        expectReachable: to.vlan === from.vlan || topology.router !== undefined,
      })),
  );
}
