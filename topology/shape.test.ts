import { test } from "node:test";
import assert from "node:assert/strict";
import { formatProblems, parseTopology } from "./parse";

import { KEY_FILE, KNOWN_TOP_LEVEL, PORT, VLAN_30, VLAN_ID, didYouMean, problem, problemsAfter, testRejected } from "../testing/devStackConfig";

testRejected([
  // unknown keys, at every level
  {
    behaviour: "an unknown top-level key is named with its value and the known key it most likely meant",
    change: (c) => (c.trunkInterfaces = "ens34"),
    problems: [problem("trunkInterfaces", "ens34", didYouMean("trunkInterface", KNOWN_TOP_LEVEL))],
  },
  {
    behaviour: "an unknown top-level key with an odd name is quoted in the path",
    change: (c) => (c["ssh user"] = "root"),
    problems: [problem('["ssh user"]', "root", didYouMean("sshUser", KNOWN_TOP_LEVEL))],
  },
  {
    behaviour: "an unknown key in a vlan is named",
    change: (c) => (c.vlans[0].vlanId = 10),
    problems: [problem("vlans[0].vlanId", "10", "is not a known key (known: id, network, subnet, gateway, driver)")],
  },
  {
    behaviour: "an unknown key in a host is named",
    change: (c) => (c.hosts[0].user = "admin"),
    problems: [
      problem(
        "hosts[0].user",
        "admin",
        "is not a known key (known: name, address, port, role, trunkInterface, vlanAddresses, containers, hostShim, hostKey)",
      ),
    ],
  },
  {
    behaviour: "an unknown key in a container is named",
    change: (c) => (c.hosts[0].containers[0].mac = "02:42:ac:12:00:02"),
    problems: [problem("hosts[0].containers[0].mac", "02:42:ac:12:00:02", "is not a known key (known: name, vlan, ip, image, key)")],
  },
  {
    behaviour: "an unknown key in the router settings is named",
    change: (c) => (c.router.nat = true),
    problems: [problem("router.nat", "true", "is not a known key (known: masquerade)")],
  },

  // a misspelt key, at every level the schema knows, is answered with the key it most likely meant
  {
    behaviour: "a misspelt vlan key is named with the key it most likely meant",
    change: (c) => {
      c.vlans[0].subnett = c.vlans[0].subnet;
      delete c.vlans[0].subnet;
    },
    problems: [
      problem("vlans[0].subnett", "172.18.0.0/24", "is not a known key: did you mean `subnet`? (known: id, network, subnet, gateway, driver)"),
      problem("vlans[0].subnet", "", "is required"),
    ],
  },
  {
    behaviour: "a misspelt host key is named with the key it most likely meant",
    change: (c) => {
      c.hosts[2].vlanAdresses = c.hosts[2].vlanAddresses;
      delete c.hosts[2].vlanAddresses;
    },
    problems: [
      problem(
        "hosts[2].vlanAdresses",
        '{"10":"172.18.0.1/24","20":"172.19.0.1/24"}',
        "is not a known key: did you mean `vlanAddresses`? (known: name, address, port, role, trunkInterface, vlanAddresses, containers, hostShim, hostKey)",
      ),
    ],
  },
  {
    behaviour: "a misspelt container key (two letters swapped) is named with the key it most likely meant",
    change: (c) => (c.hosts[0].containers[0].imgae = "busybox:1.36"),
    problems: [problem("hosts[0].containers[0].imgae", "busybox:1.36", "is not a known key: did you mean `image`? (known: name, vlan, ip, image, key)")],
  },
  {
    behaviour: "a misspelt router key is named with the key it most likely meant",
    change: (c) => (c.router.masquerad = false),
    problems: [problem("router.masquerad", "false", "is not a known key: did you mean `masquerade`? (known: masquerade)")],
  },

  // required keys and types
  {
    behaviour: "a missing vlans list is required",
    change: (c) => delete c.vlans,
    problems: [problem("vlans", "", "is required: a non-empty list of vlans {id, network, subnet, gateway}")],
  },
  {
    behaviour: "an empty vlans list is refused, without blaming every reference to a vlan",
    change: (c) => (c.vlans = []),
    problems: [problem("vlans", "[]", "must be a non-empty list of vlans {id, network, subnet, gateway}")],
  },
  {
    behaviour: "a vlans value that is not a list is refused",
    change: (c) => (c.vlans = "10"),
    problems: [problem("vlans", "10", "must be a non-empty list of vlans {id, network, subnet, gateway}")],
  },
  {
    behaviour: "a vlan that is not an object is refused",
    change: (c) => c.vlans.push("mac-net30"),
    problems: [problem("vlans[2]", "mac-net30", "must be an object")],
  },
  {
    behaviour: "a vlan without network, subnet and gateway names each missing key",
    change: (c) => c.vlans.push({ id: 30 }),
    problems: [
      problem("vlans[2].network", "", "is required"),
      problem("vlans[2].subnet", "", "is required"),
      problem("vlans[2].gateway", "", "is required"),
    ],
  },
  {
    behaviour: "a missing hosts list is required",
    change: (c) => delete c.hosts,
    problems: [problem("hosts", "", "is required: a non-empty list of hosts {name, address, role, ...}")],
  },
  {
    behaviour: "an empty hosts list is refused",
    change: (c) => (c.hosts = []),
    problems: [problem("hosts", "[]", "must be a non-empty list of hosts {name, address, role, ...}")],
  },
  {
    behaviour: "a host that is not an object is refused",
    change: (c) => (c.hosts[0] = "host1"),
    problems: [problem("hosts[0]", "host1", "must be an object")],
  },
  {
    behaviour: "a host without name, address and role names each missing key",
    change: (c) => c.hosts.push({}),
    problems: [
      problem("hosts[3].name", "", "is required"),
      problem("hosts[3].address", "", "is required"),
      problem("hosts[3].role", "", "is required"),
    ],
  },
  {
    behaviour: "a container without name, vlan and ip names each missing key",
    change: (c) => c.hosts[0].containers.push({}),
    problems: [
      problem("hosts[0].containers[2].name", "", "is required"),
      problem("hosts[0].containers[2].vlan", "", "is required"),
      problem("hosts[0].containers[2].ip", "", "is required"),
    ],
  },
  {
    behaviour: "containers that are not a list are refused",
    change: (c) => (c.hosts[0].containers = "bbox10"),
    problems: [problem("hosts[0].containers", "bbox10", "must be a list of containers {name, vlan, ip, image}")],
  },
  {
    behaviour: "vlanAddresses that are not an object are refused",
    change: (c) => (c.hosts[0].vlanAddresses = "192.168.22.10/24"),
    problems: [
      problem("hosts[0].vlanAddresses", "192.168.22.10/24", 'must be an object of vlan id to address, like { "10": 192.168.22.10/24 }'),
    ],
  },
  {
    behaviour: "a host name that is a number is a wrong type",
    change: (c) => (c.hosts[0].name = 42),
    problems: [problem("hosts[0].name", "42", "must be a string")],
  },
  {
    behaviour: "router settings that are not an object are refused",
    change: (c) => (c.router = true),
    problems: [problem("router", "true", "must be an object")],
  },

  // top-level settings
  {
    behaviour: "persistence is network-scripts or none",
    change: (c) => (c.persistence = "systemd"),
    problems: [problem("persistence", "systemd", "must be one of: network-scripts, none")],
  },
  {
    behaviour: "macvlanMode is one of Docker's four modes",
    change: (c) => (c.macvlanMode = "l2"),
    problems: [problem("macvlanMode", "l2", "must be one of: bridge, private, vepa, passthru")],
  },
  {
    behaviour: "verify is a boolean",
    change: (c) => (c.verify = "maybe"),
    problems: [problem("verify", "maybe", "must be true or false")],
  },
  {
    behaviour: "sshUser is a Linux user name",
    change: (c) => (c.sshUser = "Root"),
    problems: [problem("sshUser", "Root", "must be a Linux user name: a-z or _, then up to 31 of a-z 0-9 _ -")],
  },
  {
    behaviour: "sshUser carries no shell metacharacters",
    change: (c) => (c.sshUser = "root;id"),
    problems: [problem("sshUser", "root;id", "must be a Linux user name: a-z or _, then up to 31 of a-z 0-9 _ -")],
  },
  {
    behaviour: "a plaintext sshPrivateKey is refused and not shown",
    change: (c) => {
      delete c.sshPrivateKeyFile;
      c.sshPrivateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n";
    },
    problems: [
      problem("sshPrivateKey", "(plaintext, not shown)", "must be set as a secret: pulumi config set --secret sshPrivateKey < key"),
    ],
  },
  {
    behaviour: "an sshPrivateKey that is neither plaintext nor a secret is refused",
    change: (c) => {
      delete c.sshPrivateKeyFile;
      c.sshPrivateKey = { secure: "" };
    },
    problems: [problem("sshPrivateKey", "(not shown)", "must be a secret: pulumi config set --secret sshPrivateKey < key")],
  },
  {
    behaviour: "both sshPrivateKeyFile and sshPrivateKey conflict",
    change: (c) => (c.sshPrivateKey = { secure: "v1:c2VjcmV0" }),
    problems: [problem("sshPrivateKey", "(secret)", "conflicts with sshPrivateKeyFile: set only one of them")],
  },
  {
    behaviour: "neither sshPrivateKeyFile nor sshPrivateKey is a missing key",
    change: (c) => delete c.sshPrivateKeyFile,
    problems: [problem("sshPrivateKeyFile", "", "is required, or else the secret sshPrivateKey")],
  },
  {
    behaviour: "an empty key file path is refused",
    change: (c) => (c.sshPrivateKeyFile = ""),
    problems: [problem("sshPrivateKeyFile", '""', KEY_FILE)],
  },
  {
    behaviour: "a known_hosts path with a newline is refused",
    change: (c) => (c.sshKnownHostsFile = ".lab/known\nhosts"),
    problems: [problem("sshKnownHostsFile", '".lab/known\\nhosts"', KEY_FILE)],
  },
  {
    behaviour: "a key file path with a NUL is refused",
    change: (c) => (c.sshPrivateKeyFile = ".lab/id\u0000rsa"),
    problems: [problem("sshPrivateKeyFile", '".lab/id\\u0000rsa"', KEY_FILE)],
  },

]);

