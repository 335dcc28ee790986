import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import { readStackConfig } from "../config/stackFile";
import { parseTopology } from "./parse";
import { connectivityProbes } from "./probes";
import type { Topology } from "./types";

const DEV_STACK = path.resolve(__dirname, "..", "..", "Pulumi.dev.yaml");

function parsed(raw: Record<string, unknown>): Topology {
  const result = parseTopology(raw);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.topology;
}

const dev = () => parsed(readStackConfig(DEV_STACK).raw);

test("the dev stack's plan: gateway, one container of the other VLAN, the next host's container on the same VLAN", () => {
  assert.deepEqual(connectivityProbes(dev(), "host2"), [
    { from: "bbox30", to: "gateway", toIp: "172.18.0.1", kind: "gateway", expectReachable: true },
    { from: "bbox30", to: "bbox20", toIp: "172.19.0.3", kind: "routed", expectReachable: true },
    { from: "bbox30", to: "bbox10", toIp: "172.18.0.2", kind: "same-vlan", expectReachable: true },
    { from: "bbox40", to: "gateway", toIp: "172.19.0.1", kind: "gateway", expectReachable: true },
    { from: "bbox40", to: "bbox10", toIp: "172.18.0.2", kind: "routed", expectReachable: true },
    { from: "bbox40", to: "bbox20", toIp: "172.19.0.3", kind: "same-vlan", expectReachable: true },
  ]);
  assert.deepEqual(connectivityProbes(dev(), "router"), []);
  assert.throws(() => connectivityProbes(dev(), "nobody"), /no host named "nobody"/);
});

test("all pairs is an option: every other container, expected reachable with a router", () => {
  const probes = connectivityProbes(dev(), "host1", { allPairs: true });
  assert.deepEqual(probes.map((p) => `${p.from}>${p.to}:${p.kind}`), [
    "bbox10>bbox20:routed", "bbox10>bbox30:same-vlan", "bbox10>bbox40:routed",
    "bbox20>bbox10:routed", "bbox20>bbox30:routed", "bbox20>bbox40:same-vlan",
  ]);
  assert.ok(probes.every((p) => p.expectReachable));
});

test("the plan grows linearly: 300 containers on 10 hosts and 3 VLANs give 4 probes each", () => {
  const raw = readStackConfig(DEV_STACK).raw;
  const vlans = [10, 20, 30].map((id, v) => ({ id, network: `mac-net${id}`, subnet: `172.${18 + v}.0.0/22`, gateway: `172.${18 + v}.0.1` }));
  const hosts = Array.from({ length: 10 }, (_, h) => ({
    name: `host${h + 1}`,
    address: `10.213.70.${11 + h}`,
    role: "docker",
    containers: Array.from({ length: 30 }, (_, c) => {
      const v = c % 3;
      const n = h * 10 + Math.floor(c / 3) + 2;
      return { name: `c${h + 1}x${c + 1}`, vlan: vlans[v].id, ip: `172.${18 + v}.${Math.floor(n / 250)}.${(n % 250) + 2}` };
    }),
  }));
  const router = { name: "router", address: "10.213.70.99", role: "router", vlanAddresses: Object.fromEntries(vlans.map((v) => [String(v.id), `${v.gateway}/22`])) };
  const topology = parsed({ ...raw, vlans, hosts: [...hosts, router] });
  const linear = topology.hosts.flatMap((host) => connectivityProbes(topology, host.name));
  assert.equal(linear.length, 300 * 4);
  const allPairs = connectivityProbes(topology, "host1", { allPairs: true });
  assert.equal(allPairs.length, 30 * 299);
});

test("without a router nobody holds the gateway: no gateway probes, routed probes expected unreachable", () => {
  const raw = readStackConfig(DEV_STACK).raw as { hosts: Array<{ role: string }> };
  const withoutRouter = { ...raw, hosts: raw.hosts.filter((h) => h.role !== "router"), router: undefined };
  delete (withoutRouter as Record<string, unknown>).router;
  const probes = connectivityProbes(parsed(withoutRouter), "host1");
  assert.deepEqual(probes.map((p) => `${p.from}>${p.to}:${p.kind}:${p.expectReachable}`), [
    "bbox10>bbox20:routed:false", "bbox10>bbox30:same-vlan:true",
    "bbox20>bbox10:routed:false", "bbox20>bbox40:same-vlan:true",
  ]);
});
