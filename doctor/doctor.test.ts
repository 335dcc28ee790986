// The doctor against a real router made by the program's own scripts in a host sandbox: a clean host
// reports no difference; hand-made drift (promisc off, a rule deleted, an address removed) is named.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderNatRouter, renderPromiscuousMode, renderVlanSubinterface } from "../components/scripts";
import { renderBootUnit } from "../components/scripts/bootUnit";
import { shellQuote } from "../components/scripts/shell";
import { sandboxUnavailableReason, withHostSandbox, type HostSandbox } from "../testing/hostSandbox";
import { parseTopology, type Topology } from "../topology";
import { expectedHostState, matches } from "./expected";
import { parseFacts, renderFactsScript } from "./facts";
import { compare, pingFindings, renderTable } from "./report";
import { macsFromOutputs, parseDoctorArgs } from "../tools/doctor";

const skip = sandboxUnavailableReason();

function devTopology(): Topology {
  const parsed = parseTopology({
    sshPrivateKeyFile: "k",
    sshKnownHostsFile: "known_hosts",
    vlans: [
      { id: 10, network: "mac-net10", subnet: "172.18.0.0/24", gateway: "172.18.0.1" },
      { id: 20, network: "mac-net20", subnet: "172.19.0.0/24", gateway: "172.19.0.1" },
    ],
    hosts: [
      { name: "host1", address: "10.213.70.11", role: "docker", vlanAddresses: { "10": "192.168.22.10/24" }, containers: [{ name: "bbox10", vlan: 10, ip: "172.18.0.2" }] },
      { name: "router", address: "10.213.70.13", role: "router", vlanAddresses: { "10": "172.18.0.1/24", "20": "172.19.0.1/24" } },
    ],
  });
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.topology;
}

test("a container's MAC is compared only when the outputs name it", () => {
  assert.equal(matches("running mac-net10 172.18.0.2 *", "running mac-net10 172.18.0.2 02:42:ac:12:00:02"), true);
  assert.equal(matches("running mac-net10 172.18.0.2 *", "running mac-net10 172.18.0.2 02:42:ac:12:00:02 mac-net20 172.19.0.9 02:01"), false);
  assert.equal(matches("running mac-net10 172.18.0.2 02:aa:bb:cc:dd:ee", "running mac-net10 172.18.0.2 02:42:ac:12:00:02"), false);
  const topology = devTopology();
  const macs = macsFromOutputs(JSON.stringify({ hosts: { host1: { containers: [{ name: "bbox10", mac: "02:aa:bb:cc:dd:ee" }] } } }), "out.json");
  const container = expectedHostState(topology, topology.hosts[0], macs).find((e) => e.item === "container bbox10");
  assert.equal(container?.expected, "running mac-net10 172.18.0.2 02:aa:bb:cc:dd:ee");
});

test("on an ipvlan vlan the network is expected in L2 mode and no container MAC is compared", () => {
  const parsed = parseTopology({
    sshPrivateKeyFile: "k",
    sshKnownHostsFile: "known_hosts",
    vlans: [{ id: 10, network: "ipv-net10", subnet: "172.18.0.0/24", gateway: "172.18.0.1", driver: "ipvlan" }],
    hosts: [{ name: "host1", address: "10.213.70.11", role: "docker", containers: [{ name: "bbox10", vlan: 10, ip: "172.18.0.2" }] }],
  });
  assert.ok(parsed.ok);
  const items = expectedHostState(parsed.topology, parsed.topology.hosts[0], new Map([["bbox10", "02:aa:bb:cc:dd:ee"]]));
  assert.equal(items.find((e) => e.item === "network ipv-net10")?.expected, "ipvlan parent=ens33.10 mode=l2 subnet=172.18.0.0/24 gateway=172.18.0.1");
  assert.equal(items.find((e) => e.item === "container bbox10")?.expected, "running ipv-net10 172.18.0.2 *");
});

test("the doctor's arguments: one stack file, an optional outputs file", () => {
  assert.deepEqual(parseDoctorArgs(["Pulumi.dev.yaml", "--outputs", "o.json"]), { stackFile: "Pulumi.dev.yaml", outputsFile: "o.json" });
  assert.match(String(parseDoctorArgs(["--frobnicate", "Pulumi.dev.yaml"])), /^unknown option --frobnicate/);
  assert.match(String(parseDoctorArgs([])), /^usage: npm run doctor/);
  assert.deepEqual(parseDoctorArgs(["--cleanup", "Pulumi.dev.yaml", "--yes"]), { stackFile: "Pulumi.dev.yaml", cleanup: true, yes: true });
  assert.deepEqual(parseDoctorArgs(["Pulumi.dev.yaml", "--cleanup"]), { stackFile: "Pulumi.dev.yaml", cleanup: true, yes: false });
  assert.match(String(parseDoctorArgs(["Pulumi.dev.yaml", "--yes"])), /^--yes goes with --cleanup/);
});

test("ping lines of the connectivity check become findings", () => {
  const findings = pingFindings("probe\tbbox10\tbbox30\t172.18.0.5\tsame-vlan\treachable\tunreachable\t-\nconnectivity: 1 of 1 probes differ\n");
  assert.deepEqual(findings, [{ item: "ping bbox10 -> bbox30 (172.18.0.5, same-vlan)", expected: "reachable", found: "unreachable", ok: false }]);
});

