// Builds the typed Topology from a config every rule accepted: nothing here can fail on user input.

import { broadcastOf, formatIpv4, formatIpv4Prefix, networkOf, parseIpv4Prefix, type Ipv4Prefix } from "./ipv4";
import { vlanAddresses } from "./rules/rule";
import { subinterfaceIds } from "./rules/names";
import type { ShapedConfig, ShapedHost, Settings } from "./shape";
import type { Container, Host, HostShim, InterfaceAddress, Ipv4Cidr, SshProxySettings, Subinterface, Topology } from "./types";
import { hostShimDevice } from "./hostShimName";

export function assembleTopology(config: ShapedConfig): Topology {
  const settings = complete(config.settings);
  const router = config.hosts.find((host) => host.value.role === "router");
  return {
    persistence: settings.persistence,
    ssh: {
      user: settings.sshUser,
      privateKeyFromConfig: settings.sshPrivateKey !== undefined,
      ...(settings.sshPrivateKeyFile === undefined ? {} : { privateKeyFile: settings.sshPrivateKeyFile }),
      ...(settings.sshKnownHostsFile === undefined ? {} : { knownHostsFile: settings.sshKnownHostsFile }),
      ...(settings.sshProxy === undefined ? {} : { proxy: sshProxy(settings.sshProxy, settings.sshUser) }),
    },
    vlans: config.vlans
      .map(({ value }) => ({
        id: value.id,
        network: value.network,
        subnet: toCidr(parseIpv4Prefix(value.subnet) as Ipv4Prefix),
        gateway: value.gateway,
        driver: value.driver,
      }))
      .sort((a, b) => a.id - b.id),
    hosts: config.hosts.map((host) => assembleHost(config, host)),
    ...(router === undefined ? {} : { router: { host: router.value.name, masquerade: settings.router?.masquerade ?? true } }),
    macvlanMode: settings.macvlanMode,
    verify: settings.verify,
    reapply: settings.reapply,
    confirmWithinSeconds: settings.confirmWithinSeconds,
  };
}

/** The settings with every defaulted key present, as they are once the schema passed. */
function complete(settings: Partial<Settings>): Settings {
  for (const key of ["trunkInterface", "persistence", "sshUser", "macvlanMode", "verify", "reapply", "confirmWithinSeconds"] as const) {
    if (settings[key] === undefined) throw new Error(`assembleTopology: ${key} is missing although no problem was reported`);
  }
  return settings as Settings;
}

function assembleHost(config: ShapedConfig, host: ShapedHost): Host {
  if (host.trunk === undefined) throw new Error(`assembleTopology: ${host.path} has no trunk although no problem was reported`);
  const trunk = host.trunk.name;
  const addresses = new Map(vlanAddresses(host).map((entry) => [entry.vlan, interfaceAddress(entry.text, entry.block)]));
  const subinterfaces = subinterfaceIds(config, host).map((vlan): Subinterface => {
    const address = addresses.get(vlan);
    const device = `${trunk}.${vlan}`;
    return address === undefined ? { vlan, parent: trunk, device } : { vlan, parent: trunk, device, address };
  });
  const containers = host.containers.map(
    ({ value }): Container => ({ name: value.name, key: value.key ?? value.name, vlan: value.vlan, ip: value.ip, image: value.image }),
  );
  const shims = Object.entries(host.value.hostShim)
    .map(([key, address]): HostShim => {
      const vlan = Number(key);
      const ips = containers.filter((c) => c.vlan === vlan).map((c) => c.ip);
      return { vlan, device: hostShimDevice(vlan), parent: `${trunk}.${vlan}`, address, containerIps: ips };
    })
    .sort((a, b) => a.vlan - b.vlan);
  return {
    name: host.value.name,
    address: host.value.address,
    port: host.value.port,
    role: host.value.role,
    trunkInterface: trunk,
    subinterfaces,
    containers,
    shims,
    ...(host.value.hostKey === undefined ? {} : { hostKey: host.value.hostKey }),
  };
}

function sshProxy(proxy: NonNullable<Settings["sshProxy"]>, sshUser: string): SshProxySettings {
  return {
    host: proxy.host,
    port: proxy.port,
    user: proxy.user ?? sshUser,
    ...(proxy.hostKey === undefined ? {} : { hostKey: proxy.hostKey }),
  };
}

function interfaceAddress(cidr: string, block: Ipv4Prefix): InterfaceAddress {
  return { cidr, address: formatIpv4(block.address), prefix: block.prefix, network: formatIpv4(networkOf(block)) };
}

function toCidr(block: Ipv4Prefix): Ipv4Cidr {
  return {
    cidr: formatIpv4Prefix(block),
    network: formatIpv4(block.address),
    broadcast: formatIpv4(broadcastOf(block)),
    prefix: block.prefix,
  };
}
