// Test code: the doctor on the deployed lab — a clean report, drift made by hand named item by item,
// the repair it prints (refresh, a new reapply number, --replace of a container whose link was made
// again) done as `pulumi` would, and, with the state forgotten, the hosts cleaned up by their marks
// alone. Each function is one e2e test's body (e2e/overlay.e2e.test.ts runs them).
import assert from "node:assert/strict";
import { VLAN20_IPVLAN } from "../testing/stackEdits";
import { runCleanup, runDoctor, sshShell } from "../tools/doctor";
import type { Topology } from "../topology";
import { assertDeployedOverlay, stackVariant, summarize } from "./dayTwo";
import { PROJECT_ROOT, sshRun } from "./labAccess";
import {
  assertMatrix, CROSS_VLAN, DEV_STACK, HOSTS, onHost, pingMatrix, SAME_VLAN, snapshotAll, target, type HostName,
} from "./labFixture";
import type { LabStack } from "./liveStack";

const shellFor = (topology: Topology) => sshShell(topology, PROJECT_ROOT);
const ALL_HOSTS = Object.keys(HOSTS) as HostName[];

/** The stack edit `pulumi config set reapply 1` makes. */
export const REAPPLY_1: [string, string][] = [["config:\n", "config:\n  macvlan-overlay:reapply: 1\n"]];
/** host1 reaches its own VLAN 10 containers through a shim (an unused address of 172.18.0.0/24). */
export const HOST1_SHIM: [string, string][] = [["      role: docker\n", "      role: docker\n      hostShim: { \"10\": 172.18.0.250 }\n"]];

/** The rows of one host's table that differ, as "item: found". */
function differing(report: string, host: HostName): string[] {
  const section = report.split("\n\n").find((part) => part.startsWith(`## ${host} `)) ?? "";
  return section
    .split("\n")
    .filter((line) => line.endsWith("DIFFERS"))
    .map((line) => line.split(/ {2,}/))
    .map((cells) => `${cells[0]}: ${cells[cells.length - 2]}`);
}

export function doctorFindsNoDrift(): void {
  const log: string[] = [];
  const result = runDoctor({ stackFile: DEV_STACK }, shellFor, (line) => log.push(line));
  console.log(result.report);
  assert.equal(result.exitCode, 0, result.report);
  assert.deepEqual(log.filter((line) => / items, 0 differ$/.test(line)).length, ALL_HOSTS.length, log.join("\n"));
}

