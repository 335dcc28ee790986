// Cross-references: every vlan a container or a host address names is defined in vlans.

import { keyPath } from "../problems";
import { definedIds, toInteger } from "../shape";
import { containers, type Rule } from "./rule";

export const containerVlanDefined: Rule = (config, findings) => {
  // While some vlan's id is unreadable, an unknown id may mean that vlan: say nothing then.
  if (!config.vlanIdsComplete) return;
  for (const container of containers(config)) {
    const id = container.value.vlan;
    if (!config.vlanIds.has(id)) {
      findings.add(`${container.path}.vlan`, container.raw.vlan, `vlan ${id} is not defined in vlans (${definedIds(config.vlanIds)})`);
    }
  }
};

export const vlanAddressKeyDefined: Rule = (config, findings) => {
  for (const host of config.hosts) {
    for (const [key, text] of Object.entries(host.value.vlanAddresses)) {
      const path = keyPath(`${host.path}.vlanAddresses`, key);
      const id = toInteger(key);
      if (id === undefined) {
        findings.add(path, text, `is not a vlan id: use the id of one of vlans (${definedIds(config.vlanIds)})`);
      } else if (config.vlanIdsComplete && !config.vlanIds.has(id)) {
        findings.add(path, text, `vlan ${id} is not defined in vlans (${definedIds(config.vlanIds)})`);
      }
    }
  }
};
