import { INTERFACE_ADDRESS, INTERFACE_NAME, DOCKER_NAME, SUBNET, VLAN_30, VLAN_ID, problem, testRejected, type RejectedCase } from "../testing/devStackConfig";

testRejected([
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

]);
