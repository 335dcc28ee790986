import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatIpv4 } from "./ipv4";
import { formatProblems, parseTopology } from "./parse";

type RawConfig = Record<string, any>;

const VLANS_MAX = 5;
const PREFIXES = [16, 20, 22, 24, 26, 28, 30];

interface GeneratedContainer {
  readonly hostIndex: number;
  readonly containerIndex: number;
  readonly name: string;
  readonly ip: string;
  readonly vlan: number;
  readonly gateway: string;
}

interface GeneratedConfig {
  readonly config: RawConfig;
  readonly vlanIds: readonly number[];
  readonly hostNames: readonly string[];
  readonly containers: readonly GeneratedContainer[];
}

const hostPlan = fc.record({
  dnsAddress: fc.boolean(),
  port: fc.option(fc.record({ value: fc.integer({ min: 1, max: 65535 }), asText: fc.boolean() }), { nil: undefined }),
  ownTrunk: fc.boolean(),
  addressedOn: fc.array(fc.boolean(), { minLength: VLANS_MAX, maxLength: VLANS_MAX }),
  containers: fc.array(fc.record({ vlan: fc.nat(), offset: fc.nat(), vlanAsText: fc.boolean(), image: fc.boolean() }), { maxLength: 4 }),
});

const configPlan = fc.record({
  vlans: fc.uniqueArray(
    fc.record({ id: fc.integer({ min: 1, max: 4094 }), prefix: fc.constantFrom(...PREFIXES), gateway: fc.nat(), idAsText: fc.boolean() }),
    { minLength: 1, maxLength: VLANS_MAX, selector: (vlan) => vlan.id },
  ),
  hosts: fc.array(hostPlan, { minLength: 1, maxLength: 4 }),
  router: fc.option(fc.option(fc.boolean(), { nil: undefined }), { nil: null }),
});

/** A valid config: distinct vlans on 10.<k>.0.0, static container ips, a router holding every gateway, or none. */
const validConfig: fc.Arbitrary<GeneratedConfig> = configPlan.map((plan) => {
  const vlans = plan.vlans.map((vlan, index) => {
    // 10.<index>.0.0 is a network address for every prefix from /16 down, and no two overlap.
    const network = ((10 << 24) | (index << 16)) >>> 0;
    const size = 2 ** (32 - vlan.prefix);
    const gatewayOffset = 1 + (vlan.gateway % (size - 2));
    const gateway = formatIpv4(network + gatewayOffset);
    return {
      id: vlan.id,
      index,
      prefix: vlan.prefix,
      network,
      size,
      gateway,
      taken: new Set([0, gatewayOffset, size - 1]),
      raw: { id: vlan.idAsText ? String(vlan.id) : vlan.id, network: `mac-net${index}`, subnet: `${formatIpv4(network)}/${vlan.prefix}`, gateway },
    };
  });

  const containers: GeneratedContainer[] = [];
  const hosts: RawConfig[] = plan.hosts.map((hostPlan, hostIndex) => {
    const host: RawConfig = {
      name: `host${hostIndex}`,
      address: hostPlan.dnsAddress ? `docker-${hostIndex}.lab.example` : `10.200.0.${hostIndex + 1}`,
      role: "docker",
      vlanAddresses: {},
      containers: [],
    };
    if (hostPlan.port !== undefined) host.port = hostPlan.port.asText ? String(hostPlan.port.value) : hostPlan.port.value;
    if (hostPlan.ownTrunk) host.trunkInterface = `eth${hostIndex}`;
    for (const vlan of vlans) {
      if (hostPlan.addressedOn[vlan.index]) host.vlanAddresses[String(vlan.id)] = `192.168.${vlan.index}.${10 + hostIndex}/24`;
    }
    for (const wanted of hostPlan.containers) {
      const vlan = vlans[wanted.vlan % vlans.length];
      if (vlan.taken.size >= vlan.size) continue;
      let offset = wanted.offset % vlan.size;
      while (vlan.taken.has(offset)) offset = (offset + 1) % vlan.size;
      vlan.taken.add(offset);
      const name = `c${containers.length}`;
      const ip = formatIpv4(vlan.network + offset);
      const container: RawConfig = { name, vlan: wanted.vlanAsText ? String(vlan.id) : vlan.id, ip };
      if (wanted.image) container.image = "busybox:1.36";
      containers.push({ hostIndex, containerIndex: host.containers.length, name, ip, vlan: vlan.id, gateway: vlan.gateway });
      host.containers.push(container);
    }
    return host;
  });

  const config: RawConfig = { sshPrivateKeyFile: "id_ed25519", sshKnownHostsFile: "known_hosts", vlans: vlans.map((vlan) => vlan.raw), hosts };
  if (plan.router !== null) {
    hosts.push({
      name: "router",
      address: "10.200.0.100",
      role: "router",
      vlanAddresses: Object.fromEntries(vlans.map((vlan) => [String(vlan.id), `${vlan.gateway}/${vlan.prefix}`])),
    });
    if (plan.router !== undefined) config.router = { masquerade: plan.router };
  }
  return { config, vlanIds: vlans.map((vlan) => vlan.id), hostNames: hosts.map((host) => host.name), containers };
});

