// The host plan: what each host of the dev stack (and of its variants) should hold, concern by concern,
// with the dependencies, boot fragments, doctor facts and removals the program, the doctor, its
// cleanup and the diagram all read from it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { devStackConfig, topologyAfter } from "../testing/devStackConfig";
import type { Topology } from "../topology";
import { type HostConcern, planHost, plannedFacts, removalScript, renderConcernScript } from "./plan";

const dev = (): Topology => topologyAfter(() => undefined);
const host = (topology: Topology, name: string) => topology.hosts.find((candidate) => candidate.name === name)!;
const summary = (concerns: readonly HostConcern[]) =>
  concerns.map((concern) => `${concern.kind} ${concern.key} <- ${concern.dependsOn.map((d) => `${d.key}${d.through === "input" ? " (input)" : ""}`).join(", ")}`);

test("a docker host of the dev stack: engine check, boot unit, trunk, per VLAN its link, network and containers, in registration order", () => {
  assert.deepEqual(summary(planHost(dev(), host(dev(), "host1"))), [
    "docker-engine docker-engine <- ",
    "boot-unit boot <- docker-engine",
    "promiscuous-mode trunk <- docker-engine, boot",
    "vlan-link vlan10 <- trunk, boot",
    "docker-network network/mac-net10 <- docker-engine, vlan10 (input)",
    "container container/bbox10 <- docker-engine, network/mac-net10 (input)",
    "vlan-link vlan20 <- trunk, boot",
    "docker-network network/mac-net20 <- docker-engine, vlan20 (input)",
    "container container/bbox20 <- docker-engine, network/mac-net20 (input)",
  ]);
});

test("the router: boot unit, trunk, its links and the NAT rules after every link", () => {
  const router = planHost(dev(), host(dev(), "router"));
  assert.deepEqual(summary(router), [
    "boot-unit boot <- ",
    "promiscuous-mode trunk <- boot",
    "vlan-link vlan10 <- trunk, boot",
    "vlan-link vlan20 <- trunk, boot",
    "nat-router nat <- vlan10, vlan20, boot",
  ]);
  const nat = router.find((concern) => concern.kind === "nat-router");
  assert.ok(nat?.kind === "nat-router");
  assert.equal(nat.rules.length, 6);
  assert.equal(nat.rules[0], "-t nat -A POSTROUTING -o ens33.10 -m comment --comment macvlan-overlay -j MASQUERADE");
  assert.deepEqual(nat.script, { renderer: "natRouter", args: { interfaces: ["ens33.10", "ens33.20"], masquerade: true, boot: true, confirmWithinSeconds: 600 } });
});

test("names are the host and the key: the resource names stacks were deployed with", () => {
  const names = dev().hosts.flatMap((h) => planHost(dev(), h).map((concern) => concern.name));
  assert.deepEqual(names, [
    "host1/docker-engine", "host1/boot", "host1/trunk", "host1/vlan10", "host1/network/mac-net10", "host1/container/bbox10",
    "host1/vlan20", "host1/network/mac-net20", "host1/container/bbox20",
    "host2/docker-engine", "host2/boot", "host2/trunk", "host2/vlan10", "host2/network/mac-net10", "host2/container/bbox30",
    "host2/vlan20", "host2/network/mac-net20", "host2/container/bbox40",
    "router/boot", "router/trunk", "router/vlan10", "router/vlan20", "router/nat",
  ]);
});

test("with the boot unit, every host command that changes the host writes its fragment and waits for the unit; its script is told so", () => {
  for (const h of dev().hosts) {
    for (const concern of planHost(dev(), h)) {
      const waitsForUnit = concern.dependsOn.some((dependency) => dependency.key === "boot");
      const commandWithFragment = "script" in concern && concern.changesHost && concern.kind !== "boot-unit";
      assert.equal(concern.writesBootFragment, commandWithFragment, concern.name);
      assert.equal(waitsForUnit, commandWithFragment, concern.name);
      if ("script" in concern && "args" in concern.script && "boot" in concern.script.args) {
        assert.equal(concern.script.args.boot, true, concern.name);
      }
    }
  }
});