test("a config that is not an object is one problem", () => {
  assert.deepEqual(parseTopology(["x"]), { ok: false, problems: [problem("config", '["x"]', "must be an object")] });
  assert.deepEqual(parseTopology(undefined), { ok: false, problems: [problem("config", "", "must be an object")] });
});

test("several problems are all reported at once, in the order of the config", () => {
  const problems = problemsAfter((c) => {
    c.colour = "blue";
    c.vlans.push({ ...VLAN_30, id: 5000 });
    c.hosts[0].port = 0;
    c.hosts[1].containers[0].ip = "172.18.0.1";
    delete c.hosts[2].vlanAddresses["20"];
  });
  assert.deepEqual(problems, [
    problem("colour", "blue", KNOWN_TOP_LEVEL),
    problem("vlans[2].id", "5000", VLAN_ID),
    problem("hosts[0].port", "0", PORT),
    problem("hosts[1].containers[0].ip", "172.18.0.1", "is the gateway of vlan 10"),
    problem("hosts[2].vlanAddresses.20", "", "is required: the router holds the gateway of vlan 20, 172.19.0.1/24"),
  ]);
});

test("formatProblems writes one line per problem, the value after the path when there is one", () => {
  assert.equal(
    formatProblems([
      problem("hosts[1].containers[0].ip", "172.18.0.1", "is the gateway of vlan 10"),
      problem("hosts[0].name", "", "is required"),
    ]),
    "hosts[1].containers[0].ip 172.18.0.1: is the gateway of vlan 10\nhosts[0].name: is required",
  );
  assert.equal(formatProblems([]), "");
});

