// Generated stack configs for the scale benchmarks: N docker hosts with 10 containers each spread
// over 4 VLANs, and one router holding every gateway. Config only: these addresses are never put
// on an interface.

import { formatIpv4, parseIpv4 } from "../topology/ipv4";

export interface ScaleShape {
  /** Docker hosts (the router comes on top). */
  readonly dockerHosts: number;
  /** Containers on each docker host (default 10). */
  readonly containersPerHost?: number;
  /** VLANs 10, 20, …; containers go round-robin over them (default 4). */
  readonly vlans?: number;
}

/** Container subnets 10.100.0.0/16, 10.101.0.0/16, …; the hosts' own VLAN addresses in 10.200+k. */
function vlanBase(k: number): number {
  return parseIpv4(`10.${100 + k}.0.0`)!;
}

function hostLegBase(k: number): number {
  return parseIpv4(`10.${200 + k}.0.0`)!;
}

/** A raw stack config (what `parseTopology` takes) of the given shape. */
export function scaleConfig(shape: ScaleShape): Record<string, unknown> {
  const perHost = shape.containersPerHost ?? 10;
  const vlanCount = shape.vlans ?? 4;
  if (vlanCount > 50 || shape.dockerHosts > 60000) {
    throw new Error(`scale shape too large for the address plan: ${JSON.stringify(shape)}`);
  }
  const vlans = Array.from({ length: vlanCount }, (_, k) => ({
    id: 10 * (k + 1),
    network: `mac-net${10 * (k + 1)}`,
    subnet: `${formatIpv4(vlanBase(k))}/16`,
    gateway: formatIpv4(vlanBase(k) + 1),
  }));
  const usedPerVlan = new Array<number>(vlanCount).fill(0);
  const hosts: Record<string, unknown>[] = [];
  for (let h = 0; h < shape.dockerHosts; h++) {
    const containers = Array.from({ length: perHost }, (_, c) => {
      const k = (h * perHost + c) % vlanCount;
      // .0.0 is the network, .0.1 the gateway: containers start at .0.10.
      const ip = formatIpv4(vlanBase(k) + 10 + usedPerVlan[k]++);
      return { name: `h${h}c${c}`, vlan: vlans[k].id, ip };
    });
    hosts.push({
      name: `host${h}`,
      address: formatIpv4(parseIpv4("10.99.0.0")! + 10 + h),
      role: "docker",
      vlanAddresses: Object.fromEntries(vlans.map((vlan, k) => [String(vlan.id), `${formatIpv4(hostLegBase(k) + 10 + h)}/16`])),
      containers,
    });
  }
  hosts.push({
    name: "router",
    address: formatIpv4(parseIpv4("10.99.0.0")! + 2),
    role: "router",
    vlanAddresses: Object.fromEntries(vlans.map((vlan) => [String(vlan.id), `${vlan.gateway}/16`])),
  });
  return { sshPrivateKeyFile: "id_ed25519", sshKnownHostsFile: "known_hosts", vlans, hosts, router: { masquerade: true } };
}
