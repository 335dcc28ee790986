// Host shims (`hosts[].hostShim`): each on a VLAN the docker host has a link on, with an address
// that is usable in the VLAN's subnet and held by nothing else in the stack.

import { broadcastOf, contains, formatIpv4, formatIpv4Prefix, networkOf } from "../ipv4";
import { keyPath } from "../problems";
import { definedIds, toInteger } from "../shape";
import { subinterfaceIds } from "./names";
import { addressOf, containers, subnetOf, vlanAddresses, vlansById, type Rule } from "./rule";

export const hostShimUsable: Rule = (config, findings) => {
  const byId = vlansById(config);
  const taken = new Map<string, string>();
  for (const container of containers(config)) {
    taken.set(`${container.value.vlan} ${container.value.ip}`, `the ip of ${container.path} (${container.value.name})`);
  }
  const hostAddresses = new Map<number, string>();
  for (const entry of config.hosts.flatMap(vlanAddresses)) hostAddresses.set(entry.block.address, `the address of ${entry.path}`);

  for (const host of config.hosts) {
    for (const [key, text] of Object.entries(host.value.hostShim)) {
      const path = keyPath(`${host.path}.hostShim`, key);
      const id = toInteger(key);
      const vlan = id === undefined ? undefined : byId.get(id);
      if (id === undefined || vlan === undefined) {
        if (id === undefined || config.vlanIdsComplete) {
          findings.add(path, text, `is not on a defined vlan: use the id of one of vlans (${definedIds(config.vlanIds)})`);
        }
        continue;
      }
      if (host.value.role !== "docker") {
        findings.add(path, text, "is for docker hosts: the router reaches every vlan through its gateways already");
        continue;
      }
      if (!subinterfaceIds(config, host).includes(id)) {
        findings.add(path, text, `needs a link on vlan ${id}: give ${host.value.name} a container or a vlanAddresses entry on it`);
        continue;
      }
      if (config.settings.macvlanMode === "passthru") {
        findings.add(path, text, "cannot share a parent with macvlanMode passthru, which gives the parent to one container");
        continue;
      }
      if (vlan.value.driver === "ipvlan") {
        findings.add(path, text, `cannot sit on vlan ${id}, an ipvlan network: a link takes macvlan or ipvlan children, not both`);
        continue;
      }
      const subnet = { address: networkOf(subnetOf(vlan)), prefix: subnetOf(vlan).prefix };
      const ip = addressOf(text);
      const shown = formatIpv4Prefix(subnet);
      const owner = taken.get(`${id} ${formatIpv4(ip)}`) ?? hostAddresses.get(ip);
      let message: string | undefined;
      if (!contains(subnet, ip)) message = `is outside the subnet ${shown} of vlan ${id}`;
      else if (ip === subnet.address) message = `is the network address of vlan ${id}`;
      else if (ip === broadcastOf(subnet)) message = `is the broadcast address of vlan ${id}`;
      else if (!findings.isRejected(`${vlan.path}.gateway`) && ip === addressOf(vlan.value.gateway)) message = `is the gateway of vlan ${id}`;
      else if (owner !== undefined) message = `is already ${owner}`;
      if (message !== undefined) {
        findings.add(path, text, message);
        continue;
      }
      taken.set(`${id} ${formatIpv4(ip)}`, `the shim address of ${path}`);
    }
  }
};
