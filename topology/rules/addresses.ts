// Addresses and subnets: each one usable where it is written.

import { broadcastOf, contains, formatIpv4, formatIpv4Prefix, networkOf, overlaps, parseIpv4Prefix, type Ipv4Prefix } from "../ipv4";
import type { Entry } from "../shape";
import type { VlanFields } from "../schema";
import { addressOf, containers, subnetOf, vlanAddresses, vlansById, type Rule } from "./rule";

// A gateway plus at least one container needs two usable addresses: /30 is the smallest such subnet.
export const SUBNET_PREFIX_MAX = 30;

/** Blocks no vlan may use (RFC 6890): they are not unicast, or not routed between links. */
export const SPECIAL_BLOCKS: readonly { readonly block: Ipv4Prefix; readonly name: string }[] = [
  { block: block("0.0.0.0/8"), name: 'the "this network" block' },
  { block: block("127.0.0.0/8"), name: "the loopback block" },
  { block: block("169.254.0.0/16"), name: "the link-local block, which routers do not forward" },
  { block: block("224.0.0.0/4"), name: "the multicast block" },
  { block: block("240.0.0.0/4"), name: "the reserved block" },
];

function block(text: string): Ipv4Prefix {
  return parseIpv4Prefix(text) as Ipv4Prefix;
}

/** The vlan's subnet as its network address and prefix, however it was written. */
function networkBlock(vlan: Entry<VlanFields>): Ipv4Prefix {
  const given = subnetOf(vlan);
  return { address: networkOf(given), prefix: given.prefix };
}

export const subnetOnNetworkAddress: Rule = (config, findings) => {
  for (const vlan of config.vlans) {
    const given = subnetOf(vlan);
    const network = networkBlock(vlan);
    if (given.address !== network.address) {
      findings.add(`${vlan.path}.subnet`, vlan.value.subnet, `is not a network address: the network is ${formatIpv4Prefix(network)}`);
    }
  }
};

export const subnetLeavesRoom: Rule = (config, findings) => {
  for (const vlan of config.vlans) {
    if (subnetOf(vlan).prefix <= SUBNET_PREFIX_MAX) continue;
    const message = `must have a prefix of at most /${SUBNET_PREFIX_MAX}, to leave room for a gateway and containers`;
    findings.add(`${vlan.path}.subnet`, vlan.value.subnet, message);
  }
};

export const subnetNotSpecial: Rule = (config, findings) => {
  for (const vlan of config.vlans) {
    const subnet = networkBlock(vlan);
    const special = SPECIAL_BLOCKS.find((candidate) => overlaps(candidate.block, subnet));
    if (subnet.prefix === 0) {
      findings.add(`${vlan.path}.subnet`, vlan.value.subnet, "is every IPv4 address: a vlan needs a subnet of its own");
    } else if (special !== undefined) {
      findings.add(`${vlan.path}.subnet`, vlan.value.subnet, `overlaps ${formatIpv4Prefix(special.block)}, ${special.name}`);
    }
  }
};

export const gatewayInSubnet: Rule = (config, findings) => {
  for (const vlan of config.vlans) {
    const subnet = networkBlock(vlan);
    // A subnet too small to hold a gateway is reported already.
    if (subnet.prefix > SUBNET_PREFIX_MAX) continue;
    const gateway = addressOf(vlan.value.gateway);
    const shown = formatIpv4Prefix(subnet);
    let message: string | undefined;
    if (!contains(subnet, gateway)) message = `is outside the subnet ${shown}`;
    else if (gateway === subnet.address) message = `is the network address of ${shown}`;
    else if (gateway === broadcastOf(subnet)) message = `is the broadcast address of ${shown}`;
    if (message !== undefined) findings.add(`${vlan.path}.gateway`, vlan.value.gateway, message);
  }
};

export const subnetsDisjoint: Rule = (config, findings) => {
  const seen: Entry<VlanFields>[] = [];
  for (const vlan of config.vlans) {
    if (findings.isRejected(`${vlan.path}.subnet`)) continue;
    const earlier = seen.find((other) => overlaps(subnetOf(other), subnetOf(vlan)));
    if (earlier !== undefined) {
      findings.add(`${vlan.path}.subnet`, vlan.value.subnet, `overlaps ${earlier.path}.subnet ${earlier.value.subnet}`);
    }
    seen.push(vlan);
  }
};

export const vlanAddressUsable: Rule = (config, findings) => {
  for (const entry of config.hosts.flatMap(vlanAddresses)) {
    const { address, prefix } = entry.block;
    const network = () => formatIpv4Prefix({ address: networkOf(entry.block), prefix });
    const special = SPECIAL_BLOCKS.find((candidate) => contains(candidate.block, address));
    let message: string | undefined;
    if (prefix === 0) message = "has the prefix /0: the host would reach every address through this vlan";
    else if (special !== undefined) message = `is in ${formatIpv4Prefix(special.block)}, ${special.name}`;
    // /31 and /32 have no network or broadcast address to avoid (RFC 3021).
    else if (prefix <= SUBNET_PREFIX_MAX && address === networkOf(entry.block)) message = `is the network address of ${network()}`;
    else if (prefix <= SUBNET_PREFIX_MAX && address === broadcastOf(entry.block)) message = `is the broadcast address of ${network()}`;
    if (message !== undefined) findings.add(entry.path, entry.text, message);
  }
};

export const containerIpUsable: Rule = (config, findings) => {
  const byId = vlansById(config);
  for (const container of containers(config)) {
    const vlan = byId.get(container.value.vlan);
    if (vlan === undefined) continue;
    const ip = addressOf(container.value.ip);
    const subnet = networkBlock(vlan);
    const name = `vlan ${vlan.value.id}`;
    const inRoom = subnet.prefix <= SUBNET_PREFIX_MAX;
    let message: string | undefined;
    if (inRoom && !contains(subnet, ip)) message = `is outside the subnet ${formatIpv4Prefix(subnet)} of ${name}`;
    else if (inRoom && ip === subnet.address) message = `is the network address of ${name}`;
    else if (inRoom && ip === broadcastOf(subnet)) message = `is the broadcast address of ${name}`;
    else if (!findings.isRejected(`${vlan.path}.gateway`) && ip === addressOf(vlan.value.gateway)) message = `is the gateway of ${name}`;
    if (message !== undefined) findings.add(`${container.path}.ip`, formatIpv4(ip), message);
  }
};

/** One address on two vlans of one host: replies would leave by whichever vlan's route comes first. */
export const hostAddressOnOneVlan: Rule = (config, findings) => {
  for (const host of config.hosts) {
    const first = new Map<number, { path: string; vlan: number }>();
    for (const entry of vlanAddresses(host)) {
      if (findings.isRejected(entry.path)) continue;
      const earlier = first.get(entry.block.address);
      if (earlier === undefined) first.set(entry.block.address, entry);
      else {
        const address = formatIpv4(entry.block.address);
        findings.add(entry.path, entry.text, `${address} is this host's address on vlan ${earlier.vlan} already (${earlier.path})`);
      }
    }
  }
};