test("a secret is never shown, under any key and at any depth", () => {
  const problems = problemsAfter((c) => {
    c.sshPrivatekey = { secure: "v1:c2VjcmV0" };
    c.sshUser = { secure: "v1:dXNlcg==" };
    c.hosts[0].password = { secure: "v1:cGFzcw==" };
    c.router.masquerade = { secure: "v1:dHJ1ZQ==" };
    c.hosts[1].containers = { first: { secure: "v1:Ym94" } };
  });
  assert.deepEqual(problems, [
    problem("hosts[0].password", "(secret)", "is not a known key (known: name, address, port, role, trunkInterface, vlanAddresses, containers, hostShim, hostKey)"),
    problem("sshPrivatekey", "(secret)", didYouMean("sshPrivateKey", KNOWN_TOP_LEVEL)),
    problem("sshUser", "(secret)", "must be a Linux user name: a-z or _, then up to 31 of a-z 0-9 _ -"),
    problem("hosts[1].containers", '{"first":"(secret)"}', "must be a list of containers {name, vlan, ip, image}"),
    problem("router.masquerade", "(secret)", "must be true or false"),
  ]);
  assert.ok(!formatProblems(problems).includes("v1:"));
});

test("the containers of a host that fails its shape are still checked, in config order", () => {
  assert.deepEqual(
    problemsAfter((c) => {
      c.hosts[1].address = "0x7f.0.0.1";
      c.hosts[1].containers[1].name = "b";
      c.hosts[1].containers[0].ip = "172.18.0.2";
    }),
    [
      problem("hosts[1].address", "0x7f.0.0.1", "must be an IPv4 address or a DNS name"),
      problem("hosts[1].containers[1].name", "b", "must be a Docker name of at least 2 characters"),
      problem("hosts[1].containers[0].ip", "172.18.0.2", "is already used by hosts[0].containers[0].ip on vlan 10"),
    ],
  );
});
