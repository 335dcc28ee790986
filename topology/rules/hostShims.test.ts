import { test } from "node:test";
import assert from "node:assert/strict";
import { problem, problemsAfter, ruleProblems, topologyAfter, VLAN_30 } from "../../testing/devStackConfig";
import { hostShimUsable } from "./hostShims";

test("a shim on host1's vlan 10 becomes mvo-shim10 on ens33.10 with a route to each of host1's containers there", () => {
  const topology = topologyAfter((c) => (c.hosts[0].hostShim = { "10": "172.18.0.250" }));
  assert.deepEqual(topology.hosts[0].shims, [
    { vlan: 10, device: "mvo-shim10", parent: "ens33.10", address: "172.18.0.250", containerIps: ["172.18.0.2"] },
  ]);
  assert.deepEqual(topology.hosts[1].shims, []);
});

const REFUSED: ReadonlyArray<readonly [string, string, string]> = [
  ["outside the subnet", "172.19.0.250", "is outside the subnet 172.18.0.0/24 of vlan 10"],
  ["the network address", "172.18.0.0", "is the network address of vlan 10"],
  ["the broadcast address", "172.18.0.255", "is the broadcast address of vlan 10"],
  ["the gateway", "172.18.0.1", "is the gateway of vlan 10"],
  ["a container's ip on another host", "172.18.0.5", "is already the ip of hosts[1].containers[0] (bbox30)"],
  ["a container's ip on this host", "172.18.0.2", "is already the ip of hosts[0].containers[0] (bbox10)"],
];

for (const [what, address, message] of REFUSED) {
  test(`hostShimUsable: a shim address that is ${what} is refused`, () => {
    assert.deepEqual(ruleProblems(hostShimUsable, (c) => (c.hosts[0].hostShim = { "10": address })), [problem("hosts[0].hostShim.10", address, message)]);
  });
}

test("hostShimUsable: two hosts with one shim address on a vlan: the second is refused, naming the first", () => {
  assert.deepEqual(
    ruleProblems(hostShimUsable, (c) => {
      c.hosts[0].hostShim = { "10": "172.18.0.250" };
      c.hosts[1].hostShim = { "10": "172.18.0.250" };
    }),
    [problem("hosts[1].hostShim.10", "172.18.0.250", "is already the shim address of hosts[0].hostShim.10")],
  );
});

test("hostShimUsable: a shim address that is a host's vlan address is refused", () => {
  assert.deepEqual(
    ruleProblems(hostShimUsable, (c) => {
      c.vlans[0].subnet = "192.168.22.0/24";
      c.vlans[0].gateway = "192.168.22.1";
      c.hosts[0].hostShim = { "10": "192.168.22.11" };
    }),
    [problem("hosts[0].hostShim.10", "192.168.22.11", "is already the address of hosts[1].vlanAddresses.10")],
  );
});

test("hostShimUsable: on the router, on an unknown vlan, on a vlan the host has no link on, or with passthru: refused", () => {
  assert.deepEqual(ruleProblems(hostShimUsable, (c) => (c.hosts[2].hostShim = { "10": "172.18.0.250" })), [
    problem("hosts[2].hostShim.10", "172.18.0.250", "is for docker hosts: the router reaches every vlan through its gateways already"),
  ]);
  assert.deepEqual(ruleProblems(hostShimUsable, (c) => (c.hosts[0].hostShim = { "40": "172.18.0.250" })), [
    problem("hosts[0].hostShim.40", "172.18.0.250", "is not on a defined vlan: use the id of one of vlans (defined: 10, 20)"),
  ]);
  assert.deepEqual(
    ruleProblems(hostShimUsable, (c) => {
      c.vlans.push(VLAN_30);
      c.hosts[2].vlanAddresses["30"] = "172.20.0.1/24";
      c.hosts[0].hostShim = { "30": "172.20.0.250" };
    }),
    [problem("hosts[0].hostShim.30", "172.20.0.250", "needs a link on vlan 30: give host1 a container or a vlanAddresses entry on it")],
  );
  assert.deepEqual(
    ruleProblems(hostShimUsable, (c) => {
      c.macvlanMode = "passthru";
      c.hosts[0].hostShim = { "10": "172.18.0.250" };
    }),
    [problem("hosts[0].hostShim.10", "172.18.0.250", "cannot share a parent with macvlanMode passthru, which gives the parent to one container")],
  );
});

test("hostShimUsable: a shim on an ipvlan vlan is refused", () => {
  assert.deepEqual(
    ruleProblems(hostShimUsable, (c) => {
      c.vlans[0].driver = "ipvlan";
      c.hosts[0].hostShim = { "10": "172.18.0.250" };
    }),
    [problem("hosts[0].hostShim.10", "172.18.0.250", "cannot sit on vlan 10, an ipvlan network: a link takes macvlan or ipvlan children, not both")],
  );
});

test("a shim address that is not an IPv4 address is refused by its shape, naming the key", () => {
  assert.deepEqual(problemsAfter((c) => (c.hosts[0].hostShim = { "10": "172.18.0.250/24" })), [
    problem("hosts[0].hostShim.10", "172.18.0.250/24", "must be an IPv4 address like 172.18.0.250"),
  ]);
});
