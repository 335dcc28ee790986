// End to end: bring up the local lab (User-Mode Linux hosts: real 802.1Q, Docker Engine 26, own
// disks), apply the dev stack's resources to it for real, and prove from inside the containers that
// packets flow — that create is idempotent, that reboots need no re-run, that real hosts' ways
// (a REJECT in FORWARD, pinned keys, sudo, a bastion) work (e2e/realHostChecks.ts), that the doctor
// names drift and its repair works (e2e/doctorChecks.ts), that the config changes users make
// (e2e/dayTwo.ts) keep the overlay working, and that destroy is exact; then that a stack deployed by
// the program before stable identities, and the one before the per-host plan, upgrade in place; and
// that cleanup without state is exact.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { parseConnectivityReport, renderIfcfg } from "../components/scripts";
import { assertDeployedOverlay, compileProgramAt, scenariosToRun, stackVariant, startForwardingWatch, summarize } from "./dayTwo";
import { cleanupWithoutState, doctorFindsNoDrift, doctorNamesHandMadeDrift, doctorRepairBringsItBack } from "./doctorChecks";
import { E2E_PARALLEL, LabStack, overlappingSteps } from "./liveStack";
import {
  anotherHostKeyIsRefused, bootUnitOnEveryHost, rebootsNeedNoRerun, routeGuardStopsALockout, routerRulesGoAheadOfAReject,
  sudoUsers, throughABastion,
} from "./realHostChecks";
import { LAB_DIR, labCommand, PROJECT_ROOT } from "./labAccess";
import { PhaseClock, timingsFile } from "./timings";
import { leftOut } from "./cases";
import { UPGRADES } from "./upgrades";
import { assertNothingArmedOrReverted, hostUnreachableForItsConfirmReverts, updateWhoseCheckFailsReverts } from "./confirmChecks";
import {
  assertMatrix, CONTAINERS, CROSS_VLAN, DEV_STACK, DOCKER_HOSTS, HOSTS, missing, onHost, pingMatrix, routerCounters,
  SAME_VLAN, snapshotAll, type ContainerName, type HostName,
} from "./labFixture";

