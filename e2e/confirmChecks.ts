// Test code: commit confirmed on the lab (components/scripts/confirm.ts, components/hostConfirm.ts),
// with a deadline of 60 s. An update whose check fails (a fault put in through the updated router
// script's own journal) is undone by every host at its deadline, hosts that were fine too; the
// repair (a new reapply number) applies and is confirmed. An update after which one host refuses new
// SSH connections: that host's Confirm fails, it reverts, the others stay confirmed.
import assert from "node:assert/strict";
import { REVERT_DIR, REVERTED_RECORD } from "../components/scripts/confirm";
import { assertDeployedOverlay, stackVariant } from "./dayTwo";

type Edit = Parameters<typeof stackVariant>[0][number];
import { sshRun } from "./labAccess";
import { assertMatrix, CROSS_VLAN, DEV_STACK, HOSTS, onHost, pingMatrix, SAME_VLAN, snapshotAll, target, type HostName } from "./labFixture";
import type { LabStack } from "./liveStack";

/** The lab's deadline: short, so a case waits about a minute. */
export const LAB_CONFIRM_SECONDS = 60;
/** A deadline as a config edit: a new one changes every arming command's text, so each update arms. */
const within = (seconds: number): Edit => [
  "macvlan-overlay:router: { masquerade: true }",
  `macvlan-overlay:router: { masquerade: true }\n  macvlan-overlay:confirmWithinSeconds: ${seconds}`,
];
const WITHIN = within(LAB_CONFIRM_SECONDS);
const reapply = (n: number): Edit => ["macvlan-overlay:router: { masquerade: true }", `macvlan-overlay:router: { masquerade: true }\n  macvlan-overlay:reapply: ${n}`];
/** Where a fault goes in a converge: just before it files its journal as its revert script. */
const FILE_REVERT = "\nfile_revert\ncommit\n";
const HOST_NAMES = Object.keys(HOSTS) as HostName[];

function sleepSeconds(seconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}

/** A host's snapshot without the record of a revert (asserted on its own). */
function withoutRevertRecord(snapshot: string): string {
  return snapshot.replace(new RegExp(`^${REVERTED_RECORD}\\n.*reverted:.*\\n`, "m"), "");
}

/** The revert scripts armed on a host, by resource (`vlan-ens33.10`), sorted. */
function armed(host: HostName): string[] {
  const names = onHost(host, `ls ${REVERT_DIR} 2>/dev/null || :`).split("\n").filter((name) => name.endsWith(".revert"));
  return names.map((name) => name.replace(/^\d+-/, "").replace(/\.[0-9a-f]{16}\.revert$/, "")).sort();
}

/**
 * Waits until none of `hosts` has a revert folder; returns the seconds since `since`. A host that
 * refuses the connection (its fault not yet reverted) counts as still armed.
 */
function waitForReverts(hosts: readonly HostName[], since: number, limitSeconds: number): number {
  for (;;) {
    const left = hosts.filter((host) => sshRun(target(host), `test -d ${REVERT_DIR} && echo armed || echo done`, 20_000).stdout.trim() !== "done");
    const elapsed = (Date.now() - since) / 1000;
    if (left.length === 0) return elapsed;
    assert.ok(elapsed < limitSeconds, `${left.join(", ")} still armed ${Math.round(elapsed)} s after the update began`);
    sleepSeconds(2);
  }
}

/** A confirmed host: no revert script armed, and no record that one ran (`when`: at which point). */
export function assertNothingArmedOrReverted(host: HostName, when: string): void {
  assert.equal(onHost(host, `ls -A ${REVERT_DIR} ${REVERTED_RECORD} 2>/dev/null || :`), "", `${host} ${when}: nothing armed, no revert record`);
}

const ARMING: Record<HostName, string[]> = {
  host1: ["promisc-ens33", "vlan-ens33.10", "vlan-ens33.20"],
  host2: ["promisc-ens33", "vlan-ens33.10", "vlan-ens33.20"],
  router: ["nat-router", "promisc-ens33", "vlan-ens33.10", "vlan-ens33.20"],
};

/**
 * The update sets confirmWithinSeconds to 60 (every arming command's text changes, so all ten arm);
 * the router's converge also adds a DROP at the top of FORWARD through its own journal (undo_push,
 * then the rule), as a wrong rule in a real update would. The check fails, no Confirm runs, and
 * every host is back at its pre-update snapshot within the deadline plus 30 s.
 */