test("persistence none: no boot unit, no fragment, nothing waits for one, every script rendered without", () => {
  const topology = topologyAfter((config) => {
    config.persistence = "none";
  });
  for (const h of topology.hosts) {
    const concerns = planHost(topology, h);
    assert.ok(!concerns.some((concern) => concern.kind === "boot-unit"), h.name);
    for (const concern of concerns) {
      assert.equal(concern.writesBootFragment, false, concern.name);
      assert.ok(!concern.dependsOn.some((dependency) => dependency.key === "boot"), concern.name);
      if ("script" in concern && "args" in concern.script && "boot" in concern.script.args) {
        assert.equal(concern.script.args.boot, false, concern.name);
      }
    }
    assert.ok(!plannedFacts(concerns).some((fact) => fact.section === "boot"), h.name);
  }
});

test("every dependency is a concern of the same host planned before it", () => {
  const topology = topologyAfter((config) => {
    config.hosts[0].hostShim = { "10": "172.18.0.250", "20": "172.19.0.250" };
  });
  for (const h of topology.hosts) {
    const concerns = planHost(topology, h);
    concerns.forEach((concern, index) => {
      for (const dependency of concern.dependsOn) {
        const at = concerns.findIndex((candidate) => candidate.key === dependency.key);
        assert.ok(at >= 0 && at < index, `${concern.name} <- ${dependency.key}`);
      }
    });
    assert.equal(new Set(concerns.map((concern) => concern.key)).size, concerns.length, `${h.name}: keys are unique`);
  }
  const shims = planHost(topology, topology.hosts[0]).filter((concern) => concern.kind === "host-shim");
  assert.deepEqual(summary(shims), ["host-shim vlan10/shim <- vlan10, boot", "host-shim vlan20/shim <- vlan20, boot"]);
});

test("the doctor's facts come from the plan, section by section: a docker host's 17 items, the router's 23", () => {
  const facts = (name: string) => plannedFacts(planHost(dev(), host(dev(), name)));
  assert.deepEqual(
    facts("host1").map((fact) => fact.item),
    [
      "promiscuous ens33",
      "link ens33.10", "addresses ens33.10", "file /etc/sysconfig/network-scripts/ifcfg-ens33.10",
      "link ens33.20", "addresses ens33.20", "file /etc/sysconfig/network-scripts/ifcfg-ens33.20",
      "file /etc/systemd/system/macvlan-overlay.service", "file /etc/macvlan-overlay/boot.sh", "boot unit enabled",
      "file /etc/macvlan-overlay/boot.d/10-promisc-ens33.sh", "file /etc/macvlan-overlay/boot.d/20-vlan-ens33.10.sh",
      "file /etc/macvlan-overlay/boot.d/20-vlan-ens33.20.sh",
      "network mac-net10", "network mac-net20",
      "container bbox10", "container bbox20",
    ],
  );
  assert.equal(facts("router").length, 23);
  assert.equal(facts("router").at(-1)!.item, "file /etc/macvlan-overlay/boot.d/30-router.sh");
});

test("containers are reported in config order, whatever VLAN they are on", () => {
  const topology = topologyAfter((config) => {
    config.hosts[0].containers.reverse();
  });
  const items = plannedFacts(planHost(topology, topology.hosts[0])).filter((fact) => fact.section === "containers").map((fact) => fact.item);
  assert.deepEqual(items, ["container bbox20", "container bbox10"]);
});

test("the removal of a planned link, trunk or shim is the delete its command deploys", () => {
  const topology = topologyAfter((config) => {
    config.hosts[0].hostShim = { "10": "172.18.0.250" };
  });
  const context = { persistence: topology.persistence, bootUnit: true };
  let compared = 0;
  for (const concern of planHost(topology, topology.hosts[0])) {
    if (concern.kind === "vlan-link" || concern.kind === "promiscuous-mode" || concern.kind === "host-shim") {
      assert.equal(removalScript(concern.removal!, context), renderConcernScript(concern.script).delete, concern.name);
      compared++;
    }
  }
  assert.equal(compared, 4);
});

test("the engine check changes nothing: no delete, no removal, no fact", () => {
  const engine = planHost(dev(), host(dev(), "host1"))[0];
  assert.equal(engine.kind, "docker-engine");
  assert.ok("script" in engine && !engine.changesHost);
  assert.equal(renderConcernScript(engine.script).delete, undefined);
  assert.equal(engine.removal, undefined);
  assert.deepEqual(engine.expects(), []);
});

test("the raw dev config and the plan agree on what the dev stack holds", () => {
  const config = devStackConfig();
  const containers = dev().hosts.flatMap((h) => planHost(dev(), h).filter((concern) => concern.kind === "container").map((concern) => concern.key));
  assert.deepEqual(containers, (config.hosts as { containers?: { name: string }[] }[]).flatMap((h) => (h.containers ?? []).map((c) => `container/${c.name}`)));
});
