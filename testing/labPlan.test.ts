// The lab serves the dev stack: lab/lab.env (what lab:up builds) and Pulumi.dev.yaml (what the
// program deploys) must name the same hosts, addresses, roles, trunk, VLANs and subnets.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import YAML from "yaml";

const ROOT = path.resolve(__dirname, "..", "..");

function readLabEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(path.join(ROOT, "lab", "lab.env"), "utf8").split("\n")) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|(\S*))\s*$/.exec(line);
    if (match) env[match[1]] = match[2] ?? match[3];
  }
  return env;
}

test("lab.env and Pulumi.dev.yaml describe the same hosts, trunk, VLANs and subnets", () => {
  const lab = readLabEnv();
  const config = (YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, any> }).config;
  const hosts = config["macvlan-overlay:hosts"] as { name: string; address: string; role: string; vlanAddresses: Record<string, string> }[];
  const vlans = config["macvlan-overlay:vlans"] as { id: number; subnet: string }[];

  // the lab boots the dev stack's hosts, then the spare ones the e2e's day-2 scenarios add
  assert.deepEqual(lab.LAB_HOSTS.split(" "), [...hosts.map((h) => h.name), ...lab.LAB_SPARE_HOSTS.split(" ")]);
  for (const host of hosts) {
    assert.equal(lab[`LAB_HOST_${host.name}_ADDR`], host.address, `${host.name} address`);
    assert.equal(lab[`LAB_HOST_${host.name}_ROLE`], host.role, `${host.name} role`);
  }
  assert.equal(lab.TRUNK, config["macvlan-overlay:trunkInterface"]);
  assert.deepEqual(lab.VLAN_IDS.split(" ").map(Number), vlans.map((v) => v.id));

  const networkOf = (cidr: string) => cidr.replace(/\.\d+\/(\d+)$/, ".0/$1");
  const stackSubnets = new Set([
    ...vlans.map((v) => v.subnet),
    ...hosts.flatMap((h) => Object.values(h.vlanAddresses).map(networkOf)),
  ]);
  assert.deepEqual(new Set(lab.LAB_OTHER_SUBNETS.split(" ")), new Set([...stackSubnets, ...lab.LAB_DAY2_SUBNETS.split(" ")]));
  assert.match(lab.LAB_ALT_SSH_PORT, /^[1-9][0-9]{3,4}$/);
  const mgmt = lab.LAB_MGMT_SUBNET.replace(/\.0\/24$/, ".");
  for (const host of hosts) assert.ok(host.address.startsWith(mgmt), `${host.address} in ${lab.LAB_MGMT_SUBNET}`);
});