export function updateWhoseCheckFailsReverts(live: LabStack): void {
  const before = snapshotAll();
  const fault = [
    "undo_push iptables -w -D FORWARD -m comment --comment e2e-fault -j DROP",
    "iptables -w -I FORWARD 1 -m comment --comment e2e-fault -j DROP",
  ].join("\n");
  const started = Date.now();
  assert.throws(
    () => live.up(stackVariant([WITHIN]), { faults: { "router/nat/rules": [FILE_REVERT, `\n${fault}${FILE_REVERT}`] } }),
    (error: Error) => {
      assert.match(error.message, /check\/ping/, "the connectivity check fails the update");
      assert.doesNotMatch(error.message, /\/confirm /, "no Confirm ran");
      return true;
    },
  );
  for (const host of HOST_NAMES) assert.deepEqual(armed(host), ARMING[host], `${host}: every arming change filed its revert`);
  assert.match(onHost("router", "iptables -w -S FORWARD"), /e2e-fault/, "the fault is in place until the deadline");
  const took = waitForReverts(HOST_NAMES, started, LAB_CONFIRM_SECONDS + 30);
  console.log(`every host reverted ${Math.round(took)} s after the update began (deadline ${LAB_CONFIRM_SECONDS} s)`);
  const after = snapshotAll();
  for (const host of HOST_NAMES) {
    assert.equal(withoutRevertRecord(after[host]), before[host], `${host} is back at its pre-update snapshot`);
    assert.match(onHost(host, `cat ${REVERTED_RECORD}`), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ reverted: /, `${host} records its revert`);
  }
  assertMatrix(pingMatrix("after the revert", [...SAME_VLAN, ...CROSS_VLAN(true)]));

  // The repair: the cause is gone (no fault) and a new reapply number runs the update again; it arms
  // afresh and every host's Confirm disarms it.
  const steps = live.up(stackVariant([WITHIN, reapply(1)]));
  assert.deepEqual(steps.filter((step) => step.name.endsWith("/confirm")).map((step) => step.name).sort(), ["host1/confirm", "host2/confirm", "router/confirm"]);
  for (const host of HOST_NAMES) assertNothingArmedOrReverted(host, "confirmed");
  assertDeployedOverlay(live, "after the repaired update");
}

/**
 * The update (back to the dev stack's config) adds, on host2 only and through its VLAN 10 link's
 * journal, a rule refusing new SSH connections: host2's Confirm, on a connection of its own, cannot
 * reach it; host2 reverts at its deadline (which takes the rule away), the others stay confirmed.
 */
export function hostUnreachableForItsConfirmReverts(live: LabStack): void {
  const before = snapshotAll();
  const fault = [
    // conntrack's own port match: the lab's kernel loads xt_conntrack, not the tcp match module.
    "undo_push iptables -w -D INPUT -m conntrack --ctstate NEW --ctproto tcp --ctorigdstport 22 -m comment --comment e2e-fault -j DROP",
    "iptables -w -I INPUT 1 -m conntrack --ctstate NEW --ctproto tcp --ctorigdstport 22 -m comment --comment e2e-fault -j DROP",
  ].join("\n");
  const started = Date.now();
  assert.throws(
    () => live.up(stackVariant([within(LAB_CONFIRM_SECONDS - 1)]), { faults: { "host2/vlan10/link/ens33.10": [FILE_REVERT, `\n${fault}${FILE_REVERT}`] } }),
    (error: Error) => {
      assert.match(error.message, /host2\/confirm/, "host2's Confirm fails");
      return true;
    },
  );
  // host1 and the router confirmed. host2 is not read until it lets new connections in again.
  for (const host of ["host1", "router"] as const) {
    assert.equal(onHost(host, `ls -A ${REVERT_DIR} 2>/dev/null || :`), "", `${host} confirmed`);
  }
  const took = waitForReverts(["host2"], started, LAB_CONFIRM_SECONDS + 30);
  console.log(`host2 reverted ${Math.round(took)} s after the update began; host1 and the router stayed confirmed`);
  const reverted = onHost("host2", `cat ${REVERTED_RECORD}`).replace(/\.[0-9a-f]{16}/g, "");
  assert.match(reverted, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ reverted: /);
  assert.deepEqual(reverted.trim().split(" reverted: ")[1].split(" ").sort(), ARMING.host2, "host2 reverted each of its armed changes");
  const after = snapshotAll();
  assert.equal(withoutRevertRecord(after.host2), before.host2, "host2 is back at its pre-update snapshot");
  assertMatrix(pingMatrix("after host2's revert", [...SAME_VLAN, ...CROSS_VLAN(true)]));

  // Back to the dev stack's config: host2 applies again and every host confirms.
  live.up(DEV_STACK);
  for (const host of HOST_NAMES) assertNothingArmedOrReverted(host, "confirmed");
  assertDeployedOverlay(live, "back to the dev stack");
}
