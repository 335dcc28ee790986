import { DOCKER_NAME, HOST_ADDRESS, HOST_NAME, IMAGE, PORT, VLAN_30, VLAN_ID, problem, testRejected, type RejectedCase } from "../testing/devStackConfig";

testRejected([
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
]);
