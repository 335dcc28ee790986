import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTopology } from "./parse";
import { devStackConfig, topologyAfter, VLAN_30 } from "../testing/devStackConfig";

// ---- accepted configs and what they become ----

test("the dev stack config parses with no problems", () => {
  assert.equal(parseTopology(devStackConfig()).ok, true);
});

test("defaults fill every optional key of a minimal config", () => {
  const result = parseTopology({
    sshPrivateKeyFile: "id_ed25519",
    sshKnownHostsFile: "known_hosts",
    vlans: [{ id: 10, network: "mac-net10", subnet: "172.18.0.0/24", gateway: "172.18.0.1" }],
    hosts: [{ name: "h1", address: "10.0.0.1", role: "docker", containers: [{ name: "c1", vlan: 10, ip: "172.18.0.2" }] }],
  });
  assert.deepEqual(result, {
    ok: true,
    topology: {
      persistence: "network-scripts",
      ssh: { user: "root", privateKeyFromConfig: false, privateKeyFile: "id_ed25519", knownHostsFile: "known_hosts" },
      vlans: [
        {
          id: 10,
          network: "mac-net10",
          subnet: { cidr: "172.18.0.0/24", network: "172.18.0.0", broadcast: "172.18.0.255", prefix: 24 },
          gateway: "172.18.0.1",
          driver: "macvlan",
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
          shims: [],
        },
      ],
      macvlanMode: "bridge",
      verify: true,
      reapply: 0,
      confirmWithinSeconds: 600,
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
