import { test } from "node:test";
import assert from "node:assert/strict";
import { formatProblems, parseTopology } from "./parse";
import type { ConfigProblem, Topology } from "./types";

// The raw config is loosely typed on purpose: each case bends it into something wrong.
type RawConfig = Record<string, any>;

/** The dev stack (the seed's lab) as parseTopology receives it from the stack file. */
function seedConfig(): RawConfig {
  return {
    trunkInterface: "ens33",
    persistence: "network-scripts",
    sshUser: "root",
    sshPrivateKeyFile: ".lab/id_ed25519",
    sshKnownHostsFile: ".lab/known_hosts",
    vlans: [
      { id: 10, network: "mac-net10", subnet: "172.18.0.0/24", gateway: "172.18.0.1" },
      { id: 20, network: "mac-net20", subnet: "172.19.0.0/24", gateway: "172.19.0.1" },
    ],
    hosts: [
      {
        name: "host1",
        address: "10.213.70.11",
        role: "docker",
        vlanAddresses: { "10": "192.168.22.10/24", "20": "192.168.23.10/24" },
        containers: [
          { name: "bbox10", vlan: 10, ip: "172.18.0.2" },
          { name: "bbox20", vlan: 20, ip: "172.19.0.3" },
        ],
      },
      {
        name: "host2",
        address: "10.213.70.12",
        role: "docker",
        vlanAddresses: { "10": "192.168.22.11/24", "20": "192.168.23.11/24" },
        containers: [
          { name: "bbox30", vlan: 10, ip: "172.18.0.5" },
          { name: "bbox40", vlan: 20, ip: "172.19.0.4" },
        ],
      },
      {
        name: "router",
        address: "10.213.70.13",
        role: "router",
        vlanAddresses: { "10": "172.18.0.1/24", "20": "172.19.0.1/24" },
      },
    ],
    router: { masquerade: true },
  };
}

const VLAN_30 = { id: 30, network: "mac-net30", subnet: "172.20.0.0/24", gateway: "172.20.0.1" };

function problemsAfter(change: (config: RawConfig) => void): readonly ConfigProblem[] {
  const config = seedConfig();
  change(config);
  const result = parseTopology(config);
  if (result.ok) assert.fail("expected problems, the config parsed");
  return result.problems;
}

function topologyAfter(change: (config: RawConfig) => void): Topology {
  const config = seedConfig();
  change(config);
  const result = parseTopology(config);
  if (!result.ok) assert.fail(`expected no problems, got:\n${formatProblems(result.problems)}`);
  return result.topology;
}

function problem(path: string, value: string, message: string): ConfigProblem {
  return { path, value, message };
}

const KNOWN_TOP_LEVEL =
  "is not a known key (known: trunkInterface, persistence, sshUser, sshPrivateKeyFile, sshPrivateKey, " +
  "sshKnownHostsFile, vlans, hosts, router, macvlanMode, verify)";
const INTERFACE_NAME = "must be a Linux interface name: 1–15 characters of A-Z a-z 0-9 _ . -";
const DOCKER_NAME = "must be a Docker name: a letter or digit, then A-Z a-z 0-9 _ . -";
const HOST_NAME = "must be 1–32 characters of a-z 0-9 -, starting with a letter or digit";
const HOST_ADDRESS = "must be an IPv4 address or a DNS name";
const IMAGE = "must be an image reference like busybox:latest or registry.example:5000/team/app:1.0";
const VLAN_ID = "must be an integer from 1 to 4094";
const PORT = "must be an integer from 1 to 65535";
const SUBNET = "must be an IPv4 prefix like 172.18.0.0/24";
const INTERFACE_ADDRESS = "must be an address with its prefix length, like 192.168.22.10/24";
const KEY_FILE = "must be a non-empty path without newline or NUL";

interface RejectedCase {
  readonly behaviour: string;
  readonly change: (config: RawConfig) => void;
  readonly problems: readonly ConfigProblem[];
}

