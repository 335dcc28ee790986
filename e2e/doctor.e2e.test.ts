// End to end on the local lab: the doctor against the deployed dev stack — clean, then drift made by
// hand (a VLAN link, a router rule, a container) named item by item with exit 1, the repair (every
// host command's update, the containers re-created as the engine would) bringing the matrix back,
// a host shim through which host1 pings its own container, and finally the state forgotten and the
// hosts cleaned up by their marks alone, each equal to its pre-deploy snapshot.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { renderHostShim } from "../components/scripts";
import { evaluateProgram } from "../testing/programHarness";
import { runCleanup, runDoctor, sshShell } from "../tools/doctor";
import type { Topology } from "../topology";
import { LiveApply } from "./liveApply";
import { PROJECT_ROOT, labCommand, sshRun } from "./labAccess";
import {
  assertMatrix, CROSS_VLAN, DEV_STACK, HOSTS, missing, onHost, pingMatrix, SAME_VLAN, snapshotAll, type HostName,
} from "./labFixture";

const shellFor = (topology: Topology) => sshShell(topology, PROJECT_ROOT);

/** The rows of one host's table that differ, as "item: found". */
function differing(report: string, host: HostName): string[] {
  const section = report.split("\n\n").find((part) => part.startsWith(`## ${host} `)) ?? "";
  return section
    .split("\n")
    .filter((line) => line.endsWith("DIFFERS"))
    .map((line) => line.split(/ {2,}/))
    .map((cells) => `${cells[0]}: ${cells[cells.length - 2]}`);
}