function readRouter(box: HostSandbox, topology: Topology) {
  const router = topology.hosts[1];
  const expectations = expectedHostState(topology, router);
  const facts = box.run("sh -s", { input: renderFactsScript(expectations) });
  assert.equal(facts.status, 0, facts.stderr);
  return compare(expectations, parseFacts(facts.stdout));
}

test("a router built by the program's scripts (boot unit included) matches, and hand-made drift is named item by item", { skip }, () =>
  withHostSandbox({}, (box) => {
    box.primeFirewallTables();
    const topology = devTopology();
    const router = topology.hosts[1];
    // This machine's kernel has no 802.1Q: the trunk and its subinterfaces are veths the scripts adopt.
    box.exec("ip link add ens33 type veth peer name ens33-peer && ip link add ens33.10 type veth peer name p10 && ip link add ens33.20 type veth peer name p20 && ip link set ens33-peer up && ip link set p10 up && ip link set p20 up");
    // As the program deploys it: the boot unit first, then each concern with its boot fragment.
    const boot = true;
    const { confirmWithinSeconds } = topology;
    box.exec(`sh -c ${shellQuote(renderBootUnit({ trunkInterfaces: ["ens33"] }).create)}`);
    box.exec(`sh -c ${shellQuote(renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts", boot, confirmWithinSeconds }).create)}`);
    for (const sub of router.subinterfaces) {
      box.exec(`sh -c ${shellQuote(renderVlanSubinterface({ subinterface: sub, persistence: "network-scripts", boot, confirmWithinSeconds }).create)}`);
    }
    box.exec(`sh -c ${shellQuote(renderNatRouter({ interfaces: ["ens33.10", "ens33.20"], masquerade: true, boot, confirmWithinSeconds }).create)}`);

    const clean = readRouter(box, topology);
    assert.deepEqual(
      clean.filter((f) => !f.ok).map((f) => `${f.item}: ${f.found}`),
      ["link ens33.10: veth, up", "link ens33.20: veth, up"],
      renderTable("router", clean),
    );

    box.exec("ip link set ens33 promisc off");
    box.exec("iptables -t nat -D POSTROUTING -o ens33.20 -m comment --comment macvlan-overlay -j MASQUERADE");
    box.exec("ip addr del 172.19.0.1/24 dev ens33.20");
    box.exec("rm /etc/sysconfig/network-scripts/ifcfg-ens33.10");
    box.exec("rm /etc/systemd/system/multi-user.target.wants/macvlan-overlay.service /etc/macvlan-overlay/boot.d/30-router.sh");
    const drifted = readRouter(box, topology);
    assert.deepEqual(
      drifted.filter((f) => !f.ok && !f.item.startsWith("link ")).map((f) => `${f.item}: expected ${f.expected}, found ${f.found}`),
      [
        "promiscuous ens33: expected on, found off",
        `file /etc/sysconfig/network-scripts/ifcfg-ens33.10: expected ${clean.find((f) => f.item === "file /etc/sysconfig/network-scripts/ifcfg-ens33.10")!.expected}, found absent`,
        "addresses ens33.20: expected 172.19.0.1/24, found none",
        "rule -t nat -A POSTROUTING -o ens33.20 -m comment --comment macvlan-overlay -j MASQUERADE: expected present, found absent",
        "rules tagged macvlan-overlay: expected 6, found 5",
        "boot unit enabled: expected /etc/systemd/system/macvlan-overlay.service, found absent",
        `file /etc/macvlan-overlay/boot.d/30-router.sh: expected ${clean.find((f) => f.item === "file /etc/macvlan-overlay/boot.d/30-router.sh")!.expected}, found absent`,
      ],
    );
    assert.match(renderTable("## router", drifted), /^promiscuous ens33 +on +off +DIFFERS$/m);
  }),
);

test("a host that reverted an unconfirmed update is named as reverted, with the time and what it reverted; while armed, with its deadline", { skip }, () =>
  withHostSandbox({}, async (box) => {
    box.exec("ip link add ens33 type veth peer name ens33-peer && ip link add ens33.10 type veth peer name p10 && ip link set ens33-peer up && ip link set p10 up");
    box.primeFirewallTables();
    const router = devTopology().hosts[1];
    const sub = router.subinterfaces[0];
    const link = (cidr: string) =>
      renderVlanSubinterface({ subinterface: { ...sub, address: { ...sub.address!, cidr, address: cidr.split("/")[0] } }, persistence: "network-scripts", confirmWithinSeconds: 2 });
    const revertItem = () => {
      const expectations = expectedHostState(devTopology(), router).filter((e) => e.item === "commit confirmed");
      const facts = box.run("sh -s", { input: renderFactsScript(expectations) });
      assert.equal(facts.status, 0, facts.stderr);
      return compare(expectations, parseFacts(facts.stdout))[0];
    };
    box.exec(`sh -c ${shellQuote(link("172.18.0.1/24").create)}`);
    assert.deepEqual(revertItem(), { item: "commit confirmed", expected: "nothing armed or reverted", found: "nothing armed or reverted", ok: true });
    box.exec(`sh -c ${shellQuote(link("172.18.0.9/24").create)}`);
    assert.match(revertItem().found, /^armed: reverts at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ unless pulumi up confirms it$/);
    for (let waited = 0; box.run("test -e /var/lib/macvlan-overlay/reverted").status !== 0; waited++) {
      assert.ok(waited < 60, "reverted within 12 s");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const reverted = revertItem();
    assert.equal(reverted.ok, false);
    assert.match(reverted.found, /^reverted at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: vlan-ens33\.10\.[0-9a-f]{16}$/);
  }),
);
