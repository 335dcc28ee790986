import { test } from "node:test";
import assert from "node:assert/strict";
import { formatIpv4 } from "./ipv4";
import { formatProblems, parseTopology } from "./parse";

const RUNS = 300;

type RawConfig = Record<string, any>;

/** Marsaglia's xorshift32: a seed gives the same configs on every run, so a failure can be replayed. */
function randomSource(seed: number) {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state = (state ^ (state << 13)) >>> 0;
    state = (state ^ (state >>> 17)) >>> 0;
    state = (state ^ (state << 5)) >>> 0;
    return state / 2 ** 32;
  };
  const below = (limit: number): number => Math.floor(next() * limit);
  return { below, chance: (probability: number) => next() < probability, pick: <T>(list: readonly T[]): T => list[below(list.length)] };
}
type RandomSource = ReturnType<typeof randomSource>;

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

/** A valid config: distinct vlans on 10.<k>.0.0, static container ips, a router holding every gateway, or none. */
function generateConfig(random: RandomSource): GeneratedConfig {
  const ids = new Set<number>();
  const vlanCount = 1 + random.below(5);
  while (ids.size < vlanCount) ids.add(1 + random.below(4094));

  const vlans = [...ids].map((id, index) => {
    const prefix = random.pick([16, 20, 22, 24, 26, 28, 30]);
    // 10.<index>.0.0 is a network address for every prefix from /16 down, and no two overlap.
    const network = ((10 << 24) | (index << 16)) >>> 0;
    const size = 2 ** (32 - prefix);
    const gatewayOffset = 1 + random.below(size - 2);
    return {
      id,
      index,
      prefix,
      network,
      gateway: formatIpv4(network + gatewayOffset),
      taken: new Set([0, gatewayOffset, size - 1]),
      size,
      raw: {
        id: random.chance(0.3) ? String(id) : id,
        network: `mac-net${index}`,
        subnet: `${formatIpv4(network)}/${prefix}`,
        gateway: formatIpv4(network + gatewayOffset),
      },
    };
  });

  const containers: GeneratedContainer[] = [];
  const takeIp = (vlan: (typeof vlans)[number]): string => {
    let offset = 1 + random.below(vlan.size - 2);
    while (vlan.taken.has(offset)) offset = 1 + random.below(vlan.size - 2);
    vlan.taken.add(offset);
    return formatIpv4(vlan.network + offset);
  };

  const dockerCount = 1 + random.below(4);
  const hosts: RawConfig[] = [];
  for (let hostIndex = 0; hostIndex < dockerCount; hostIndex++) {
    const host: RawConfig = {
      name: `host${hostIndex}`,
      address: random.chance(0.5) ? `10.200.0.${hostIndex + 1}` : `docker-${hostIndex}.lab.example`,
      role: "docker",
      vlanAddresses: {},
      containers: [],
    };
    if (random.chance(0.3)) host.port = random.chance(0.5) ? 2200 + hostIndex : String(2200 + hostIndex);
    if (random.chance(0.2)) host.trunkInterface = `eth${hostIndex}`;
    for (const vlan of vlans) {
      if (random.chance(0.5)) host.vlanAddresses[String(vlan.id)] = `192.168.${vlan.index}.${10 + hostIndex}/24`;
    }
    const wanted = random.below(5) + (hostIndex === 0 ? 1 : 0);
    for (let n = 0; n < wanted; n++) {
      const free = vlans.filter((vlan) => vlan.taken.size < vlan.size);
      if (free.length === 0) break;
      const vlan = random.pick(free);
      const name = `c${containers.length}`;
      const ip = takeIp(vlan);
      const container: RawConfig = { name, vlan: random.chance(0.3) ? String(vlan.id) : vlan.id, ip };
      if (random.chance(0.3)) container.image = "busybox:1.36";
      containers.push({ hostIndex, containerIndex: host.containers.length, name, ip, vlan: vlan.id, gateway: vlan.gateway });
      host.containers.push(container);
    }
    hosts.push(host);
  }

  const config: RawConfig = { sshPrivateKeyFile: "id_ed25519", vlans: vlans.map((vlan) => vlan.raw), hosts };
  if (random.chance(0.6)) {
    hosts.push({
      name: "router",
      address: "10.200.0.100",
      role: "router",
      vlanAddresses: Object.fromEntries(vlans.map((vlan) => [String(vlan.id), `${vlan.gateway}/${vlan.prefix}`])),
    });
    if (random.chance(0.5)) config.router = { masquerade: random.chance(0.5) };
  }
  return { config, vlanIds: [...ids], hostNames: hosts.map((host) => host.name), containers };
}

test("every generated valid config parses, keeping its vlans, hosts and containers", () => {
  for (let seed = 1; seed <= RUNS; seed++) {
    const generated = generateConfig(randomSource(seed));
    const result = parseTopology(generated.config);
    if (!result.ok) assert.fail(`seed ${seed}:\n${formatProblems(result.problems)}`);
    const { topology } = result;
    assert.deepEqual(
      topology.vlans.map((vlan) => vlan.id),
      [...generated.vlanIds].sort((a, b) => a - b),
      `seed ${seed}`,
    );
    assert.deepEqual(
      topology.hosts.map((host) => host.name),
      generated.hostNames,
      `seed ${seed}`,
    );
    assert.deepEqual(
      topology.hosts.flatMap((host) => host.containers.map((container) => [container.name, container.vlan, container.ip])),
      generated.containers.map((container) => [container.name, container.vlan, container.ip]),
      `seed ${seed}`,
    );
  }
});

test("moving any container's ip onto its vlan's gateway yields exactly that one problem", () => {
  for (let seed = 1; seed <= RUNS; seed++) {
    const random = randomSource(seed);
    const generated = generateConfig(random);
    const moved = random.pick(generated.containers);
    generated.config.hosts[moved.hostIndex].containers[moved.containerIndex].ip = moved.gateway;
    assert.deepEqual(
      parseTopology(generated.config),
      {
        ok: false,
        problems: [
          {
            path: `hosts[${moved.hostIndex}].containers[${moved.containerIndex}].ip`,
            value: moved.gateway,
            message: `is the gateway of vlan ${moved.vlan}`,
          },
        ],
      },
      `seed ${seed}`,
    );
  }
});
