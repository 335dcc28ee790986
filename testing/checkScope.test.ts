// Each connectivity check depends on, and re-runs for, what sits on the hosts its probes touch: its own
// host, the router, and the hosts of the containers it pings. With more docker hosts than the dev
// stack's two, a check no longer depends on every host (which made the program quadratic in hosts).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ResourceRecord } from "./programHarness";
import { evaluateEditedDevStack, fakeProjectDir } from "./stackEvaluation";

const TWO_MORE_DOCKER_HOSTS = `    - name: host3
      address: 10.213.70.14
      role: docker
      vlanAddresses: { "10": 192.168.22.12/24, "20": 192.168.23.12/24 }
      containers:
        - { name: bbox50, vlan: 10, ip: 172.18.0.6 }
        - { name: bbox60, vlan: 20, ip: 172.19.0.6 }
    - name: host4
      address: 10.213.70.15
      role: docker
      vlanAddresses: { "10": 192.168.22.13/24, "20": 192.168.23.13/24 }
      containers:
        - { name: bbox70, vlan: 10, ip: 172.18.0.7 }
        - { name: bbox80, vlan: 20, ip: 172.19.0.7 }
    - name: router
`;

const nameOf = (urn: string) => urn.split("::").pop()!;

test("a check depends on its own host, the router and the hosts it pings, and on no other host", () => {
  const evaluation = evaluateEditedDevStack(fakeProjectDir(), [["    - name: router\n", TWO_MORE_DOCKER_HOSTS]]);
  assert.equal(evaluation.error, undefined);
  const byName = new Map(evaluation.resources.map((r: ResourceRecord) => [r.name, r]));
  // Hosts whose verified resources (links, networks, containers, NAT rules) a check depends on.
  const hostsOf = (check: string) => {
    const deps = byName.get(check)!.registration!.dependencies.map(nameOf);
    assert.ok(deps.length > 0, check);
    return [...new Set(deps.map((name) => name.split("/")[0]))].sort();
  };
  // host1 pings bbox20 (its own, other VLAN) and host2's bbox30/bbox40 (next host); host3 pings
  // host1's bbox10/bbox20 (first of each other VLAN) and host4's (next); host4's next is host1.
  assert.deepEqual(hostsOf("host1/check/ping"), ["host1", "host2", "router"]);
  assert.deepEqual(hostsOf("host2/check/ping"), ["host1", "host2", "host3", "router"]);
  assert.deepEqual(hostsOf("host3/check/ping"), ["host1", "host3", "host4", "router"]);
  assert.deepEqual(hostsOf("host4/check/ping"), ["host1", "host4", "router"]);
  const host1Deps = byName.get("host1/check/ping")!.registration!.dependencies.map(nameOf);
  for (const name of ["host2/container/bbox30/container", "host2/network/mac-net20/network", "host2/vlan10/link/ens33.10", "router/nat/rules"]) {
    assert.ok(host1Deps.includes(name), name);
  }
});

test("a change on a host a check does not ping leaves that check's trigger as it was; one it pings changes it", () => {
  const base = evaluateEditedDevStack(fakeProjectDir(), [["    - name: router\n", TWO_MORE_DOCKER_HOSTS]]);
  const edited = evaluateEditedDevStack(fakeProjectDir(), [
    ["    - name: router\n", TWO_MORE_DOCKER_HOSTS],
    ['"10": 192.168.22.12/24', '"10": 192.168.22.42/24'],
  ]);
  const trigger = (evaluation: typeof base, check: string) =>
    JSON.stringify(evaluation.resources.find((r) => r.name === check)!.inputs.triggers);
  assert.equal(trigger(edited, "host1/check/ping"), trigger(base, "host1/check/ping"), "host1 pings nothing on host3");
  assert.equal(trigger(edited, "host4/check/ping"), trigger(base, "host4/check/ping"), "host4 pings nothing on host3");
  assert.notEqual(trigger(edited, "host2/check/ping"), trigger(base, "host2/check/ping"), "host2 pings host3's containers");
  assert.notEqual(trigger(edited, "host3/check/ping"), trigger(base, "host3/check/ping"), "host3's own link changed");
});
