// The router: at most one, it runs no containers, and it alone holds every vlan's gateway.

import { formatIpv4 } from "../ipv4";
import { SUBNET_PREFIX_MAX } from "./addresses";
import { addressOf, subnetOf, vlanAddresses, vlansById, type Rule } from "./rule";

export const oneRouter: Rule = (config, findings) => {
  const routers = config.hosts.filter((host) => host.value.role === "router");
  for (const extra of routers.slice(1)) {
    findings.add(`${extra.path}.role`, extra.value.role, `is a second router: ${routers[0].path} is the router already`);
  }
};

export const routerRunsNoContainers: Rule = (config, findings) => {
  for (const host of config.hosts) {
    const listed = host.raw.containers;
    if (host.value.role === "router" && Array.isArray(listed) && listed.length > 0) {
      findings.add(`${host.path}.containers`, listed, "must be empty: a router host runs no containers");
    }
  }
};

export const dockerHostPresent: Rule = (config, findings) => {
  // A host that failed its shape might be the missing docker host: say nothing then.
  if (config.hostsComplete && !config.hosts.some((host) => host.value.role === "docker")) {
    findings.add("hosts", undefined, "needs at least one host with role docker");
  }
};

export const routerSettingsNeedRouter: Rule = (config, findings) => {
  if (config.hostsComplete && config.raw.router !== undefined && !config.hosts.some((host) => host.value.role === "router")) {
    findings.add("router", config.raw.router, "is set but no host has role router");
  }
};

/** The gateways that passed their checks, by address, and their vlans by id. */
function usableGateways(config: Parameters<Rule>[0], findings: Parameters<Rule>[1]) {
  const byId = vlansById(config);
  const usable = [...byId.values()].filter(
    (vlan) => !findings.isRejected(`${vlan.path}.gateway`) && subnetOf(vlan).prefix <= SUBNET_PREFIX_MAX,
  );
  return { byId, usable };
}

export const gatewaysOnlyOnRouter: Rule = (config, findings) => {
  const { byId, usable } = usableGateways(config, findings);
  const owners = new Map(usable.map((vlan) => [addressOf(vlan.value.gateway), vlan]));
  for (const host of config.hosts.filter((candidate) => candidate.value.role === "docker")) {
    for (const entry of vlanAddresses(host)) {
      if (findings.isRejected(entry.path) || !byId.has(entry.vlan)) continue;
      const owner = owners.get(entry.block.address);
      if (owner !== undefined) {
        findings.add(entry.path, entry.text, `uses the gateway of vlan ${owner.value.id}, which only the router holds`);
      }
    }
  }
};

export const routerAddressIsGateway: Rule = (config, findings) => {
  const { byId, usable } = usableGateways(config, findings);
  for (const host of config.hosts.filter((candidate) => candidate.value.role === "router")) {
    for (const entry of vlanAddresses(host)) {
      const vlan = byId.get(entry.vlan);
      if (findings.isRejected(entry.path) || vlan === undefined || !usable.includes(vlan)) continue;
      const expected = `${vlan.value.gateway}/${subnetOf(vlan).prefix}`;
      if (entry.text !== expected) {
        findings.add(entry.path, entry.text, `must be the gateway of vlan ${vlan.value.id} with its subnet's prefix: ${expected}`);
      }
    }
  }
};

export const routerHoldsEveryGateway: Rule = (config, findings) => {
  const router = config.hosts.find((host) => host.value.role === "router");
  if (router === undefined) return;
  const held = new Set(vlanAddresses(router).map((entry) => entry.vlan));
  for (const vlan of usableGateways(config, findings).usable) {
    if (held.has(vlan.value.id)) continue;
    const gateway = `${formatIpv4(addressOf(vlan.value.gateway))}/${subnetOf(vlan).prefix}`;
    findings.add(
      `${router.path}.vlanAddresses.${vlan.value.id}`,
      undefined,
      `is required: the router holds the gateway of vlan ${vlan.value.id}, ${gateway}`,
    );
  }
};
