// Test code: edits of the dev stack's file (Pulumi.dev.yaml) that more than one test makes: the e2e's
// day-two configs (e2e/dayTwo.ts) and doctor cases (e2e/doctorChecks.ts), whose registrations the unit
// tests compare too (testing/registrationRecord.ts), and the engine model's plans (testing/engine/model.test.ts).

/** The first occurrence of `from` in the stack's text replaced by `to`. */
export type Edit = readonly [string, string];

/** host1's VLAN 10 address changes. */
export const ADDRESS: Edit[] = [['"10": 192.168.22.10/24', '"10": 192.168.22.20/24']];
/** The router forwards without masquerading. */
export const MASQUERADE_OFF: Edit[] = [["router: { masquerade: true }", "router: { masquerade: false }"]];
/** VLAN 30 added, with its address on every host and a container on each docker host. */
export const VLAN_30_ADDED: Edit[] = [
  [
    "    - { id: 20, network: mac-net20, subnet: 172.19.0.0/24, gateway: 172.19.0.1 }\n",
    "    - { id: 20, network: mac-net20, subnet: 172.19.0.0/24, gateway: 172.19.0.1 }\n    - { id: 30, network: mac-net30, subnet: 172.20.0.0/24, gateway: 172.20.0.1 }\n",
  ],
  ['"20": 192.168.23.10/24 }', '"20": 192.168.23.10/24, "30": 192.168.24.10/24 }'],
  ['"20": 192.168.23.11/24 }', '"20": 192.168.23.11/24, "30": 192.168.24.11/24 }'],
  ['"20": 172.19.0.1/24 }', '"20": 172.19.0.1/24, "30": 172.20.0.1/24 }'],
  ["        - { name: bbox20, vlan: 20, ip: 172.19.0.3 }\n", "        - { name: bbox20, vlan: 20, ip: 172.19.0.3 }\n        - { name: bbox70, vlan: 30, ip: 172.20.0.2 }\n"],
  ["        - { name: bbox40, vlan: 20, ip: 172.19.0.4 }\n", "        - { name: bbox40, vlan: 20, ip: 172.19.0.4 }\n        - { name: bbox80, vlan: 30, ip: 172.20.0.3 }\n"],
];
/** VLAN 20 becomes VLAN 30: the same network, addresses and containers on another 802.1Q id. */
export const VLAN_20_TO_30: Edit[] = [
  ["{ id: 20, network: mac-net20", "{ id: 30, network: mac-net20"],
  ['"20": 192.168.23.10/24', '"30": 192.168.23.10/24'],
  ['"20": 192.168.23.11/24', '"30": 192.168.23.11/24'],
  ['"20": 172.19.0.1/24', '"30": 172.19.0.1/24'],
  ["{ name: bbox20, vlan: 20", "{ name: bbox20, vlan: 30"],
  ["{ name: bbox40, vlan: 20", "{ name: bbox40, vlan: 30"],
];
/** A container added (bbox50), one renamed keeping its key (bbox20), one moved to another IP (bbox40). */
export const CONTAINER_CHANGES: Edit[] = [
  ["        - { name: bbox10, vlan: 10, ip: 172.18.0.2 }\n", "        - { name: bbox10, vlan: 10, ip: 172.18.0.2 }\n        - { name: bbox50, vlan: 10, ip: 172.18.0.6 }\n"],
  ["{ name: bbox20, vlan: 20", "{ name: bbox21, key: bbox20, vlan: 20"],
  ["{ name: bbox40, vlan: 20, ip: 172.19.0.4 }", "{ name: bbox40, vlan: 20, ip: 172.19.0.14 }"],
];
/** VLAN 20's networks on the ipvlan driver (L2 mode): its containers share their parent's MAC. */
export const VLAN20_IPVLAN: Edit[] = [["gateway: 172.19.0.1 }", "gateway: 172.19.0.1, driver: ipvlan }"]];
/** host2 (10.213.70.12) on SSH port 2222. */
export const SSH_PORT: Edit[] = [["      address: 10.213.70.12\n", "      address: 10.213.70.12\n      port: 2222\n"]];
