// Resource names: stable identities keyed by host name, VLAN id (links), Docker network name (networks,
// which Docker keeps unique per daemon) and container key, joined with "/",
// which no host name ([a-z0-9-]), Docker name or container key can contain, so two different keys
// never give one name (host "a" + container "b-cc" and host "a-b" + container "cc" stay apart).
// Stacks deployed before these names (hyphen-joined, container by name, network by Docker network
// name) keep their resources through aliases to the old names, given only where an old name is
// unambiguous.
import type * as pulumi from "@pulumi/pulumi";
import type { Host, Topology } from "../topology";
import { concernKeys, concernName, type HostConcern } from "./plan";

export const resourceNames = {
  dockerProvider: (host: string) => `${host}/docker`,
  dockerEngine: (host: string) => concernName(host, concernKeys.dockerEngine),
  trunk: (host: string) => concernName(host, concernKeys.trunk),
  bootUnit: (host: string) => concernName(host, concernKeys.bootUnit),
  vlan: (host: string, vlan: number) => concernName(host, concernKeys.vlan(vlan)),
  shim: (host: string, vlan: number) => concernName(host, concernKeys.shim(vlan)),
  macvlan: (host: string, network: string) => concernName(host, concernKeys.network(network)),
  container: (host: string, key: string) => concernName(host, concernKeys.container(key)),
  router: (host: string) => concernName(host, concernKeys.router),
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

/** A concern's component name before stable identities; undefined for kinds that came after them. */
function legacyConcernName(host: Host, concern: HostConcern): string | undefined {
  switch (concern.kind) {
    case "promiscuous-mode":
      return legacyNames.trunk(host);
    case "vlan-link":
      return legacyNames.vlan(host, concern.subinterface.vlan);
    case "docker-network":
      return legacyNames.macvlan(host, concern.vlan.network);
    case "container":
      return legacyNames.container(host, concern.container.name);
    case "nat-router":
      return legacyNames.router(host);
    case "docker-engine":
    case "boot-unit":
    case "host-shim":
      return undefined;
  }
}

/** Each component's aliases to its old name, by what it is: `[{ name }]`, or none. */
export interface LegacyAliases {
  concern(host: Host, concern: HostConcern): pulumi.Alias[];
  dockerProvider(host: Host): pulumi.Alias[];
  check(host: Host): pulumi.Alias[];
}

/**
 * The aliases of every component of this topology, computed once: none where two components had the
 * same old name (the old program could not have deployed both; aliasing either would let the engine
 * confuse them).
 */
export function legacyAliasesFor(topology: Topology): LegacyAliases {
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
  const aliasTo = (legacyName: string | undefined): pulumi.Alias[] =>
    legacyName !== undefined && counts.get(legacyName) === 1 ? [{ name: legacyName }] : [];
  return {
    concern: (host, concern) => aliasTo(legacyConcernName(host, concern)),
    dockerProvider: (host) => aliasTo(legacyNames.dockerProvider(host)),
    check: (host) => aliasTo(legacyNames.check(host)),
  };
}

/**
 * A child's aliases from its component's: the program before stable identities named each child
 * `<component's old name><suffix>` ("host1-vlan10-link"), so every alias of the component by name
 * alone gives its child one by that name and the suffix. Other aliases carry no old child name.
 */
export function childAliases(aliases: readonly pulumi.Input<string | pulumi.Alias>[] | undefined, suffix: string): pulumi.Alias[] {
  return (aliases ?? []).flatMap((alias) => {
    if (typeof alias !== "object" || alias === null) return [];
    const keys = Object.keys(alias);
    const name = (alias as pulumi.Alias).name;
    return keys.length === 1 && typeof name === "string" ? [{ name: `${name}${suffix}` }] : [];
  });
}