/** A VLAN link, a router rule and a container removed by hand: each named, exit 1, the repair printed. */
export function doctorNamesHandMadeDrift(): void {
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
  assert.match(result.report, /pulumi refresh -s dev --yes {4}# the engine forgets what is gone: bbox20/);
  assert.match(result.report, /pulumi config set reapply 1 -s dev && pulumi up -s dev/);
  assert.match(result.report, /pulumi up -s dev --replace <urn>/);
}

/**
 * The repair as printed: refresh (bbox20 forgotten), then `reapply: 1` with bbox30 (on the re-made
 * link) replaced: every host command updates in place, bbox20 is created, bbox30 replaced, and the
 * matrix and the doctor are clean again.
 */
export function doctorRepairBringsItBack(live: LabStack): void {
  assert.deepEqual(live.refresh(), ["host1/container/bbox20/container"]);
  const summary = summarize(live.up(stackVariant(REAPPLY_1), { replace: ["host2/container/bbox30/container"] }));
  console.log(`repair:\n  ${summary.join("\n  ")}`);
  const onHosts = summary.filter((line) => !/check[-/]ping/.test(line)).map((line) => line.replace(/ \(.*\)$/, ""));
  // Every host command but the read-only ones (the checks, the Docker Engine check).
  const commands = live.commands().map((entry) => entry.resource.name).filter((name) => !/check[-/]ping|docker-engine/.test(name));
  assert.deepEqual(
    onHosts.filter((line) => line.startsWith("update ")).map((line) => line.split(" ")[1]).sort(),
    commands.sort(),
    "every host command updated in place",
  );
  // bbox20's create and bbox30's replacement run side by side (steps start in the order they are ready);
  // bbox30's own chain deletes the old container before it creates the new one.
  const others = onHosts.filter((line) => !line.startsWith("update "));
  assert.deepEqual([...others].sort(), [
    "create host1/container/bbox20/container",
    "replace(create) host2/container/bbox30/container",
    "replace(delete) host2/container/bbox30/container",
  ]);
  assert.ok(others.indexOf("replace(delete) host2/container/bbox30/container") < others.indexOf("replace(create) host2/container/bbox30/container"), others.join("\n"));
  assertMatrix(pingMatrix("repaired", [...SAME_VLAN, ...CROSS_VLAN(true)]));
  const result = runDoctor({ stackFile: DEV_STACK }, shellFor, () => undefined);
  assert.equal(result.exitCode, 0, result.report);
}

/**
 * From a fresh deploy with a host shim and VLAN 20 on ipvlan: the same ping matrix as on macvlan,
 * VLAN 20's containers with their parent's MAC, and host1 reaching its own container through the
 * shim; then the state is forgotten and `--cleanup --yes` removes what the program made by its marks
 * alone, leaving each host equal to its pre-deploy snapshot; a second cleanup finds nothing.
 */
export async function cleanupWithoutState(live: LabStack, before: Record<HostName, string>): Promise<void> {
  live.up(stackVariant([...HOST1_SHIM, ...VLAN20_IPVLAN]));
  for (const host of ["host1", "host2"] as const) {
    assert.equal(
      onHost(host, "docker network inspect -f '{{.Driver}} {{.Options}}' mac-net10 mac-net20").trim(),
      "macvlan map[macvlan_mode:bridge parent:ens33.10]\nipvlan map[ipvlan_mode:l2 parent:ens33.20]",
      `${host}: VLAN 10 on macvlan, VLAN 20 on ipvlan`,
    );
  }
  assertDeployedOverlay(live, "host1's shim on VLAN 10, VLAN 20 on ipvlan");
  assertMatrix(pingMatrix("VLAN 20 on ipvlan", [...SAME_VLAN, ...CROSS_VLAN(true)]));
  const reach = onHost("host1", "ip route get 172.18.0.2; ping -c 2 -W 2 172.18.0.2 >/dev/null && echo reached");
  console.log(`host1 -> bbox10 through its shim:\n${reach}`);
  assert.match(reach, /^172\.18\.0\.2 dev mvo-shim10 /m, "host1: the route to its container goes through the shim");
  assert.match(reach, /^reached$/m);
  // The state forgotten: nothing of what was applied is used from here on.
  live.state = [];
  const log: string[] = [];
  const result = await runCleanup({ stackFile: DEV_STACK, cleanup: true, yes: true }, shellFor, (line) => log.push(line), async () => {
    throw new Error("--yes never asks");
  });
  console.log(log.join("\n"));
  assert.equal(result.exitCode, 0, `${result.report}\n${log.join("\n")}`);
  assert.ok(log.some((line) => /host shim mvo-shim10: removed, as its records say: done/.test(line)), log.join("\n"));
  assert.ok(log.some((line) => /boot unit: disabled, its runner and unit file removed: done/.test(line)), log.join("\n"));
  const now = snapshotAll();
  for (const host of ALL_HOSTS) {
    assert.equal(now[host], before[host], `${host} differs from its pre-deploy snapshot`);
  }
  const again = await runCleanup({ stackFile: DEV_STACK, cleanup: true, yes: true }, shellFor, () => undefined, async () => false);
  assert.match(again.report, /cleanup: nothing to remove$/);
  assert.equal(sshRun(target("host1"), "ip link show dev mvo-shim10").status, 1, "host1's shim is gone");
}
