import { test } from "node:test";
import assert from "node:assert/strict";
import { problem, problemsAfter, ruleProblems, VLAN_30 } from "../../testing/devStackConfig";
import { hostAddressOnOneVlan, subnetNotSpecial, vlanAddressUsable } from "./addresses";

const SPECIAL_SUBNETS: ReadonlyArray<readonly [string, string]> = [
  ["0.0.0.0/0", "is every IPv4 address: a vlan needs a subnet of its own"],
  ["0.0.0.0/8", 'overlaps 0.0.0.0/8, the "this network" block'],
  ["127.0.0.0/8", "overlaps 127.0.0.0/8, the loopback block"],
  ["169.254.10.0/24", "overlaps 169.254.0.0/16, the link-local block, which routers do not forward"],
  ["224.0.0.0/24", "overlaps 224.0.0.0/4, the multicast block"],
  ["128.0.0.0/1", "overlaps 169.254.0.0/16, the link-local block, which routers do not forward"],
  ["240.0.0.0/24", "overlaps 240.0.0.0/4, the reserved block"],
];

for (const [subnet, message] of SPECIAL_SUBNETS) {
  test(`subnetNotSpecial: a vlan on ${subnet} is refused`, () => {
    assert.deepEqual(
      ruleProblems(subnetNotSpecial, (c) => c.vlans.push({ ...VLAN_30, subnet, gateway: subnet.replace(/0\/\d+$/, "1") })),
      [problem("vlans[2].subnet", subnet, message)],
    );
  });
}

test("subnetNotSpecial: private and public unicast subnets pass", () => {
  assert.deepEqual(ruleProblems(subnetNotSpecial, (c) => c.vlans.push({ ...VLAN_30, subnet: "100.64.0.0/24", gateway: "100.64.0.1" })), []);
});

test("a vlan on 0.0.0.0/0 is refused through parseTopology too, without blaming its gateway or the router", () => {
  assert.deepEqual(
    problemsAfter((c) => {
      c.vlans.push({ ...VLAN_30, subnet: "0.0.0.0/0", gateway: "0.0.0.1" });
      c.hosts[2].vlanAddresses["30"] = "0.0.0.1/0";
    }),
    [
      problem("vlans[2].subnet", "0.0.0.0/0", "is every IPv4 address: a vlan needs a subnet of its own"),
      problem("hosts[2].vlanAddresses.30", "0.0.0.1/0", "has the prefix /0: the host would reach every address through this vlan"),
    ],
  );
});

const SPECIAL_ADDRESSES: ReadonlyArray<readonly [string, string]> = [
  ["192.168.22.10/0", "has the prefix /0: the host would reach every address through this vlan"],
  ["127.0.0.5/8", "is in 127.0.0.0/8, the loopback block"],
  ["224.0.0.5/24", "is in 224.0.0.0/4, the multicast block"],
  ["169.254.0.5/16", "is in 169.254.0.0/16, the link-local block, which routers do not forward"],
  ["250.0.0.5/24", "is in 240.0.0.0/4, the reserved block"],
  ["0.1.2.3/24", 'is in 0.0.0.0/8, the "this network" block'],
];

for (const [address, message] of SPECIAL_ADDRESSES) {
  test(`vlanAddressUsable: a host address ${address} is refused`, () => {
    assert.deepEqual(
      ruleProblems(vlanAddressUsable, (c) => (c.hosts[0].vlanAddresses["10"] = address)),
      [problem("hosts[0].vlanAddresses.10", address, message)],
    );
  });
}

test("hostAddressOnOneVlan: one host with one address on two vlans is refused, naming the first", () => {
  assert.deepEqual(
    ruleProblems(hostAddressOnOneVlan, (c) => (c.hosts[0].vlanAddresses["20"] = "192.168.22.10/24")),
    [problem("hosts[0].vlanAddresses.20", "192.168.22.10/24", "192.168.22.10 is this host's address on vlan 10 already (hosts[0].vlanAddresses.10)")],
  );
});

test("hostAddressOnOneVlan: two hosts with one address on different vlans pass", () => {
  assert.deepEqual(ruleProblems(hostAddressOnOneVlan, (c) => (c.hosts[1].vlanAddresses["20"] = "192.168.22.10/24")), []);
});
