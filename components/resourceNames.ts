// Resource names: stable identities keyed by host name, VLAN id (links), Docker network name (networks,
// which Docker keeps unique per daemon) and container key, joined with "/",
// which no host name ([a-z0-9-]), Docker name or container key can contain, so two different keys
// never give one name (host "a" + container "b-cc" and host "a-b" + container "cc" stay apart).
// Stacks deployed before these names (hyphen-joined, container by name, network by Docker network
// name) keep their resources through aliases to the old names, given only where an old name is
// unambiguous.
import * as pulumi from "@pulumi/pulumi";
import type { Host, Topology } from "../topology";

export const resourceNames = {
  dockerProvider: (host: string) => `${host}/docker`,
  dockerEngine: (host: string) => `${host}/docker-engine`,
  trunk: (host: string) => `${host}/trunk`,
  bootUnit: (host: string) => `${host}/boot`,
  vlan: (host: string, vlan: number) => `${host}/vlan${vlan}`,
  shim: (host: string, vlan: number) => `${host}/vlan${vlan}/shim`,
  macvlan: (host: string, network: string) => `${host}/network/${network}`,
  container: (host: string, key: string) => `${host}/container/${key}`,
  router: (host: string) => `${host}/nat`,
  check: (host: string) => `${host}/check`,
};

/** The names the program used before stable identities (a component's name; children add a suffix). */
export const legacyNames = {
  dockerProvider: (host: Host) => `${host.name}-docker`,
  trunk: (host: Host) => `${host.name}-${host.trunkInterface}`,
  vlan: (host: Host, vlan: number) => `${host.name}-vlan${vlan}`,
  macvlan: (host: Host, network: string) => `${host.name}-${network}`,
  container: (host: Host, name: string) => `${host.name}-${name}`,
  router: (host: Host) => `${host.name}-nat`,
  check: (host: Host) => `${host.name}-check`,
};

/** Aliases to a resource's old name: `legacyName` + `suffix`, or none when that old name was ambiguous. */
export type LegacyAliases = (suffix?: string) => pulumi.Input<pulumi.Alias>[];

/** No aliases (a resource that did not exist under the old names). */
export const noLegacyAliases: LegacyAliases = () => [];

/**
 * For each old component name, a LegacyAliases, or noLegacyAliases where two components of this
 * topology had the same old name (the old program could not have deployed both; aliasing either
 * would let the engine confuse them).
 */
export function legacyAliasesFor(topology: Topology): (legacyName: string) => LegacyAliases {
  const counts = new Map<string, number>();
  const count = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  for (const host of topology.hosts) {
    count(host.name);
    count(legacyNames.trunk(host));
    if (host.role === "docker") {
      count(legacyNames.dockerProvider(host));
      count(legacyNames.check(host));
    } else {
      count(legacyNames.router(host));
    }
    for (const sub of host.subinterfaces) {
      count(legacyNames.vlan(host, sub.vlan));
      if (host.role === "docker") {
        count(legacyNames.macvlan(host, topology.vlans.find((v) => v.id === sub.vlan)!.network));
      }
    }
    for (const container of host.containers) {
      count(legacyNames.container(host, container.name));
    }
  }
  return (legacyName) =>
    counts.get(legacyName) === 1 ? (suffix = "") => [{ name: `${legacyName}${suffix}` }] : noLegacyAliases;
}
