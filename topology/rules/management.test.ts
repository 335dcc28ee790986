import { test } from "node:test";
import assert from "node:assert/strict";
import { problem, problemsAfter, ruleProblems, VLAN_30 } from "../../testing/devStackConfig";
import { managementAddressesOutsideVlans } from "./management";

const CUTS = "the route it adds would take SSH to that host off its management network";

test("a host's vlan prefix over its own management address is refused (the dev stack's lockout)", () => {
  assert.deepEqual(
    problemsAfter((c) => (c.hosts[0].vlanAddresses["10"] = "10.213.70.10/25")),
    [problem("hosts[0].vlanAddresses.10", "10.213.70.10/25", `contains hosts[0].address 10.213.70.11: ${CUTS}`)],
  );
});

test("a /32 vlan address equal to another host's management address is refused", () => {
  assert.deepEqual(
    ruleProblems(managementAddressesOutsideVlans, (c) => (c.hosts[0].vlanAddresses["10"] = "10.213.70.12/32")),
    [problem("hosts[0].vlanAddresses.10", "10.213.70.12/32", `contains hosts[1].address 10.213.70.12: ${CUTS}`)],
  );
});

test("a vlan subnet over the management network is refused, and so is the router's gateway on it", () => {
  assert.deepEqual(
    ruleProblems(managementAddressesOutsideVlans, (c) => {
      c.vlans.push({ ...VLAN_30, subnet: "10.213.70.0/24", gateway: "10.213.70.1" });
      c.hosts[2].vlanAddresses["30"] = "10.213.70.1/24";
    }),
    [
      problem("vlans[2].subnet", "10.213.70.0/24", `contains hosts[0].address 10.213.70.11: ${CUTS}`),
      problem("hosts[2].vlanAddresses.30", "10.213.70.1/24", `contains hosts[0].address 10.213.70.11: ${CUTS}`),
    ],
  );
});

test("a management address given as a DNS name cannot be checked, so only IPv4 ones count", () => {
  assert.deepEqual(
    ruleProblems(managementAddressesOutsideVlans, (c) => {
      c.hosts[0].address = "host1.lab.example";
      c.hosts[0].vlanAddresses["10"] = "10.213.70.11/32";
    }),
    [],
  );
});
