// The benchmarks' pure parts: generated topologies, statistics, tables, RESULTS.md sections and the
// address check that keeps benchmark traffic off the machine's networks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTopology } from "../topology";
import { parseIpv4Prefix } from "../topology/ipv4";
import { connectivityProbes } from "../topology/probes";
import { assertDisjoint, prefixesIn } from "./benchNetns";
import { checkConfig, linearPlanProbes } from "./checkAtScale";
import { masqueradePackets } from "./dataPlane";
import { childTimeLimitMs, extrapolateProfile } from "./programScale";
import { markdownTable } from "./markdownTable";
import { replaceSection } from "./resultsFile";
import { scaleConfig } from "./scaleTopology";
import { formatRatio, median, spread } from "./stats";

test("a generated 30-host topology is valid: 10 containers per host over 4 VLANs, one router with every gateway", () => {
  const result = parseTopology(scaleConfig({ dockerHosts: 30 }));
  assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.problems.slice(0, 3)));
  const { hosts, vlans } = result.topology;
  assert.equal(hosts.length, 31);
  assert.deepEqual(vlans.map((v) => v.id), [10, 20, 30, 40]);
  const docker = hosts.filter((h) => h.role === "docker");
  assert.ok(docker.every((h) => h.containers.length === 10 && h.subinterfaces.length === 4));
  const perVlan = vlans.map((v) => docker.flatMap((h) => h.containers).filter((c) => c.vlan === v.id).length);
  assert.deepEqual(perVlan, [75, 75, 75, 75]);
  const router = hosts.find((h) => h.role === "router")!;
  assert.deepEqual(router.subinterfaces.map((s) => s.address?.address), ["10.100.0.1", "10.101.0.1", "10.102.0.1", "10.103.0.1"]);
});

test("a generated 300-host topology is valid and its container IPs are all distinct", () => {
  const result = parseTopology(scaleConfig({ dockerHosts: 300 }));
  assert.ok(result.ok);
  const ips = result.topology.hosts.flatMap((h) => h.containers.map((c) => c.ip));
  assert.equal(ips.length, 3000);
  assert.equal(new Set(ips).size, 3000);
});

test("the check's topology keeps each container's name and IP as it grows, and is valid at every size", () => {
  const small = parseTopology(checkConfig(20));
  const large = parseTopology(checkConfig(200));
  assert.ok(small.ok && large.ok);
  const byName = new Map(large.topology.hosts.flatMap((h) => h.containers.map((c) => [c.name, c.ip] as const)));
  const smallContainers = small.topology.hosts.flatMap((h) => h.containers);
  assert.equal(smallContainers.length, 20);
  assert.equal(large.topology.hosts.flatMap((h) => h.containers).length, 200);
  for (const c of smallContainers) {
    assert.equal(byName.get(c.name), c.ip, c.name);
  }
  // The default plan is linear (containers × (VLANs + 1)); all pairs is 20 × 19, split over the two docker hosts.
  const count = (options: { allPairs?: boolean }) =>
    connectivityProbes(small.topology, "host1", options).length + connectivityProbes(small.topology, "host2", options).length;
  assert.equal(count({}), linearPlanProbes(20, 2));
  assert.equal(count({}), 60);
  assert.equal(count({ allPairs: true }), 380);
});

test("median, spread and ratios", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /no values/);
  assert.deepEqual(spread([2.5, 9, 1]), { min: 1, max: 9 });
  assert.equal(formatRatio(9, 10), "0.90×");
  assert.equal(formatRatio(1, 0), "–");
  assert.equal(formatRatio(1, undefined), "–");
});

test("a Markdown table right-aligns numeric columns, escapes pipes and refuses ragged rows", () => {
  assert.equal(
    markdownTable(["name", "n"], [["a|b", 1], ["c", 22]]),
    "| name | n |\n|---|---:|\n| a\\|b | 1 |\n| c | 22 |",
  );
  assert.throws(() => markdownTable(["a", "b"], [["x"]]), /row has 1 cells, header has 2/);
});

test("a results section is replaced in place, or appended when missing", () => {
  const doc = "# R\n\n<!-- x:start -->\nold\n<!-- x:end -->\n\ntail\n";
  assert.equal(replaceSection(doc, "x", "new"), "# R\n\n<!-- x:start -->\nnew\n<!-- x:end -->\n\ntail\n");
  assert.equal(replaceSection("# R\n", "y", "body"), "# R\n\n<!-- y:start -->\nbody\n<!-- y:end -->\n");
});

test("benchmark subnets are refused when the machine has or routes an overlapping prefix", () => {
  const addr = "2: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\n3: lab0    inet 10.213.70.1/24 scope global lab0";
  const routes = "default via 192.0.2.1 dev eth0\n10.250.0.0/16 via 192.0.2.9 dev eth0\nlocal 10.213.70.1 dev lab0 table local proto kernel";
  const taken = prefixesIn(addr, routes);
  assert.deepEqual(
    taken.map((p) => `${p.address}/${p.prefix}`),
    [parseIpv4Prefix("192.0.2.2/24"), parseIpv4Prefix("10.213.70.1/24"), parseIpv4Prefix("10.250.0.0/16"), parseIpv4Prefix("10.213.70.1/32")].map((p) => `${p!.address}/${p!.prefix}`),
  );
  assert.throws(() => assertDisjoint(["10.250.3.0/24"], taken), /10\.250\.3\.0\/24 overlaps 10\.250\.0\.0\/16/);
  assert.throws(() => assertDisjoint(["10.0.0.0/8"], taken), /overlaps/);
  // The default route is not a reason to refuse: every namespace here has no route to it.
  assert.doesNotThrow(() => assertDisjoint(["10.251.0.0/16"], taken));
});

test("the router's MASQUERADE packet counters are read from iptables -L -vnx output", () => {
  const listing = [
    "Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)",
    "    pkts      bytes target     prot opt in     out     source               destination",
    "      12      720 MASQUERADE  0    --  *      ens33.10  0.0.0.0/0            0.0.0.0/0            /* macvlan-overlay */",
    "  120345  6257940 MASQUERADE  0    --  *      ens33.20  0.0.0.0/0            0.0.0.0/0            /* macvlan-overlay */",
  ].join("\n");
  assert.equal(masqueradePackets(listing), 120357);
  assert.equal(masqueradePackets(listing.split("\n").slice(0, 2).join("\n")), 0);
});

test("a size above 30 docker hosts gets twice the linear share of the 30-host run as its time limit, never less than the base", () => {
  const base = 360_000;
  assert.equal(childTimeLimitMs(3, base, 50_000), base);
  assert.equal(childTimeLimitMs(30, base, 50_000), base);
  assert.equal(childTimeLimitMs(100, base, 50_000), base);
  assert.equal(childTimeLimitMs(300, base, 50_000), 1_000_000);
  assert.equal(childTimeLimitMs(300, base, undefined), base);
});

test("a size ours could not finish gets a floor profile extrapolated from two measured sizes (counts and bytes affine in hosts)", () => {
  const profile = (n: number) => [
    { type: "docker:index/container:Container", custom: true, count: 10 * n, inputBytes: 348 * 10 * n },
    { type: "command:remote:Command", custom: true, count: 7 * n + 6, inputBytes: 20_000 * n + 60_000 },
  ];
  assert.deepEqual(extrapolateProfile({ dockerHosts: 30, types: profile(30) }, { dockerHosts: 100, types: profile(100) }, 300), profile(300));
});