describe("the dev stack applied to the local lab", { skip: missing }, () => {
  const live = new LabStack();
  const clock = new PhaseClock("lab up");
  /** One e2e test, timed as a phase of the run under a short name. */
  const phase = (name: string, title: string, options: { skip?: string | boolean }, body: () => unknown) => {
    clock.plan(name, Boolean(options.skip));
    test(title, options, async () => {
      await clock.time(name, body);
    });
  };
  let before_: Record<HostName, string>;
  let vlanMode = "";

  before(async () => {
    const status = labCommand("status");
    if (status.status !== 3) {
      throw new Error(`a lab already exists (lab:status exit ${status.status}); run npm run lab:down first\n${status.stdout}`);
    }
    const up = await clock.time("lab up", () => labCommand("up"));
    if (up.status !== 0) {
      throw new Error(`lab:up failed (${up.status}):\n${up.stdout}\n${up.stderr}`);
    }
    vlanMode = fs.readFileSync(path.join(LAB_DIR, "vlan-mode"), "utf8").trim();
    console.log(`VLAN mode: ${vlanMode} (User-Mode Linux hosts: the program's scripts create ens33.<id>, tagged frames cross the switch)`);
    assert.equal(vlanMode, "802.1Q");
    before_ = snapshotAll();
  });

  after(() => {
    if (live.state.length > 0) {
      try {
        live.destroy();
      } catch (error) {
        console.log(`destroy after the tests failed: ${(error as Error).message}`);
      }
    }
    live.dispose();
    // Normally the last test has already taken the lab down; this covers a run that stopped early.
    const down = labCommand("down");
    if (down.status !== 0) {
      console.log(`lab:down failed:\n${down.stdout}\n${down.stderr}`);
    }
    clock.report(timingsFile(PROJECT_ROOT));
  });

  phase("docker engines, no VLAN link yet", "the lab's hosts run Docker Engine 26 (API 1.44 or later, needed for a per-network MAC) and no VLAN link yet", {}, () => {
    for (const host of DOCKER_HOSTS) {
      const [version, api] = onHost(host, "docker version --format '{{.Server.Version}} {{.Server.APIVersion}}'").trim().split(" ");
      assert.match(version, /^26\./, `${host} engine`);
      const [major, minor] = api.split(".").map(Number);
      assert.ok(major > 1 || minor >= 44, `${host} API ${api}`);
    }
    for (const host of Object.keys(HOSTS) as HostName[]) {
      assert.equal(onHost(host, "ip -o link show type vlan"), "", `${host} has no 802.1Q link before the program runs`);
    }
  });

  phase("first deploy", "pulumi up: the program's resources apply to the lab without error", {}, () => {
    const steps = live.up(DEV_STACK);
    assert.deepEqual([...new Set(steps.map((step) => step.op))], ["create"]);
    const overlapping = overlappingSteps(steps);
    console.log(`steps that ran at the same time (--parallel ${E2E_PARALLEL || "unbounded"}): ${overlapping.length} pairs, e.g. ${overlapping.slice(0, 3).join("; ")}`);
    if (E2E_PARALLEL === 1) {
      assert.deepEqual(overlapping, [], "--parallel 1: one step at a time");
    } else {
      // host1's two VLAN links wait only on its promiscuous trunk: the engine starts them together.
      assert.ok(overlapping.includes("host1/vlan10/link/ens33.10 + host1/vlan20/link/ens33.20"), overlapping.join("\n"));
    }
    const kinds = live.state.map((entry) => entry.resource.type);
    assert.equal(kinds.filter((t) => t === "docker:index/network:Network").length, 4);
    assert.equal(kinds.filter((t) => t === "docker:index/container:Container").length, 4);
    for (const host of DOCKER_HOSTS) {
      const check = String(live.entry(`${host}/check/ping`).resource.outputs.stdout ?? "");
      console.log(`the program's own connectivity check on ${host}:\n${check}`);
      const report = parseConnectivityReport(check);
      assert.ok(report.length > 0, `${host}: the check reported probes`);
      assert.deepEqual(report.filter((probe) => probe.result !== probe.expected), [], `${host}: every probe as expected`);
      assert.deepEqual([...new Set(report.map((probe) => probe.kind))].sort(), ["gateway", "routed", "same-vlan"], `${host}: gateway, same-VLAN and routed probes`);
    }
  });

  phase("host state after create", "host state after create: promisc, subinterfaces with the seed's addresses, ifcfg files, sysctl, rules", {}, () => {
    const seedAddresses: Record<HostName, [string, string]> = {
      host1: ["192.168.22.10/24", "192.168.23.10/24"],
      host2: ["192.168.22.11/24", "192.168.23.11/24"],
      router: ["172.18.0.1/24", "172.19.0.1/24"],
    };
    for (const host of Object.keys(HOSTS) as HostName[]) {
      assert.match(onHost(host, "ip -d link show dev ens33"), /promiscuity [1-9]/, `${host} ens33 promisc`);
      [10, 20].forEach((vlan, i) => {
        const device = `ens33.${vlan}`;
        const link = onHost(host, `ip -o -4 addr show dev ${device}; ip -o -d link show dev ${device}`);
        assert.match(link, new RegExp(`inet ${seedAddresses[host][i].replace(/\./g, "\\.")} `), `${host} ${device}`);
        assert.match(link, /[<,]UP[,>]/, `${host} ${device} up`);
        assert.match(link, new RegExp(`${device}@ens33: .* vlan protocol 802\\.1Q id ${vlan} `), `${host} ${device} is a real 802.1Q link`);
        const [address, prefix] = seedAddresses[host][i].split("/");
        const ifcfg = onHost(host, `cat /etc/sysconfig/network-scripts/ifcfg-${device}`);
        assert.equal(
          ifcfg,
          renderIfcfg({ vlan, parent: "ens33", device, address: { cidr: seedAddresses[host][i], address, prefix: Number(prefix), network: address.replace(/\.\d+$/, ".0") } }),
        );
        assert.match(ifcfg, new RegExp(`^BOOTPROTO=none\nNAME=${device}\nDEVICE=${device}\nONBOOT=yes\nIPADDR=${address}\n`, "m"));
      });
    }
    assert.equal(onHost("router", "sysctl -n net.ipv4.ip_forward").trim(), "1");
    assert.equal(onHost("host1", "sysctl -n net.ipv4.ip_forward").trim(), "0");
    assert.match(onHost("router", "cat /etc/sysctl.d/90-macvlan-overlay.conf"), /^net\.ipv4\.ip_forward = 1$/m);
    const rules = onHost("router", "iptables -w -S FORWARD; iptables -w -t nat -S POSTROUTING");
    for (const [i, o] of [["ens33.10", "ens33.20"], ["ens33.20", "ens33.10"]]) {
      assert.match(rules, new RegExp(`-A FORWARD -i ${i} -o ${o} -m conntrack --ctstate RELATED,ESTABLISHED .*-j ACCEPT`));
      assert.match(rules, new RegExp(`-A FORWARD -i ${i} -o ${o} -m comment --comment macvlan-overlay -j ACCEPT`));
    }
    assert.match(rules, /-A POSTROUTING -o ens33\.10 -m comment --comment macvlan-overlay -j MASQUERADE/);
    assert.match(rules, /-A POSTROUTING -o ens33\.20 -m comment --comment macvlan-overlay -j MASQUERADE/);
  });

  phase("container IPs and MACs", "each container runs with its declared static IP and stable MAC", {}, () => {
    const declared = live.state.map((entry) => entry.resource).filter((r) => r.type === "docker:index/container:Container");
    assert.deepEqual(declared.map((r) => r.inputs.name).sort(), Object.keys(CONTAINERS));
    for (const resource of declared) {
      const name = resource.inputs.name as ContainerName;
      const endpoint = (resource.inputs.networksAdvanced as { macAddress: string }[])[0];
      assert.match(endpoint.macAddress, /^02(:[0-9a-f]{2}){5}$/);
      const seen = onHost(CONTAINERS[name].host, `docker exec ${name} ip -o -4 addr show dev eth0; docker exec ${name} cat /sys/class/net/eth0/address`);
      assert.match(seen, new RegExp(`inet ${CONTAINERS[name].ip.replace(/\./g, "\\.")}/24 `), `${name} IP`);
      assert.equal(seen.trim().split("\n").pop(), endpoint.macAddress, `${name} MAC`);
    }
  });

  phase("ping matrix and router counters", "packets flow: same VLAN across hosts directly, across VLANs through the router", {}, () => {
    const countersBefore = routerCounters();
    assertMatrix(pingMatrix("deployed", [...SAME_VLAN, ...CROSS_VLAN(true)]));
    const countersAfter = routerCounters();
    const grew = (key: string) => (countersAfter.get(key) ?? 0) > (countersBefore.get(key) ?? 0);
    console.log("router rule counters (packets):", Object.fromEntries(countersAfter));
    assert.ok(grew("nat POSTROUTING * ens33.20 MASQUERADE"), "MASQUERADE out of ens33.20 matched");
    assert.ok(grew("nat POSTROUTING * ens33.10 MASQUERADE"), "MASQUERADE out of ens33.10 matched");
    assert.ok(grew("filter FORWARD ens33.10 ens33.20 ACCEPT"), "FORWARD 10->20 matched");
    assert.ok(grew("filter FORWARD ens33.20 ens33.10 ACCEPT ctstate") || grew("filter FORWARD ens33.20 ens33.10 ACCEPT"), "FORWARD 20->10 matched");
  });

  phase("every create run again", "running every create script a second time changes nothing", {}, () => {
    const first = snapshotAll();
    for (const entry of live.commands()) live.runScript(entry.resource.name, "create");
    assert.deepEqual(snapshotAll(), first);
  });

  phase("router rules deleted, then ahead of a REJECT", "without the router's rules cross-VLAN pings fail and same-VLAN pings still work; made again behind a REJECT, they go ahead of it", {}, () => {
    live.runScript("router/nat/rules", "delete");
    try {
      assert.equal(onHost("router", "sysctl -n net.ipv4.ip_forward").trim(), "0");
      assertMatrix(pingMatrix("router rules deleted", [...SAME_VLAN, ...CROSS_VLAN(false)]));
    } finally {
      routerRulesGoAheadOfAReject(live);
    }
  });

  phase("boot unit on every host", "each host has the boot unit enabled, its runner and one fragment per concern", {}, () => bootUnitOnEveryHost());

  // Before the reboots: they then also show that nothing armed here reverts after its deadline.
  phase("confirm: check fails", "commit confirmed: an update whose check fails is undone by every host at its deadline; the repair applies and is confirmed", {}, () =>
    updateWhoseCheckFailsReverts(live),
  );
  phase("confirm: host unreachable", "commit confirmed: a host that refuses new SSH connections after an update reverts; the others stay confirmed", {}, () =>
    hostUnreachableForItsConfirmReverts(live),
  );

  let writtenToRouterDisk = "";
  const routerFiles = "cat /etc/sysctl.d/90-macvlan-overlay.conf /etc/sysconfig/network-scripts/ifcfg-ens33.10 /etc/sysconfig/network-scripts/ifcfg-ens33.20";
  for (const host of ["router", "host1", "host2"] as const) {
    phase(`reboot ${host}`, `${host} rebooted (each host in turn): the boot unit brings everything back before dockerd, the matrix is green, no script re-run`, {}, () => {
      if (host === "router") writtenToRouterDisk = onHost("router", routerFiles);
      rebootsNeedNoRerun([host]);
      assert.equal(onHost("router", routerFiles), writtenToRouterDisk, "what the program wrote to the router's disk is still there");
      // The confirmed updates of the cases above, their 60 s deadlines long past: nothing reverts at boot.
      assertNothingArmedOrReverted(host, "after its reboot");
    });
  }

  phase("route guard", "a create that would move the route back to the operator onto a new link stops and changes nothing", {}, () => routeGuardStopsALockout());

  phase("another host key refused", "a host presenting another key than the pinned one is refused before any script runs, and by Docker", {}, () => anotherHostKeyIsRefused());

  phase("sudo users", "a sudo user with NOPASSWD runs the host scripts as root; one without gets the clear error", { skip: leftOut("all") }, () => sudoUsers(live));

  phase("bastion", "every docker host through the router as bastion: host scripts and Docker", {}, () => throughABastion());

  phase("doctor: no drift", "doctor: deployed, every host matches the stack (exit 0)", {}, () => doctorFindsNoDrift());

  // The drift and its repair go together: without the repair the lab stays drifted.
  phase("doctor: drift named", "doctor: a VLAN link, a router rule and a container removed by hand are each named (exit 1), with the repair", { skip: leftOut("all") }, () => doctorNamesHandMadeDrift());

  phase("doctor: repair", "doctor: the repair it prints (refresh, reapply, --replace) brings the matrix back and the doctor to exit 0", { skip: leftOut("all") }, () => {
    doctorRepairBringsItBack(live);
    // reapply back to 0: every host command updates in place again, nothing is replaced
    const back = summarize(live.up(DEV_STACK)).filter((line) => !/check[-/]ping/.test(line));
    assert.deepEqual(back.filter((line) => !line.startsWith("update ")), [], back.join("\n"));
  });

  for (const scenario of scenariosToRun()) {
    phase(`day 2: ${scenario.phase}`, `day 2: ${scenario.title}`, {}, () => {
      const watch = scenario.watchForwarding ? startForwardingWatch() : undefined;
      const started = Date.now();
      const steps = live.up(stackVariant(scenario.edits));
      const summary = summarize(steps);
      console.log(`day 2: ${scenario.title} (pulumi up: ${Math.round((Date.now() - started) / 1000)} s)\n  ${summary.join("\n  ") || "(no step)"}`);
      if (watch !== undefined) {
        const samples = watch.stop();
        assert.ok(samples.length > 0, "the router's ip_forward was sampled during the update");
        assert.deepEqual([...new Set(samples)], ["1"], "ip_forward stayed 1 on the router throughout the update");
      }
      scenario.expect(summary);
      assertDeployedOverlay(live, "after: " + scenario.title);
    });
  }

  phase("destroy", "pulumi destroy: every host returns exactly to its pre-deploy state", {}, () => {
    const steps = live.destroy();
    assert.ok(steps.every((step) => step.op === "delete"));
    assert.equal(live.state.length, 0);
    const now = snapshotAll();
    for (const host of Object.keys(HOSTS) as HostName[]) {
      assert.equal(now[host], before_[host], `${host} differs from its pre-deploy snapshot`);
    }
  });

  for (const upgrade of UPGRADES) {
    phase(`upgrade from ${upgrade.commit}`, `upgrade: the dev stack deployed by the program as of ${upgrade.commit} (${upgrade.what}) is updated by this one, replacing nothing on the hosts`, { skip: leftOut("all") }, () => {
      const legacy = compileProgramAt(upgrade.commit);
      try {
        live.up(DEV_STACK, { programDir: legacy.programDir });
        const hostIds = () => live.state.filter((e) => e.live.kind === "docker").map((e) => e.resource.id).sort();
        const idsBefore = hostIds();
        const summary = summarize(live.up(DEV_STACK));
        console.log(`upgrade from ${upgrade.commit}:\n  ${summary.join("\n  ")}`);
        // The read-only checks change nothing on a host, whatever their steps.
        const changedOnHosts = summary.filter((line) => !/^(update|same) /.test(line) && !/check[-/]ping/.test(line) && !upgrade.newSince.test(line));
        assert.deepEqual(changedOnHosts, [], "only updates in place on the hosts (and what is new since)");
        assert.deepEqual(hostIds(), idsBefore, "every Docker network, container and image kept its id");
        assertDeployedOverlay(live, `upgraded from ${upgrade.commit}`);
        live.destroy();
      } finally {
        legacy.remove();
      }
      const now = snapshotAll();
      for (const host of Object.keys(HOSTS) as HostName[]) {
        assert.equal(now[host], before_[host], `${host} differs from its pre-deploy snapshot after the upgraded stack's destroy`);
      }
    });
  }

  phase("cleanup case (fresh deploy, cleanup)", "state forgotten (a fresh deploy with a host shim and VLAN 20 on ipvlan: the same matrix), doctor --cleanup --yes leaves each host as before the deploy", {}, () => cleanupWithoutState(live, before_));

  phase("lab down", "lab:down leaves no namespace, link, UML or uml_switch process, mount or file behind", {}, () => {
    const down = labCommand("down");
    assert.equal(down.status, 0, down.stdout + down.stderr);
    const sh = (script: string) => spawnSync("sh", ["-c", script], { encoding: "utf8" }).stdout;
    assert.deepEqual(sh("ip netns list").split("\n").filter((l) => l.startsWith("ovl-")), []);
    assert.deepEqual(sh("ip -o link show").split("\n").filter((l) => /ovl-/.test(l)), []);
    assert.deepEqual(sh("ps -eo pid=,args=").split("\n").filter((l) => /linux\.uml|uml_switch/.test(l) && l.includes(LAB_DIR)), []);
    assert.deepEqual(sh("findmnt -rn -o TARGET").split("\n").filter((l) => l.startsWith("/run/ovl-lab") || l.startsWith(LAB_DIR) || l.startsWith("/run/netns/ovl-")), []);
    // only the fetched engine packages stay, to be reused by the next lab:up
    assert.deepEqual(fs.existsSync(LAB_DIR) ? fs.readdirSync(LAB_DIR) : [], fs.existsSync(LAB_DIR) ? ["cache"] : []);
    assert.equal(fs.existsSync("/run/ovl-lab"), false);
    assert.equal(labCommand("status").status, 3);
  });
});
