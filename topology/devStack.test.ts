import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "path";
import { readStackConfig } from "../config/stackFile";
import { parseTopology } from "./parse";
import type { Host } from "./types";

// Compiled to dist/topology/, two levels below the project root.
const DEV_STACK = path.join(__dirname, "..", "..", "Pulumi.dev.yaml");

function subinterface(vlan: number, address: string, network: string) {
  return {
    vlan,
    parent: "ens33",
    device: `ens33.${vlan}`,
    address: { cidr: `${address}/24`, address, prefix: 24, network },
  };
}

function dockerHost(name: string, address: string, suffix: number, containers: Host["containers"]): Host {
  return {
    name,
    address,
    port: 22,
    role: "docker",
    trunkInterface: "ens33",
    subinterfaces: [
      subinterface(10, `192.168.22.${suffix}`, "192.168.22.0"),
      subinterface(20, `192.168.23.${suffix}`, "192.168.23.0"),
    ],
    containers,
    shims: [],
  };
}

test("the dev stack is exactly the two-VLAN lab of docs/lab-note.md", () => {
  const { project, raw } = readStackConfig(DEV_STACK);
  assert.equal(project, "macvlan-overlay");
  assert.deepEqual(parseTopology(raw), {
    ok: true,
    topology: {
      persistence: "network-scripts",
      ssh: { user: "root", privateKeyFromConfig: false, privateKeyFile: ".lab/id_ed25519", knownHostsFile: ".lab/known_hosts" },
      vlans: [
        {
          id: 10,
          network: "mac-net10",
          subnet: { cidr: "172.18.0.0/24", network: "172.18.0.0", broadcast: "172.18.0.255", prefix: 24 },
          gateway: "172.18.0.1",
          driver: "macvlan",
        },
        {
          id: 20,
          network: "mac-net20",
          subnet: { cidr: "172.19.0.0/24", network: "172.19.0.0", broadcast: "172.19.0.255", prefix: 24 },
          gateway: "172.19.0.1",
          driver: "macvlan",
        },
      ],
      hosts: [
        dockerHost("host1", "10.213.70.11", 10, [
          { name: "bbox10", key: "bbox10", vlan: 10, ip: "172.18.0.2", image: "busybox:latest" },
          { name: "bbox20", key: "bbox20", vlan: 20, ip: "172.19.0.3", image: "busybox:latest" },
        ]),
        dockerHost("host2", "10.213.70.12", 11, [
          { name: "bbox30", key: "bbox30", vlan: 10, ip: "172.18.0.5", image: "busybox:latest" },
          { name: "bbox40", key: "bbox40", vlan: 20, ip: "172.19.0.4", image: "busybox:latest" },
        ]),
        {
          name: "router",
          address: "10.213.70.13",
          port: 22,
          role: "router",
          trunkInterface: "ens33",
          subinterfaces: [subinterface(10, "172.18.0.1", "172.18.0.0"), subinterface(20, "172.19.0.1", "172.19.0.0")],
          containers: [],
          shims: [],
        },
      ],
      router: { host: "router", masquerade: true },
      macvlanMode: "bridge",
      verify: true,
      reapply: 0,
      confirmWithinSeconds: 600,
    },
  });
});
