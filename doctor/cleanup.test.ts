// Cleanup without state: the plan read from a host's marks, and in a host sandbox the program's own
// scripts deployed, their state forgotten, the host cleaned up by its marks alone, and the host equal
// to its snapshot from before the deploy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MANAGED_MARKER, renderHostShim, renderNatRouter, renderPromiscuousMode, renderVlanSubinterface } from "../components/scripts";
import { renderBootUnit } from "../components/scripts/bootUnit";
import { sandboxUnavailableReason, withHostSandbox, type HostSandbox } from "../testing/hostSandbox";
import { planHost, renderConcernScript } from "../components/plan";
import { topologyAfter } from "../testing/devStackConfig";
import { cleanupPlan, describePlan, parseInventory, renderInventoryScript } from "./cleanup";

const skip = sandboxUnavailableReason();

test("a docker host's marks become steps in dependency order, each delete rendered for the recorded device", () => {
  const inventory = parseInventory(
    [
      "record\tvlan-ens33.10.before", "record\tvlan-ens33.10.address", "record\tvlan-ens33.20.before",
      "record\tpromisc-ens33.before", "record\tshim-mvo-shim10.before", "record\tcreated-dir_etc_sysconfig@vlan-ens33.10",
      "container\tbbox20", "container\tbbox10", "network\tmac-net10",
      "file\t/etc/sysconfig/network-scripts/ifcfg-ens33.10", "file\t/etc/sysconfig/network-scripts/ifcfg-ens33.30",
      "unrelated line",
    ].join("\n"),
  );
  const steps = cleanupPlan(inventory, "network-scripts");
  assert.equal(
    describePlan("host1", steps),
    [
      "## host1: 8 step(s)",
      "  1. container bbox10 (labelled managed-by=macvlan-overlay)",
      "  2. container bbox20 (labelled managed-by=macvlan-overlay)",
      "  3. docker network mac-net10 (labelled managed-by=macvlan-overlay)",
      "  4. host shim mvo-shim10: removed, as its records say",
      "  5. vlan link ens33.10: restored as recorded (deleted if create made it)",
      "  6. vlan link ens33.20: restored as recorded (deleted if create made it)",
      "  7. vlan link ens33.30: no record: its address and files of ours only",
      "  8. promiscuous mode on ens33: restored as recorded",
    ].join("\n"),
  );
  assert.match(steps[0].script, /^docker rm -f -- 'bbox10'$/m);
  assert.equal(steps[4].script, renderVlanSubinterface({ subinterface: { vlan: 10, parent: "ens33", device: "ens33.10" }, persistence: "network-scripts" }).delete);
  assert.equal(steps[7].script, renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts" }).delete);
});

test("a router's tagged rules are removed even without its record; nothing found is no step", () => {
  const steps = cleanupPlan(parseInventory("rule\tnat -A POSTROUTING -o ens33.10 -m comment --comment macvlan-overlay -j MASQUERADE\n"), "none");
  assert.deepEqual(steps.map((s) => s.description), ["router: 1 rule(s) tagged macvlan-overlay, ip_forward left as it is (no record)"]);
  assert.equal(steps[0].script, renderNatRouter({ interfaces: [], masquerade: false }).delete);
  assert.deepEqual(cleanupPlan(parseInventory(""), "none"), []);
  assert.equal(describePlan("router", []), "## router: nothing of macvlan-overlay found");
});

test("the dev router found by its marks is removed with the very deletes the program deploys there (its rules: every tagged one)", () => {
  const topology = topologyAfter(() => undefined);
  const router = topology.hosts.find((host) => host.role === "router")!;
  const inventory = parseInventory(
    ["vlan-ens33.10.before", "vlan-ens33.20.before", "promisc-ens33.before", "nat-router.before"].map((record) => `record\t${record}`).join("\n") +
      "\nfile\t/etc/systemd/system/macvlan-overlay.service\n",
  );
  const scripts = new Set(cleanupPlan(inventory, topology.persistence).map((step) => step.script));
  const deployed = planHost(topology, router).flatMap((concern) => ("script" in concern ? [[concern.key, renderConcernScript(concern.script).delete] as const] : []));
  assert.deepEqual(
    deployed.map(([key, script]) => `${key}: ${scripts.has(script!) ? "its own delete" : "another script"}`),
    ["boot: its own delete", "trunk: its own delete", "vlan10: its own delete", "vlan20: its own delete", "nat: another script"],
  );
});

function runScript(box: HostSandbox, script: string): string {
  const result = box.run("sh -s", { input: script });
  assert.equal(result.status, 0, `${script.split("\n")[1]}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

test("deployed by the program's scripts, state forgotten, cleaned up by its marks: the host is as before", { skip }, () =>
  withHostSandbox({}, (box) => {
    box.primeFirewallTables();
    // This machine's kernel has no 802.1Q: the trunk and its subinterfaces are veths the scripts adopt.
    box.exec("ip link add ens33 type veth peer name ens33-peer && ip link add ens33.10 type veth peer name p10 && ip link add ens33.20 type veth peer name p20");
    // Up before the snapshot: a link's first up gives it a qdisc for good, which no delete can undo.
    box.exec("for l in ens33-peer p10 p20 ens33.10 ens33.20; do ip link set \"$l\" up; done");
    const before = box.snapshot();

    const persistence = "network-scripts";
    const boot = true;
    runScript(box, renderBootUnit({ trunkInterfaces: ["ens33"] }).create);
    runScript(box, renderPromiscuousMode({ trunkInterface: "ens33", persistence, boot }).create);
    runScript(box, renderVlanSubinterface({ subinterface: { vlan: 10, parent: "ens33", device: "ens33.10", address: { cidr: "172.18.0.1/24", address: "172.18.0.1", prefix: 24, network: "172.18.0.0" } }, persistence, boot }).create);
    runScript(box, renderVlanSubinterface({ subinterface: { vlan: 20, parent: "ens33", device: "ens33.20", address: { cidr: "172.19.0.1/24", address: "172.19.0.1", prefix: 24, network: "172.19.0.0" } }, persistence, boot }).create);
    runScript(box, renderNatRouter({ interfaces: ["ens33.10", "ens33.20"], masquerade: true, boot }).create);
    runScript(box, renderHostShim({ device: "mvo-shim10", parent: "ens33.10", address: "172.18.0.250", containerIps: ["172.18.0.2"], boot }).create);
    // A fragment whose concern's records are lost: only its marker line says it is ours.
    box.writeFile("/etc/macvlan-overlay/boot.d/20-vlan-ens33.30.sh", `${MANAGED_MARKER}\nip link set dev ens33.30 up\n`);
    const deployed = box.snapshot();
    assert.notEqual(deployed, before);

    // Only the host's own marks from here on: the scripts above are forgotten.
    const inventory = parseInventory(runScript(box, renderInventoryScript()));
    assert.deepEqual(inventory.files, [
      "/etc/sysctl.d/90-macvlan-overlay.conf",
      "/etc/systemd/system/macvlan-overlay.service",
      "/etc/macvlan-overlay/boot.sh",
      "/etc/sysconfig/network-scripts/ifcfg-ens33.10",
      "/etc/sysconfig/network-scripts/ifcfg-ens33.20",
      "/etc/macvlan-overlay/boot.d/10-promisc-ens33.sh",
      "/etc/macvlan-overlay/boot.d/20-vlan-ens33.10.sh",
      "/etc/macvlan-overlay/boot.d/20-vlan-ens33.20.sh",
      "/etc/macvlan-overlay/boot.d/20-vlan-ens33.30.sh",
      "/etc/macvlan-overlay/boot.d/25-shim-mvo-shim10.sh",
      "/etc/macvlan-overlay/boot.d/30-router.sh",
    ]);
    assert.equal(inventory.rules.length, 6);
    const steps = cleanupPlan(inventory, persistence);
    assert.deepEqual(steps.map((s) => s.description), [
      "host shim mvo-shim10: removed, as its records say",
      "router: 6 rule(s) tagged macvlan-overlay, /etc/sysctl.d/90-macvlan-overlay.conf, ip_forward restored as recorded",
      "vlan link ens33.10: restored as recorded (deleted if create made it)",
      "vlan link ens33.20: restored as recorded (deleted if create made it)",
      "promiscuous mode on ens33: restored as recorded",
      "boot fragments of ours still in /etc/macvlan-overlay/boot.d: removed",
      "boot unit: disabled, its runner and unit file removed",
    ]);
    for (const step of steps) runScript(box, step.script);

    assert.equal(box.snapshot(), before);
    assert.deepEqual(cleanupPlan(parseInventory(runScript(box, renderInventoryScript())), persistence), []);
  }),
);
