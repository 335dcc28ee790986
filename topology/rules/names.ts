// Names Linux or Docker would refuse later: interface names, Docker names, one passthru container per parent.

import { INTERFACE_NAME_MAX } from "../schema";
import type { ShapedConfig } from "../shape";
import { containers, vlanAddresses, type Rule } from "./rule";

// A DNS label is at most 63 characters (RFC 1035 §2.3.4); Docker resolves a container as
// <name>.<network>, and longer labels break that lookup (moby issues 35488, 37971).
export const DOCKER_NAME_MAX = 63;
// Docker's container name pattern is [a-zA-Z0-9][a-zA-Z0-9_.-]+: two characters at least.
const CONTAINER_NAME_MIN = 2;
// Docker refuses to create networks with these names: they are its predefined networks.
const PREDEFINED_NETWORKS = ["bridge", "host", "none", "default"];
// lo is the loopback device; all and default are the kernel's settings folders in /proc/sys/net/ipv4/conf/.
const RESERVED_INTERFACES = ["lo", "all", "default"];

/** The trunks in effect: the top-level one and each host's own, each with the key that set it. */
function trunks(config: ShapedConfig) {
  const top = config.settings.trunkInterface;
  const given = config.raw.trunkInterface === undefined || top === undefined ? [] : [{ name: top, path: "trunkInterface" }];
  const own = config.hosts.flatMap((host) => (host.trunk === undefined || host.trunk.path === "trunkInterface" ? [] : [host.trunk]));
  return [...given, ...own];
}

export const trunkNameAllowed: Rule = (config, findings) => {
  for (const { name, path } of trunks(config)) {
    if (name === "." || name === "..") findings.add(path, name, "must be a Linux interface name, not . or ..");
    else if (RESERVED_INTERFACES.includes(name)) {
      findings.add(path, name, "must not be lo, all or default: the loopback device and the kernel's settings folders carry no vlans");
    } else if (name.startsWith("-")) findings.add(path, name, "must not start with -: ip(8) would read it as an option");
  }
};

export const deviceNamesFit: Rule = (config, findings) => {
  for (const host of config.hosts) {
    if (host.trunk === undefined || findings.isRejected(host.trunk.path)) continue;
    for (const id of subinterfaceIds(config, host)) {
      const device = `${host.trunk.name}.${id}`;
      if (device.length <= INTERFACE_NAME_MAX) continue;
      const message = `makes the device ${device} for vlan ${id}: ${device.length} characters, Linux allows ${INTERFACE_NAME_MAX}`;
      findings.add(host.trunk.path, host.trunk.name, message);
    }
  }
};

/** The defined vlans a host takes part in: those it has an address on and those its containers use, sorted. */
export function subinterfaceIds(config: ShapedConfig, host: ShapedConfig["hosts"][number]): number[] {
  const ids = new Set<number>();
  for (const entry of vlanAddresses(host)) if (config.vlanIds.has(entry.vlan)) ids.add(entry.vlan);
  for (const container of host.containers) if (config.vlanIds.has(container.value.vlan)) ids.add(container.value.vlan);
  return [...ids].sort((a, b) => a - b);
}

export const containerNameLength: Rule = (config, findings) => {
  for (const container of containers(config)) {
    for (const field of ["name", "key"] as const) {
      const name = container.value[field];
      if (name === undefined) continue;
      if (name.length < CONTAINER_NAME_MIN) {
        findings.add(`${container.path}.${field}`, name, `must be a Docker name of at least ${CONTAINER_NAME_MIN} characters`);
      } else if (name.length > DOCKER_NAME_MAX) {
        findings.add(`${container.path}.${field}`, name, `must be a Docker name of at most ${DOCKER_NAME_MAX} characters`);
      }
    }
  }
};

export const networkNameAllowed: Rule = (config, findings) => {
  for (const vlan of config.vlans) {
    const { network } = vlan.value;
    if (PREDEFINED_NETWORKS.includes(network)) {
      findings.add(`${vlan.path}.network`, network, `is one of Docker's predefined networks (${PREDEFINED_NETWORKS.join(", ")}): pick another name`);
    } else if (network.length > DOCKER_NAME_MAX) {
      findings.add(`${vlan.path}.network`, network, `must be a Docker network name of at most ${DOCKER_NAME_MAX} characters`);
    }
  }
};

/** In passthru mode the kernel gives a parent device to one macvlan only: one container per vlan on each host. */
export const passthruOnePerParent: Rule = (config, findings) => {
  if (config.settings.macvlanMode !== "passthru") return;
  // An ipvlan vlan has no macvlan mode.
  const ipvlan = new Set(config.vlans.filter((v) => v.value.driver === "ipvlan").map((v) => v.value.id));
  for (const host of config.hosts) {
    const first = new Map<number, string>();
    for (const container of host.containers) {
      const vlan = container.value.vlan;
      if (ipvlan.has(vlan)) continue;
      const earlier = first.get(vlan);
      if (earlier === undefined) first.set(vlan, container.path);
      else {
        const parent = host.trunk === undefined ? `the vlan ${vlan} device` : `${host.trunk.name}.${vlan}`;
        const message = `shares ${parent} with ${earlier}: macvlanMode passthru allows one container per parent device`;
        findings.add(`${container.path}.vlan`, container.raw.vlan, message);
      }
    }
  }
};