describe("the doctor on the local lab: drift, repair, cleanup without state", { skip: missing }, () => {
  const live = new LiveApply();
  let before_: Record<HostName, string>;

  before(() => {
    const status = labCommand("status");
    if (status.status !== 3) {
      throw new Error(`a lab already exists (lab:status exit ${status.status}); run npm run lab:down first\n${status.stdout}`);
    }
    const up = labCommand("up");
    if (up.status !== 0) {
      throw new Error(`lab:up failed (${up.status}):\n${up.stdout}\n${up.stderr}`);
    }
    before_ = snapshotAll();
  });

  after(() => {
    live.destroy();
    live.dispose();
    const down = labCommand("down");
    if (down.status !== 0) {
      console.log(`lab:down failed:\n${down.stdout}\n${down.stderr}`);
    }
  });

  test("deployed, every host matches the stack: exit 0", async () => {
    const evaluation = await evaluateProgram({ stackFile: DEV_STACK, cwd: PROJECT_ROOT, apply: live.apply });
    assert.equal(evaluation.error, undefined);
    const log: string[] = [];
    const result = runDoctor({ stackFile: DEV_STACK }, shellFor, (line) => log.push(line));
    console.log(result.report);
    assert.equal(result.exitCode, 0, result.report);
    assert.equal(log.length, 6);
  });

  test("a VLAN link, a router rule and a container deleted by hand are each named, and the exit is 1", () => {
    onHost("host2", "ip link del dev ens33.10");
    onHost("router", "iptables -w -D FORWARD -i ens33.10 -o ens33.20 -m comment --comment macvlan-overlay -j ACCEPT");
    onHost("host1", "docker rm -f bbox20");
    const result = runDoctor({ stackFile: DEV_STACK }, shellFor, () => undefined);
    console.log(result.report);
    assert.equal(result.exitCode, 1);
    const host2 = differing(result.report, "host2");
    assert.ok(host2.includes("link ens33.10: missing"), host2.join("\n"));
    assert.ok(host2.includes("addresses ens33.10: missing"), host2.join("\n"));
    // bbox30 lost its macvlan interface with the link: its pings fail.
    assert.ok(host2.some((row) => /^ping bbox30 -> /.test(row)), host2.join("\n"));
    assert.deepEqual(differing(result.report, "router"), [
      "rule -t filter -A FORWARD -i ens33.10 -o ens33.20 -m comment --comment macvlan-overlay -j ACCEPT: absent",
      "rules tagged macvlan-overlay: 5",
    ]);
    const host1 = differing(result.report, "host1");
    assert.ok(host1.includes("container bbox20: missing"), host1.join("\n"));
    assert.match(result.report, /pulumi config set reapply 1 -s dev && pulumi up -s dev/);
    assert.match(result.report, /pulumi refresh -s dev --yes {4}# the engine forgets what is gone: bbox20/);
  });

  test("the repair (every host command's update; the containers re-created) brings the matrix back and the doctor to exit 0", async () => {
    // What `pulumi config set reapply 1 && pulumi up` runs: each host command's update script.
    const commands = live.done.filter((r) => r.command !== undefined && typeof r.inputs.update === "string");
    assert.equal(commands.length, 10);
    for (const resource of commands) {
      const result = sshRun(resource.command!.target, resource.inputs.update as string);
      assert.equal(result.status, 0, `${resource.name} update:\n${result.stdout}${result.stderr}`);
    }
    // What refresh + up (bbox20, gone) and --replace (bbox30, its interface gone with the link) do.
    for (const [host, name] of [["host1", "bbox20"], ["host2", "bbox30"]] as const) {
      onHost(host, `docker rm -f ${name}`);
      const declared = live.done.find((r) => r.type === "docker:index/container:Container" && r.inputs.name === name)!;
      await live.apply(
        { type: declared.type, name: declared.name, inputs: declared.inputs, provider: `provider::${host}/docker-provider`, custom: true } as never,
        [],
      );
    }
    assertMatrix(pingMatrix("repaired", [...SAME_VLAN, ...CROSS_VLAN(true)]));
    const result = runDoctor({ stackFile: DEV_STACK }, shellFor, () => undefined);
    assert.equal(result.exitCode, 0, result.report);
  });

  test("host1 reaches its own container bbox10 through a host shim on VLAN 10, and not without it", () => {
    const target = live.done.find((r) => r.name === "host1/vlan10/link/ens33.10")!.command!.target;
    assert.notEqual(sshRun(target, "ping -c 1 -W 2 172.18.0.2").status, 0, "macvlan: no way from the parent to its child");
    const shim = renderHostShim({ device: "mvo-shim10", parent: "ens33.10", address: "172.18.0.250", containerIps: ["172.18.0.2"] });
    const made = sshRun(target, shim.create);
    assert.equal(made.status, 0, made.stdout + made.stderr);
    const ping = sshRun(target, "ping -c 2 -W 2 172.18.0.2");
    assert.equal(ping.status, 0, ping.stdout + ping.stderr);
    console.log(`host1 -> bbox10 through mvo-shim10:\n${ping.stdout}`);
  });

  test("state forgotten, --cleanup --yes removes what the program made: each host equals its pre-deploy snapshot", async () => {
    // Forget the state: nothing of what was applied is used from here on (the shim is left too).
    live.done.length = 0;
    const log: string[] = [];
    const result = await runCleanup({ stackFile: DEV_STACK, cleanup: true, yes: true }, shellFor, (line) => log.push(line), async () => {
      throw new Error("--yes never asks");
    });
    console.log(log.join("\n"));
    assert.equal(result.exitCode, 0, `${result.report}\n${log.join("\n")}`);
    assert.ok(log.some((line) => line.includes("host shim mvo-shim10: removed")), log.join("\n"));
    const now = snapshotAll();
    for (const host of Object.keys(HOSTS) as HostName[]) {
      assert.equal(now[host], before_[host], `${host} differs from its pre-deploy snapshot`);
    }
    const again = await runCleanup({ stackFile: DEV_STACK, cleanup: true, yes: true }, shellFor, () => undefined, async () => false);
    assert.match(again.report, /cleanup: nothing to remove$/);
  });
});
