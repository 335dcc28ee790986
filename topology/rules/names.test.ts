import { test } from "node:test";
import assert from "node:assert/strict";
import { problem, problemsAfter, ruleProblems, topologyAfter } from "../../testing/devStackConfig";
import { containerNameLength, networkNameAllowed, passthruOnePerParent, trunkNameAllowed } from "./names";

test("containerNameLength: a one-character container name or key is refused, two characters pass", () => {
  assert.deepEqual(
    ruleProblems(containerNameLength, (c) => {
      c.hosts[0].containers[0].name = "a";
      c.hosts[0].containers[1].key = "b";
      c.hosts[1].containers[0].name = "ab";
    }),
    [
      problem("hosts[0].containers[0].name", "a", "must be a Docker name of at least 2 characters"),
      problem("hosts[0].containers[1].key", "b", "must be a Docker name of at least 2 characters"),
    ],
  );
});

for (const network of ["bridge", "host", "none", "default"]) {
  test(`networkNameAllowed: the network name ${network} is Docker's own`, () => {
    assert.deepEqual(ruleProblems(networkNameAllowed, (c) => (c.vlans[0].network = network)), [
      problem("vlans[0].network", network, "is one of Docker's predefined networks (bridge, host, none, default): pick another name"),
    ]);
  });
}

test("networkNameAllowed: a network name over 63 characters is refused, 63 pass", () => {
  assert.deepEqual(
    ruleProblems(networkNameAllowed, (c) => {
      c.vlans[0].network = "n".repeat(10000);
      c.vlans[1].network = "m".repeat(63);
    }),
    [problem("vlans[0].network", `${"n".repeat(59)}…`, "must be a Docker network name of at most 63 characters")],
  );
});

const TRUNK_NAMES: ReadonlyArray<readonly [string, string]> = [
  ["lo", "must not be lo, all or default: the loopback device and the kernel's settings folders carry no vlans"],
  ["all", "must not be lo, all or default: the loopback device and the kernel's settings folders carry no vlans"],
  ["default", "must not be lo, all or default: the loopback device and the kernel's settings folders carry no vlans"],
  ["-help", "must not start with -: ip(8) would read it as an option"],
  [".", "must be a Linux interface name, not . or .."],
];

for (const [name, message] of TRUNK_NAMES) {
  test(`trunkNameAllowed: a trunk named ${name} is refused, at the top level and on a host`, () => {
    assert.deepEqual(
      ruleProblems(trunkNameAllowed, (c) => {
        c.trunkInterface = name;
        c.hosts[1].trunkInterface = name;
      }),
      [problem("trunkInterface", name, message), problem("hosts[1].trunkInterface", name, message)],
    );
  });
}

test("a trunk named lo is refused through parseTopology without a device-length problem", () => {
  assert.deepEqual(problemsAfter((c) => (c.trunkInterface = "lo")), [
    problem("trunkInterface", "lo", "must not be lo, all or default: the loopback device and the kernel's settings folders carry no vlans"),
  ]);
});

test("passthruOnePerParent: in passthru mode a second container on a host's vlan is refused", () => {
  const addSecond = (c: Record<string, any>) => c.hosts[0].containers.push({ name: "bbox11", vlan: 10, ip: "172.18.0.11" });
  assert.deepEqual(
    ruleProblems(passthruOnePerParent, (c) => {
      c.macvlanMode = "passthru";
      addSecond(c);
    }),
    [
      problem(
        "hosts[0].containers[2].vlan",
        "10",
        "shares ens33.10 with hosts[0].containers[0]: macvlanMode passthru allows one container per parent device",
      ),
    ],
  );
  assert.deepEqual(ruleProblems(passthruOnePerParent, addSecond), []);
  assert.equal(topologyAfter((c) => (c.macvlanMode = "passthru")).macvlanMode, "passthru");
});

const NUMERIC_NAMES = ["0x7f.0.0.1", "0x7f000001", "lab.0x1f", "host.123", "127.1", "0177.0.0.1"];

for (const address of NUMERIC_NAMES) {
  test(`a host address ${address} is a number in disguise, not a DNS name`, () => {
    assert.deepEqual(problemsAfter((c) => (c.hosts[0].address = address)), [
      problem("hosts[0].address", address, "must be an IPv4 address or a DNS name"),
    ]);
  });
}

test("a DNS name with digits inside its labels is still a name", () => {
  assert.equal(topologyAfter((c) => (c.hosts[0].address = "0x7f.lab1.example")).hosts[0].address, "0x7f.lab1.example");
});
