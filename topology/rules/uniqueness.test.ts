import { test } from "node:test";
import assert from "node:assert/strict";
import { problem, problemsAfter, ruleProblems, topologyAfter } from "../../testing/devStackConfig";
import { containerKeysUnique, hostAddressNotContainerIp } from "./uniqueness";

test("hostAddressNotContainerIp: a host address that is a container's ip on another vlan names the container", () => {
  assert.deepEqual(
    ruleProblems(hostAddressNotContainerIp, (c) => (c.hosts[1].vlanAddresses["10"] = "172.19.0.3/24")),
    [problem("hosts[1].vlanAddresses.10", "172.19.0.3/24", "172.19.0.3 is the ip of hosts[0].containers[1].ip on vlan 20")],
  );
});

test("hostAddressNotContainerIp: the same address on the same vlan is left to the duplicate check", () => {
  assert.deepEqual(ruleProblems(hostAddressNotContainerIp, (c) => (c.hosts[0].vlanAddresses["10"] = "172.18.0.5/24")), []);
});

test("containerKeysUnique: a key equal to another container's name on the host is refused", () => {
  assert.deepEqual(
    ruleProblems(containerKeysUnique, (c) => (c.hosts[0].containers[1].key = "bbox10")),
    [problem("hosts[0].containers[1].key", "bbox10", "duplicates hosts[0].containers[0].name")],
  );
});

test("containerKeysUnique: two given keys on one host clash, on two hosts they do not", () => {
  const problems = problemsAfter((c) => {
    c.hosts[0].containers[0].key = "web";
    c.hosts[0].containers[1].key = "web";
  });
  assert.deepEqual(problems, [problem("hosts[0].containers[1].key", "web", "duplicates hosts[0].containers[0].key")]);
  assert.deepEqual(
    ruleProblems(containerKeysUnique, (c) => {
      c.hosts[0].containers[0].key = "web";
      c.hosts[1].containers[0].key = "web";
    }),
    [],
  );
});

test("a container's key defaults to its name and is kept when given", () => {
  const topology = topologyAfter((c) => (c.hosts[1].containers[0].key = "bbox10"));
  assert.deepEqual(
    topology.hosts.flatMap((host) => host.containers.map((container) => [container.name, container.key])),
    [
      ["bbox10", "bbox10"],
      ["bbox20", "bbox20"],
      ["bbox30", "bbox10"],
      ["bbox40", "bbox40"],
    ],
  );
});