const rejected: readonly RejectedCase[] = [
  // unknown keys, at every level
  {
    behaviour: "an unknown top-level key is named with its value",
    change: (c) => (c.trunkInterfaces = "ens34"),
    problems: [problem("trunkInterfaces", "ens34", KNOWN_TOP_LEVEL)],
  },
  {
    behaviour: "an unknown top-level key with an odd name is quoted in the path",
    change: (c) => (c["ssh user"] = "root"),
    problems: [problem('["ssh user"]', "root", KNOWN_TOP_LEVEL)],
  },
  {
    behaviour: "an unknown key in a vlan is named",
    change: (c) => (c.vlans[0].vlanId = 10),
    problems: [problem("vlans[0].vlanId", "10", "is not a known key (known: id, network, subnet, gateway)")],
  },
  {
    behaviour: "an unknown key in a host is named",
    change: (c) => (c.hosts[0].user = "admin"),
    problems: [
      problem(
        "hosts[0].user",
        "admin",
        "is not a known key (known: name, address, port, role, trunkInterface, vlanAddresses, containers)",
      ),
    ],
  },
  {
    behaviour: "an unknown key in a container is named",
    change: (c) => (c.hosts[0].containers[0].mac = "02:42:ac:12:00:02"),
    problems: [problem("hosts[0].containers[0].mac", "02:42:ac:12:00:02", "is not a known key (known: name, vlan, ip, image)")],
  },
  {
    behaviour: "an unknown key in the router settings is named",
    change: (c) => (c.router.nat = true),
    problems: [problem("router.nat", "true", "is not a known key (known: masquerade)")],
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

  // interface names
  {
    behaviour: "a trunk interface with a slash is refused",
    change: (c) => (c.trunkInterface = "ens/33"),
    problems: [problem("trunkInterface", "ens/33", INTERFACE_NAME)],
  },
  {
    behaviour: "a trunk interface with whitespace is refused, its value quoted",
    change: (c) => (c.trunkInterface = "ens 33"),
    problems: [problem("trunkInterface", '"ens 33"', INTERFACE_NAME)],
  },
  {
    behaviour: "a trunk interface with a colon is refused",
    change: (c) => (c.trunkInterface = "ens33:1"),
    problems: [problem("trunkInterface", "ens33:1", INTERFACE_NAME)],
  },
  {
    behaviour: "a trunk interface with shell metacharacters is refused",
    change: (c) => (c.trunkInterface = "ens33;reboot"),
    problems: [problem("trunkInterface", "ens33;reboot", INTERFACE_NAME)],
  },
  {
    behaviour: "an empty trunk interface is refused",
    change: (c) => (c.trunkInterface = ""),
    problems: [problem("trunkInterface", '""', INTERFACE_NAME)],
  },
  {
    behaviour: "a trunk interface of 16 characters is refused",
    change: (c) => (c.trunkInterface = "abcdefghijklmnop"),
    problems: [problem("trunkInterface", "abcdefghijklmnop", INTERFACE_NAME)],
  },
  {
    behaviour: "a trunk interface named . is refused",
    change: (c) => (c.trunkInterface = "."),
    problems: [problem("trunkInterface", ".", "must be a Linux interface name, not . or ..")],
  },
  {
    behaviour: "a trunk interface named .. is refused",
    change: (c) => (c.trunkInterface = ".."),
    problems: [problem("trunkInterface", "..", "must be a Linux interface name, not . or ..")],
  },
  {
    behaviour: "a trunk whose vlan devices pass 15 characters is named once per device, not once per host",
    change: (c) => (c.trunkInterface = "enp0s31f6abcd"),
    problems: [
      problem("trunkInterface", "enp0s31f6abcd", "makes the device enp0s31f6abcd.10 for vlan 10: 16 characters, Linux allows 15"),
      problem("trunkInterface", "enp0s31f6abcd", "makes the device enp0s31f6abcd.20 for vlan 20: 16 characters, Linux allows 15"),
    ],
  },
  {
    behaviour: "a host's own trunk that is too long for its vlan devices names the host's key",
    change: (c) => (c.hosts[1].trunkInterface = "enp0s31f6abcd"),
    problems: [
      problem("hosts[1].trunkInterface", "enp0s31f6abcd", "makes the device enp0s31f6abcd.10 for vlan 10: 16 characters, Linux allows 15"),
      problem("hosts[1].trunkInterface", "enp0s31f6abcd", "makes the device enp0s31f6abcd.20 for vlan 20: 16 characters, Linux allows 15"),
    ],
  },
  {
    behaviour: "a host's own trunk interface is checked like the top-level one",
    change: (c) => (c.hosts[0].trunkInterface = "eth0:1"),
    problems: [problem("hosts[0].trunkInterface", "eth0:1", INTERFACE_NAME)],
  },

  // vlans
  {
    behaviour: "vlan id 0 is out of range",
    change: (c) => c.vlans.push({ ...VLAN_30, id: 0 }),
    problems: [problem("vlans[2].id", "0", VLAN_ID)],
  },
  {
    behaviour: "vlan id 4095 is out of range",
    change: (c) => c.vlans.push({ ...VLAN_30, id: 4095 }),
    problems: [problem("vlans[2].id", "4095", VLAN_ID)],
  },
  {
    behaviour: "a vlan id that is not an integer is refused",
    change: (c) => c.vlans.push({ ...VLAN_30, id: 2.5 }),
    problems: [problem("vlans[2].id", "2.5", VLAN_ID)],
  },
  {
    behaviour: "a vlan id string that is not a decimal integer is refused",
    change: (c) => c.vlans.push({ ...VLAN_30, id: "030" }),
    problems: [problem("vlans[2].id", "030", VLAN_ID)],
  },
  {
    behaviour: "a vlan id used twice names the first vlan with it",
    change: (c) => c.vlans.push({ ...VLAN_30, id: 20 }),
    problems: [problem("vlans[2].id", "20", "duplicates vlans[1].id")],
  },
  {
    behaviour: "a vlan id given as a string still finds its duplicate",
    change: (c) => c.vlans.push({ ...VLAN_30, id: "20" }),
    problems: [problem("vlans[2].id", "20", "duplicates vlans[1].id")],
  },
  {
    behaviour: "a docker network name must be a Docker name",
    change: (c) => (c.vlans[0].network = "-net10"),
    problems: [problem("vlans[0].network", "-net10", DOCKER_NAME)],
  },
  {
    behaviour: "a docker network name with a space is refused",
    change: (c) => (c.vlans[0].network = "mac net10"),
    problems: [problem("vlans[0].network", '"mac net10"', DOCKER_NAME)],
  },
  {
    behaviour: "a docker network name used twice names the first vlan with it",
    change: (c) => (c.vlans[1].network = "mac-net10"),
    problems: [problem("vlans[1].network", "mac-net10", "duplicates vlans[0].network")],
  },
  ...["172.20.0/24", "172.20.0.0", "172.020.0.0/24", "172.20.0.0/33", " 172.20.0.0/24", "172.20.0.0/024"].map(
    (subnet): RejectedCase => ({
      behaviour: `a subnet written ${JSON.stringify(subnet)} is not an IPv4 prefix`,
      change: (c) => c.vlans.push({ ...VLAN_30, subnet }),
      problems: [problem("vlans[2].subnet", subnet.includes(" ") ? JSON.stringify(subnet) : subnet, SUBNET)],
    }),
  ),
  {
    behaviour: "a subnet that is a number is refused",
    change: (c) => c.vlans.push({ ...VLAN_30, subnet: 24 }),
    problems: [problem("vlans[2].subnet", "24", SUBNET)],
  },
  {
    behaviour: "a subnet written off its network address names the network",
    change: (c) => (c.vlans[0].subnet = "172.18.0.5/24"),
    problems: [problem("vlans[0].subnet", "172.18.0.5/24", "is not a network address: the network is 172.18.0.0/24")],
  },
  {
    behaviour: "a subnet longer than /30 leaves no room and is refused",
    change: (c) => c.vlans.push({ ...VLAN_30, subnet: "172.20.0.0/31" }),
    problems: [problem("vlans[2].subnet", "172.20.0.0/31", "must have a prefix of at most /30, to leave room for a gateway and containers")],
  },
  {
    behaviour: "overlapping subnets name the earlier vlan",
    change: (c) => {
      c.vlans[1].subnet = "172.16.0.0/14";
      c.hosts[2].vlanAddresses["20"] = "172.19.0.1/14";
    },
    problems: [problem("vlans[1].subnet", "172.16.0.0/14", "overlaps vlans[0].subnet 172.18.0.0/24")],
  },
  {
    behaviour: "a gateway that is not an IPv4 address is refused",
    change: (c) => (c.vlans[0].gateway = "172.18.0.256"),
    problems: [problem("vlans[0].gateway", "172.18.0.256", "must be an IPv4 address like 172.18.0.1")],
  },
  {
    behaviour: "a gateway outside its subnet is refused, and nothing else is blamed for it",
    change: (c) => (c.vlans[0].gateway = "10.0.0.1"),
    problems: [problem("vlans[0].gateway", "10.0.0.1", "is outside the subnet 172.18.0.0/24")],
  },
  {
    behaviour: "a gateway on the network address is refused",
    change: (c) => (c.vlans[0].gateway = "172.18.0.0"),
    problems: [problem("vlans[0].gateway", "172.18.0.0", "is the network address of 172.18.0.0/24")],
  },
  {
    behaviour: "a gateway on the broadcast address is refused",
    change: (c) => (c.vlans[0].gateway = "172.18.0.255"),
    problems: [problem("vlans[0].gateway", "172.18.0.255", "is the broadcast address of 172.18.0.0/24")],
  },

  // hosts
  {
    behaviour: "a host name with capitals is refused",
    change: (c) => (c.hosts[0].name = "Host1"),
    problems: [problem("hosts[0].name", "Host1", HOST_NAME)],
  },
  {
    behaviour: "a host name of 33 characters is refused",
    change: (c) => (c.hosts[0].name = "h".repeat(33)),
    problems: [problem("hosts[0].name", "h".repeat(33), HOST_NAME)],
  },
  {
    behaviour: "a host name starting with a hyphen is refused",
    change: (c) => (c.hosts[0].name = "-host1"),
    problems: [problem("hosts[0].name", "-host1", HOST_NAME)],
  },
  {
    behaviour: "a host name used twice names the first host with it",
    change: (c) => (c.hosts[1].name = "host1"),
    problems: [problem("hosts[1].name", "host1", "duplicates hosts[0].name")],
  },
  ...["10.213.70.256", "10.213.70", "lab host", "root@10.213.70.11", "10.213.70.11:22", "$(reboot)", "host1;ls", "-host1", "host1.", ""].map(
    (address): RejectedCase => ({
      behaviour: `a host address written ${JSON.stringify(address)} is neither IPv4 nor a DNS name`,
      change: (c) => (c.hosts[0].address = address),
      problems: [problem("hosts[0].address", address === "" || address.includes(" ") ? JSON.stringify(address) : address, HOST_ADDRESS)],
    }),
  ),
  {
    behaviour: "two hosts on one address and port name the first",
    change: (c) => (c.hosts[1].address = "10.213.70.11"),
    problems: [problem("hosts[1].address", "10.213.70.11", "duplicates hosts[0].address on the same port 22")],
  },
  {
    behaviour: "host DNS names are compared without case",
    change: (c) => {
      c.hosts[0].address = "Lab1.example";
      c.hosts[1].address = "lab1.EXAMPLE";
    },
    problems: [problem("hosts[1].address", "lab1.EXAMPLE", "duplicates hosts[0].address on the same port 22")],
  },
  ...[0, 65536, -1, 22.5, "22a", "022"].map(
    (port): RejectedCase => ({
      behaviour: `port ${JSON.stringify(port)} is refused`,
      change: (c) => (c.hosts[0].port = port),
      problems: [problem("hosts[0].port", String(port), PORT)],
    }),
  ),
  {
    behaviour: "a role other than docker or router is refused",
    change: (c) => (c.hosts[0].role = "worker"),
    problems: [problem("hosts[0].role", "worker", "must be one of: docker, router")],
  },

  // vlanAddresses
  {
    behaviour: "a vlanAddresses key that is not a vlan id is refused",
    change: (c) => (c.hosts[0].vlanAddresses = { ten: "192.168.22.10/24", "20": "192.168.23.10/24" }),
    problems: [problem("hosts[0].vlanAddresses.ten", "192.168.22.10/24", "is not a vlan id: use the id of one of vlans (defined: 10, 20)")],
  },
  {
    behaviour: "a vlanAddresses key of an undefined vlan is refused",
    change: (c) => (c.hosts[0].vlanAddresses["30"] = "192.168.24.10/24"),
    problems: [problem("hosts[0].vlanAddresses.30", "192.168.24.10/24", "vlan 30 is not defined in vlans (defined: 10, 20)")],
  },
  {
    behaviour: "a vlan address without a prefix length is refused",
    change: (c) => (c.hosts[0].vlanAddresses["10"] = "192.168.22.10"),
    problems: [problem("hosts[0].vlanAddresses.10", "192.168.22.10", INTERFACE_ADDRESS)],
  },
  {
    behaviour: "a vlan address that is a number is refused",
    change: (c) => (c.hosts[0].vlanAddresses["10"] = 10),
    problems: [problem("hosts[0].vlanAddresses.10", "10", INTERFACE_ADDRESS)],
  },
  {
    behaviour: "a vlan address on the network address of its own prefix is refused",
    change: (c) => (c.hosts[0].vlanAddresses["10"] = "192.168.22.0/24"),
    problems: [problem("hosts[0].vlanAddresses.10", "192.168.22.0/24", "is the network address of 192.168.22.0/24")],
  },
  {
    behaviour: "a vlan address on the broadcast address of its own prefix is refused",
    change: (c) => (c.hosts[0].vlanAddresses["10"] = "192.168.22.255/24"),
    problems: [problem("hosts[0].vlanAddresses.10", "192.168.22.255/24", "is the broadcast address of 192.168.22.0/24")],
  },
  {
    behaviour: "a docker host may not take its vlan's gateway",
    change: (c) => (c.hosts[0].vlanAddresses["10"] = "172.18.0.1/24"),
    problems: [problem("hosts[0].vlanAddresses.10", "172.18.0.1/24", "uses the gateway of vlan 10, which only the router holds")],
  },
  {
    behaviour: "a docker host may not take another vlan's gateway either",
    change: (c) => (c.hosts[0].vlanAddresses["20"] = "172.18.0.1/24"),
    problems: [problem("hosts[0].vlanAddresses.20", "172.18.0.1/24", "uses the gateway of vlan 10, which only the router holds")],
  },
  {
    behaviour: "two hosts with one address on a vlan name the first",
    change: (c) => (c.hosts[1].vlanAddresses["10"] = "192.168.22.10/24"),
    problems: [
      problem("hosts[1].vlanAddresses.10", "192.168.22.10/24", "192.168.22.10 is already used by hosts[0].vlanAddresses.10 on vlan 10"),
    ],
  },
  {
    behaviour: "a host address that is a container's ip on the vlan names the container",
    change: (c) => (c.hosts[0].vlanAddresses["10"] = "172.18.0.5/24"),
    problems: [
      problem("hosts[0].vlanAddresses.10", "172.18.0.5/24", "172.18.0.5 is already used by hosts[1].containers[0].ip on vlan 10"),
    ],
  },

  // the router
  {
    behaviour: "the router must hold every vlan's gateway",
    change: (c) => delete c.hosts[2].vlanAddresses["20"],
    problems: [problem("hosts[2].vlanAddresses.20", "", "is required: the router holds the gateway of vlan 20, 172.19.0.1/24")],
  },
  {
    behaviour: "a router without vlanAddresses misses every gateway",
    change: (c) => delete c.hosts[2].vlanAddresses,
    problems: [
      problem("hosts[2].vlanAddresses.10", "", "is required: the router holds the gateway of vlan 10, 172.18.0.1/24"),
      problem("hosts[2].vlanAddresses.20", "", "is required: the router holds the gateway of vlan 20, 172.19.0.1/24"),
    ],
  },
  {
    behaviour: "the router's address on a vlan must be that vlan's gateway",
    change: (c) => (c.hosts[2].vlanAddresses["10"] = "172.18.0.254/24"),
    problems: [
      problem("hosts[2].vlanAddresses.10", "172.18.0.254/24", "must be the gateway of vlan 10 with its subnet's prefix: 172.18.0.1/24"),
    ],
  },
  {
    behaviour: "the router's gateway address must carry the subnet's prefix",
    change: (c) => (c.hosts[2].vlanAddresses["10"] = "172.18.0.1/16"),
    problems: [
      problem("hosts[2].vlanAddresses.10", "172.18.0.1/16", "must be the gateway of vlan 10 with its subnet's prefix: 172.18.0.1/24"),
    ],
  },
  {
    behaviour: "a router host runs no containers",
    change: (c) => (c.hosts[2].containers = [{ name: "bbox50", vlan: 10, ip: "172.18.0.9" }]),
    problems: [
      problem("hosts[2].containers", '[{"name":"bbox50","vlan":10,"ip":"172.18.0.9"}]', "must be empty: a router host runs no containers"),
    ],
  },
  {
    behaviour: "a second router is refused, naming the first",
    change: (c) => c.hosts.push({ name: "router2", address: "10.213.70.14", role: "router" }),
    problems: [problem("hosts[3].role", "router", "is a second router: hosts[2] is the router already")],
  },
  {
    behaviour: "a config with no docker host is refused",
    change: (c) => (c.hosts = [c.hosts[2]]),
    problems: [problem("hosts", "", "needs at least one host with role docker")],
  },
  {
    behaviour: "router settings without a router host are named",
    change: (c) => c.hosts.pop(),
    problems: [problem("router", '{"masquerade":true}', "is set but no host has role router")],
  },
  {
    behaviour: "masquerade is a boolean",
    change: (c) => (c.router.masquerade = "yes"),
    problems: [problem("router.masquerade", "yes", "must be true or false")],
  },

  // containers
  {
    behaviour: "a container name must start with a letter or digit",
    change: (c) => (c.hosts[0].containers[0].name = "_bbox10"),
    problems: [problem("hosts[0].containers[0].name", "_bbox10", DOCKER_NAME)],
  },
  {
    behaviour: "a container name with a slash is refused",
    change: (c) => (c.hosts[0].containers[0].name = "bbox/10"),
    problems: [problem("hosts[0].containers[0].name", "bbox/10", DOCKER_NAME)],
  },
  {
    behaviour: "a container name of 64 characters is refused, its value cut short in the message",
    change: (c) => (c.hosts[0].containers[0].name = "b".repeat(64)),
    problems: [problem("hosts[0].containers[0].name", `${"b".repeat(59)}…`, "must be a Docker name of at most 63 characters")],
  },
  {
    behaviour: "a container name used on two hosts names the first",
    change: (c) => (c.hosts[1].containers[0].name = "bbox10"),
    problems: [problem("hosts[1].containers[0].name", "bbox10", "duplicates hosts[0].containers[0].name")],
  },
  {
    behaviour: "a container on an undefined vlan is refused",
    change: (c) => (c.hosts[0].containers[0].vlan = 30),
    problems: [problem("hosts[0].containers[0].vlan", "30", "vlan 30 is not defined in vlans (defined: 10, 20)")],
  },
  {
    behaviour: "a container vlan that is not an id is refused",
    change: (c) => (c.hosts[0].containers[0].vlan = "ten"),
    problems: [problem("hosts[0].containers[0].vlan", "ten", "is not a vlan id: use the id of one of vlans (defined: 10, 20)")],
  },
  {
    behaviour: "a container vlan that is undefined is not blamed while some vlan's id is unreadable",
    change: (c) => {
      c.vlans.push({ ...VLAN_30, id: "thirty" });
      c.hosts[0].containers[0].vlan = 30;
    },
    problems: [problem("vlans[2].id", "thirty", VLAN_ID)],
  },
  {
    behaviour: "a container ip with a leading zero is refused",
    change: (c) => (c.hosts[0].containers[0].ip = "172.18.0.02"),
    problems: [problem("hosts[0].containers[0].ip", "172.18.0.02", "must be an IPv4 address like 172.18.0.2")],
  },
  {
    behaviour: "a container ip outside its vlan's subnet is refused",
    change: (c) => (c.hosts[0].containers[0].ip = "172.19.0.9"),
    problems: [problem("hosts[0].containers[0].ip", "172.19.0.9", "is outside the subnet 172.18.0.0/24 of vlan 10")],
  },
  {
    behaviour: "a container ip on the network address is refused",
    change: (c) => (c.hosts[0].containers[0].ip = "172.18.0.0"),
    problems: [problem("hosts[0].containers[0].ip", "172.18.0.0", "is the network address of vlan 10")],
  },
  {
    behaviour: "a container ip on the broadcast address is refused",
    change: (c) => (c.hosts[0].containers[0].ip = "172.18.0.255"),
    problems: [problem("hosts[0].containers[0].ip", "172.18.0.255", "is the broadcast address of vlan 10")],
  },
  {
    behaviour: "a container ip on the gateway is refused, and the router holding it is not blamed",
    change: (c) => (c.hosts[1].containers[0].ip = "172.18.0.1"),
    problems: [problem("hosts[1].containers[0].ip", "172.18.0.1", "is the gateway of vlan 10")],
  },
  {
    behaviour: "a container ip used on two hosts in one vlan names the first",
    change: (c) => (c.hosts[1].containers[0].ip = "172.18.0.2"),
    problems: [problem("hosts[1].containers[0].ip", "172.18.0.2", "is already used by hosts[0].containers[0].ip on vlan 10")],
  },
  ...["busybox latest", "busybox;reboot", "BusyBox", "busybox:", "$(id)", "busybox@sha256:abc", "-busybox"].map(
    (image): RejectedCase => ({
      behaviour: `an image written ${JSON.stringify(image)} is not a reference`,
      change: (c) => (c.hosts[0].containers[0].image = image),
      problems: [problem("hosts[0].containers[0].image", image.includes(" ") ? JSON.stringify(image) : image, IMAGE)],
    }),
  ),
];

for (const { behaviour, change, problems } of rejected) {
  test(behaviour, () => {
    assert.deepEqual(problemsAfter(change), problems);
  });
}

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

// ---- accepted configs and what they become ----

test("the seed config parses with no problems", () => {
  assert.equal(parseTopology(seedConfig()).ok, true);
});

test("defaults fill every optional key of a minimal config", () => {
  const result = parseTopology({
    sshPrivateKeyFile: "id_ed25519",
    vlans: [{ id: 10, network: "mac-net10", subnet: "172.18.0.0/24", gateway: "172.18.0.1" }],
    hosts: [{ name: "h1", address: "10.0.0.1", role: "docker", containers: [{ name: "c1", vlan: 10, ip: "172.18.0.2" }] }],
  });
  assert.deepEqual(result, {
    ok: true,
    topology: {
      persistence: "network-scripts",
      ssh: { user: "root", privateKeyFromConfig: false, privateKeyFile: "id_ed25519" },
      vlans: [
        {
          id: 10,
          network: "mac-net10",
          subnet: { cidr: "172.18.0.0/24", network: "172.18.0.0", broadcast: "172.18.0.255", prefix: 24 },
          gateway: "172.18.0.1",
        },
      ],
      hosts: [
        {
          name: "h1",
          address: "10.0.0.1",
          port: 22,
          role: "docker",
          trunkInterface: "ens33",
          subinterfaces: [{ vlan: 10, parent: "ens33", device: "ens33.10" }],
          containers: [{ name: "c1", key: "c1", vlan: 10, ip: "172.18.0.2", image: "busybox:latest" }],
        },
      ],
      macvlanMode: "bridge",
      verify: true,
    },
  });
});

test("subinterfaces are the vlans of a host's addresses and of its containers, sorted, addressed where given", () => {
  const topology = topologyAfter((c) => (c.hosts[0].vlanAddresses = { "20": "192.168.23.10/24" }));
  assert.deepEqual(topology.hosts[0].subinterfaces, [
    { vlan: 10, parent: "ens33", device: "ens33.10" },
    {
      vlan: 20,
      parent: "ens33",
      device: "ens33.20",
      address: { cidr: "192.168.23.10/24", address: "192.168.23.10", prefix: 24, network: "192.168.23.0" },
    },
  ]);
});

test("a host with only containers on one vlan gets only that subinterface", () => {
  const topology = topologyAfter((c) => {
    delete c.hosts[1].vlanAddresses;
    c.hosts[1].containers.pop();
  });
  assert.deepEqual(topology.hosts[1].subinterfaces, [{ vlan: 10, parent: "ens33", device: "ens33.10" }]);
});

test("vlans come out sorted by id whatever their order in the config", () => {
  const topology = topologyAfter((c) => c.vlans.reverse());
  assert.deepEqual(
    topology.vlans.map((vlan) => vlan.id),
    [10, 20],
  );
});

test("vlan ids, container vlans, ports and booleans given as strings become numbers and booleans", () => {
  const topology = topologyAfter((c) => {
    c.vlans[0].id = "10";
    c.hosts[0].containers[1].vlan = "20";
    c.hosts[0].port = "2222";
    c.router.masquerade = "false";
    c.verify = "false";
  });
  assert.equal(topology.vlans[0].id, 10);
  assert.equal(topology.hosts[0].containers[1].vlan, 20);
  assert.equal(topology.hosts[0].port, 2222);
  assert.deepEqual(topology.router, { host: "router", masquerade: false });
  assert.equal(topology.verify, false);
});

test("vlan ids 1 and 4094 are in range", () => {
  const topology = topologyAfter((c) => {
    c.vlans.push({ ...VLAN_30, id: 1 }, { id: 4094, network: "mac-net4094", subnet: "172.21.0.0/24", gateway: "172.21.0.1" });
    c.hosts[2].vlanAddresses["1"] = "172.20.0.1/24";
    c.hosts[2].vlanAddresses["4094"] = "172.21.0.1/24";
  });
  assert.deepEqual(
    topology.hosts[2].subinterfaces.map((subinterface) => subinterface.device),
    ["ens33.1", "ens33.10", "ens33.20", "ens33.4094"],
  );
});

test("a /30 subnet holds a gateway and one container", () => {
  const topology = topologyAfter((c) => {
    c.vlans.push({ ...VLAN_30, subnet: "172.20.0.0/30" });
    c.hosts[2].vlanAddresses["30"] = "172.20.0.1/30";
    c.hosts[0].containers.push({ name: "bbox50", vlan: 30, ip: "172.20.0.2" });
  });
  assert.deepEqual(topology.vlans[2].subnet, { cidr: "172.20.0.0/30", network: "172.20.0.0", broadcast: "172.20.0.3", prefix: 30 });
});

test("a trunk whose longest vlan device is exactly 15 characters is accepted", () => {
  const topology = topologyAfter((c) => (c.trunkInterface = "enp0s31f6abc"));
  assert.equal(topology.hosts[0].subinterfaces[0].device, "enp0s31f6abc.10");
});

test("a host's own trunk interface replaces the top-level one on that host only", () => {
  const topology = topologyAfter((c) => (c.hosts[1].trunkInterface = "eth0"));
  assert.equal(topology.hosts[0].trunkInterface, "ens33");
  assert.equal(topology.hosts[1].trunkInterface, "eth0");
  assert.deepEqual(
    topology.hosts[1].subinterfaces.map((subinterface) => [subinterface.parent, subinterface.device]),
    [
      ["eth0", "eth0.10"],
      ["eth0", "eth0.20"],
    ],
  );
});

test("names at their limits are accepted: 32-character host, 63-character container, punctuated network", () => {
  const topology = topologyAfter((c) => {
    c.hosts[0].name = "h".repeat(32);
    c.hosts[0].containers[0].name = "B".repeat(63);
    c.vlans[0].network = "Mac_net.10-a";
  });
  assert.equal(topology.hosts[0].name, "h".repeat(32));
  assert.equal(topology.hosts[0].containers[0].name, "B".repeat(63));
  assert.equal(topology.vlans[0].network, "Mac_net.10-a");
});

test("a DNS name is a host address, and one address on two ports is two hosts", () => {
  const topology = topologyAfter((c) => {
    c.hosts[0].address = "lab-1.example.com";
    c.hosts[1].address = "lab-1.example.com";
    c.hosts[1].port = 2222;
  });
  assert.deepEqual(
    topology.hosts.map((host) => `${host.address}:${host.port}`),
    ["lab-1.example.com:22", "lab-1.example.com:2222", "10.213.70.13:22"],
  );
});

test("one host address on two different vlans is not a collision", () => {
  const topology = topologyAfter((c) => (c.hosts[1].vlanAddresses["20"] = "192.168.22.10/24"));
  assert.equal(topology.hosts[1].subinterfaces[1].address?.cidr, "192.168.22.10/24");
});

test("a /32 vlan address is kept, having no network or broadcast address to avoid", () => {
  const topology = topologyAfter((c) => (c.hosts[0].vlanAddresses["10"] = "192.168.22.10/32"));
  assert.deepEqual(topology.hosts[0].subinterfaces[0].address, {
    cidr: "192.168.22.10/32",
    address: "192.168.22.10",
    prefix: 32,
    network: "192.168.22.10",
  });
});

test("image references with a registry port, a path, a tag or a digest are accepted", () => {
  const digest = `busybox@sha256:${"a".repeat(64)}`;
  const topology = topologyAfter((c) => {
    c.hosts[0].containers[0].image = "registry.example:5000/team/app:1.0";
    c.hosts[0].containers[1].image = digest;
    c.hosts[1].containers[0].image = "library/busybox";
  });
  assert.deepEqual(
    topology.hosts.flatMap((host) => host.containers.map((container) => container.image)),
    ["registry.example:5000/team/app:1.0", digest, "library/busybox", "busybox:latest"],
  );
});

test("the secret sshPrivateKey replaces the key file", () => {
  const topology = topologyAfter((c) => {
    delete c.sshPrivateKeyFile;
    c.sshPrivateKey = { secure: "v1:c2VjcmV0" };
  });
  assert.deepEqual(topology.ssh, { user: "root", privateKeyFromConfig: true, knownHostsFile: ".lab/known_hosts" });
});

test("the other settings take every allowed value", () => {
  const topology = topologyAfter((c) => {
    c.persistence = "none";
    c.macvlanMode = "passthru";
    c.sshUser = "_deploy-1";
    c.verify = false;
    c.router = {};
  });
  assert.equal(topology.persistence, "none");
  assert.equal(topology.macvlanMode, "passthru");
  assert.equal(topology.ssh.user, "_deploy-1");
  assert.equal(topology.verify, false);
  assert.deepEqual(topology.router, { host: "router", masquerade: true });
});

test("without a router host or router settings the topology has no router", () => {
  const topology = topologyAfter((c) => {
    c.hosts.pop();
    delete c.router;
  });
  assert.equal("router" in topology, false);
  assert.deepEqual(
    topology.hosts.map((host) => host.role),
    ["docker", "docker"],
  );
});

test("a router host without router settings masquerades by default", () => {
  const topology = topologyAfter((c) => delete c.router);
  assert.deepEqual(topology.router, { host: "router", masquerade: true });
});