test("every generated valid config parses, keeping its vlans, hosts and containers", () => {
  fc.assert(
    fc.property(validConfig, (generated) => {
      const result = parseTopology(generated.config);
      if (!result.ok) assert.fail(formatProblems(result.problems));
      const { topology } = result;
      assert.deepEqual(
        topology.vlans.map((vlan) => vlan.id),
        [...generated.vlanIds].sort((a, b) => a - b),
      );
      assert.deepEqual(
        topology.hosts.map((host) => host.name),
        generated.hostNames,
      );
      assert.deepEqual(
        topology.hosts.flatMap((host) => host.containers.map((container) => [container.name, container.vlan, container.ip])),
        generated.containers.map((container) => [container.name, container.vlan, container.ip]),
      );
    }),
    { numRuns: 300 },
  );
});

test("moving any container's ip onto its vlan's gateway yields exactly that one problem", () => {
  const withContainer = validConfig.filter((generated) => generated.containers.length > 0);
  fc.assert(
    fc.property(withContainer, fc.nat(), (generated, pick) => {
      const moved = generated.containers[pick % generated.containers.length];
      generated.config.hosts[moved.hostIndex].containers[moved.containerIndex].ip = moved.gateway;
      assert.deepEqual(parseTopology(generated.config), {
        ok: false,
        problems: [
          {
            path: `hosts[${moved.hostIndex}].containers[${moved.containerIndex}].ip`,
            value: moved.gateway,
            message: `is the gateway of vlan ${moved.vlan}`,
          },
        ],
      });
    }),
    { numRuns: 300 },
  );
});

test("a docker host's vlan address on its own IPv4 management address yields exactly that one problem", () => {
  fc.assert(
    fc.property(validConfig, fc.nat(), (generated, pick) => {
      const hosts = generated.config.hosts as RawConfig[];
      const candidates = hosts.flatMap((host, index) => (host.role === "docker" && !host.address.endsWith(".example") ? [index] : []));
      fc.pre(candidates.length > 0);
      const index = candidates[pick % candidates.length];
      const host = hosts[index];
      const vlan = generated.vlanIds[pick % generated.vlanIds.length];
      host.vlanAddresses[String(vlan)] = `${host.address}/32`;
      assert.deepEqual(parseTopology(generated.config), {
        ok: false,
        problems: [
          {
            path: `hosts[${index}].vlanAddresses.${vlan}`,
            value: `${host.address}/32`,
            message: `contains hosts[${index}].address ${host.address}: the route it adds would take SSH to that host off its management network`,
          },
        ],
      });
    }),
    { numRuns: 200 },
  );
});
