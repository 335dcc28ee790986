// Management safety: no vlan route may cover a host's SSH address, or creating it cuts the session.

import { contains, networkOf, parseIpv4, parseIpv4Prefix, type Ipv4Prefix } from "../ipv4";
import { vlanAddresses, type Rule } from "./rule";

/**
 * A vlan subnet or a host's vlan address/prefix that contains a management address adds a more
 * specific route to it over the vlan. A management address given as a DNS name is not known here.
 */
export const managementAddressesOutsideVlans: Rule = (config, findings) => {
  const managed = config.hosts.flatMap((host) => {
    const address = parseIpv4(host.value.address);
    return address === undefined ? [] : [{ path: `${host.path}.address`, text: host.value.address, address }];
  });
  const check = (path: string, text: string, block: Ipv4Prefix) => {
    if (findings.isRejected(path)) return;
    const network = { address: networkOf(block), prefix: block.prefix };
    const inside = managed.find((host) => contains(network, host.address));
    if (inside === undefined) return;
    const message = `contains ${inside.path} ${inside.text}: the route it adds would take SSH to that host off its management network`;
    findings.add(path, text, message);
  };
  for (const vlan of config.vlans) check(`${vlan.path}.subnet`, vlan.value.subnet, parseIpv4Prefix(vlan.value.subnet) as Ipv4Prefix);
  for (const entry of config.hosts.flatMap(vlanAddresses)) check(entry.path, entry.text, entry.block);
};
