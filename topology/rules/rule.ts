// What a rule is, and the lookups several rules share.

import { parseIpv4, parseIpv4Prefix, type Ipv4Prefix } from "../ipv4";
import { keyPath, type Findings } from "../problems";
import { toInteger, type Entry, type ShapedConfig, type ShapedHost } from "../shape";
import type { ContainerFields, VlanFields } from "../schema";

/** One meaning check on the shaped config: reports to `findings`, skips values already rejected. */
export type Rule = (config: ShapedConfig, findings: Findings) => void;

/** A host's address on one vlan, as written and as numbers. */
export interface VlanAddress {
  readonly path: string;
  readonly vlan: number;
  readonly text: string;
  readonly block: Ipv4Prefix;
}

/** The first vlan of each id among those that passed the schema. */
export function vlansById(config: ShapedConfig): Map<number, Entry<VlanFields>> {
  const byId = new Map<number, Entry<VlanFields>>();
  for (const vlan of config.vlans) if (!byId.has(vlan.value.id)) byId.set(vlan.value.id, vlan);
  return byId;
}

// Many rules walk every host address: each host's are read once.
const readAddresses = new WeakMap<ShapedHost, VlanAddress[]>();

/** The host's vlan addresses whose key is a vlan id, in config order. */
export function vlanAddresses(host: ShapedHost): VlanAddress[] {
  let addresses = readAddresses.get(host);
  if (addresses === undefined) {
    addresses = readVlanAddresses(host);
    readAddresses.set(host, addresses);
  }
  return addresses;
}

function readVlanAddresses(host: ShapedHost): VlanAddress[] {
  return Object.entries(host.value.vlanAddresses).flatMap(([key, text]) => {
    const block = parseIpv4Prefix(text);
    const vlan = toInteger(key);
    const path = keyPath(`${host.path}.vlanAddresses`, key);
    return block === undefined || vlan === undefined ? [] : [{ path, vlan, text, block }];
  });
}

export function subnetOf(vlan: Entry<VlanFields>): Ipv4Prefix {
  return parseIpv4Prefix(vlan.value.subnet) as Ipv4Prefix;
}

export function addressOf(text: string): number {
  return parseIpv4(text) as number;
}

/** Every container that passed its shape, in config order, on hosts that passed or not. */
export function containers(config: ShapedConfig): Entry<ContainerFields>[] {
  const all = [...config.hosts.flatMap((host) => host.containers), ...config.strayContainers];
  return config.strayContainers.length === 0 ? all : all.sort((a, b) => comparePaths(a.path, b.path));
}

/** hosts[2].containers[10] after hosts[2].containers[9]: by each index in turn. */
function comparePaths(a: string, b: string): number {
  const indexes = (path: string) => [...path.matchAll(/\[(\d+)\]/g)].map((match) => Number(match[1]));
  const [x, y] = [indexes(a), indexes(b)];
  return x[0] - y[0] || x[1] - y[1];
}
