// Uniqueness: ids, names, SSH endpoints and the addresses on each vlan.

import { formatIpv4 } from "../ipv4";
import type { Findings } from "../problems";
import { addressOf, containers, vlanAddresses, vlansById, type Rule } from "./rule";

interface Claim {
  readonly path: string;
  readonly key: string;
  readonly value: unknown;
  readonly detail?: string;
}

/** Reports every claim whose key an earlier claim already has, naming the earlier one. */
function reportDuplicates(findings: Findings, claims: readonly Claim[]): void {
  const first = new Map<string, Claim>();
  for (const claim of claims) {
    const earlier = first.get(claim.key);
    if (earlier === undefined) first.set(claim.key, claim);
    else findings.add(claim.path, claim.value, `duplicates ${earlier.path}${claim.detail ?? ""}`);
  }
}

export const vlanIdsUnique: Rule = (config, findings) =>
  reportDuplicates(
    findings,
    config.vlans.map((vlan) => ({ path: `${vlan.path}.id`, key: String(vlan.value.id), value: vlan.value.id })),
  );

export const networkNamesUnique: Rule = (config, findings) =>
  reportDuplicates(
    findings,
    config.vlans.map((vlan) => ({ path: `${vlan.path}.network`, key: vlan.value.network, value: vlan.value.network })),
  );

export const hostNamesUnique: Rule = (config, findings) =>
  reportDuplicates(
    findings,
    config.hosts.map((host) => ({ path: `${host.path}.name`, key: host.value.name, value: host.value.name })),
  );

export const sshEndpointsUnique: Rule = (config, findings) =>
  reportDuplicates(
    findings,
    config.hosts.map((host) => ({
      path: `${host.path}.address`,
      // DNS names are case-insensitive.
      key: `${host.value.address.toLowerCase()} ${host.value.port}`,
      value: host.value.address,
      detail: ` on the same port ${host.value.port}`,
    })),
  );

export const containerNamesUnique: Rule = (config, findings) =>
  reportDuplicates(
    findings,
    containers(config).map((container) => ({ path: `${container.path}.name`, key: container.value.name, value: container.value.name })),
  );

/** A container's key defaults to its name; two containers of one host may not share one. */
export const containerKeysUnique: Rule = (config, findings) => {
  for (const host of config.hosts) {
    reportDuplicates(
      findings,
      host.containers.map((container) => {
        const given = container.value.key !== undefined;
        const key = container.value.key ?? container.value.name;
        return { path: `${container.path}.${given ? "key" : "name"}`, key, value: key };
      }),
    );
  }
};

/** On each vlan, container ips and host addresses are all distinct; values already rejected take no part. */
export const vlanAddressesDistinct: Rule = (config, findings) => {
  const byId = vlansById(config);
  const users = new Map<number, string>();
  const claim = (vlan: number, address: number, path: string): string | undefined => {
    // Id and address packed in one safe integer: a number key is cheaper than a string for 10⁴ addresses.
    const key = vlan * 2 ** 32 + address;
    const first = users.get(key);
    if (first === undefined) users.set(key, path);
    return first;
  };

  for (const container of containers(config)) {
    const path = `${container.path}.ip`;
    if (!byId.has(container.value.vlan) || findings.isRejected(path)) continue;
    const first = claim(container.value.vlan, addressOf(container.value.ip), path);
    if (first !== undefined) findings.add(path, container.value.ip, `is already used by ${first} on vlan ${container.value.vlan}`);
  }
  for (const entry of config.hosts.flatMap(vlanAddresses)) {
    if (!byId.has(entry.vlan) || findings.isRejected(entry.path)) continue;
    const first = claim(entry.vlan, entry.block.address, entry.path);
    if (first !== undefined) {
      findings.add(entry.path, entry.text, `${formatIpv4(entry.block.address)} is already used by ${first} on vlan ${entry.vlan}`);
    }
  }
};

/** A host address that is a container's ip on another vlan would answer for that container. */
export const hostAddressNotContainerIp: Rule = (config, findings) => {
  const ips = new Map<number, { path: string; vlan: number }>();
  for (const container of containers(config)) {
    const path = `${container.path}.ip`;
    const ip = addressOf(container.value.ip);
    if (!findings.isRejected(path) && !ips.has(ip)) ips.set(ip, { path, vlan: container.value.vlan });
  }
  for (const entry of config.hosts.flatMap(vlanAddresses)) {
    const container = ips.get(entry.block.address);
    if (container === undefined || container.vlan === entry.vlan || findings.isRejected(entry.path)) continue;
    const address = formatIpv4(entry.block.address);
    findings.add(entry.path, entry.text, `${address} is the ip of ${container.path} on vlan ${container.vlan}`);
  }
};
