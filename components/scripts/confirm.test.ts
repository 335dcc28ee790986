// Commit confirmed on one host, for real in a sandbox host (network and mount namespaces of its own):
// an update arms a revert before it changes anything, the host's Confirm disarms it, and an
// unconfirmed update is undone by the host itself at its deadline, newest change first.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type HostSandbox, sandboxUnavailableReason, trunkWithVethVlans, withHostSandbox } from "../../testing/hostSandbox";
import { host1Vlan10 } from "../../testing/seed";
import { armedFingerprint, renderConfirm, REVERT_DIR, REVERTED_RECORD } from "./confirm";
import { renderHostShim } from "./hostShim";
import { renderNatRouter } from "./natRouter";
import { renderPromiscuousMode } from "./promiscuousMode";
import { renderVlanSubinterface, vlanBootFragment } from "./vlanSubinterface";
import { BOOT_RUNNER_PATH, renderBootUnit } from "./bootUnit";
import type { Subinterface } from "../../topology/types";

const skip = sandboxUnavailableReason();
/** Short enough for a test, long enough for two updates to arm before it passes. */
const WITHIN = 3;

function run(box: HostSandbox, text: string): string {
  const result = box.run(text);
  assert.equal(result.status, 0, `exit ${result.status}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

function fingerprintOf(create: string): string {
  const fingerprint = armedFingerprint(create);
  assert.ok(fingerprint !== undefined, "the create can arm");
  return fingerprint;
}

/** The host as the tests compare it, without the record of a revert (asserted on its own). */
function state(box: HostSandbox): string {
  return box
    .snapshot()
    .replace(/^f 644 reverted \n/m, "")
    .replace(/^--- \/var\/lib\/macvlan-overlay\/reverted\n.*\n--- end\n/m, "");
}

/** Waits until the host's timer has run (the revert folder is gone), at most `seconds`. */
async function revertDone(box: HostSandbox, seconds: number): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (box.run(`test -d ${REVERT_DIR}`).status === 0) {
    assert.ok(Date.now() < until, `the host did not revert within ${seconds} s:\n${box.run(`ls -la ${REVERT_DIR}`).stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The process runs (a zombie, ended but not yet reaped by the sandbox's holder, does not). */
function running(box: HostSandbox, pid: string): boolean {
  return box.run(`grep -Eq '^State:[[:space:]]+[^Z[:space:]]' /proc/${pid}/status 2>/dev/null`).status === 0;
}

function timerRunning(box: HostSandbox): boolean {
  return running(box, box.exec(`cat ${REVERT_DIR}/timer.pid`).trim());
}

const moved = (cidr: string): Subinterface => ({
  ...host1Vlan10,
  address: { cidr, address: cidr.split("/")[0], prefix: 24, network: "192.168.22.0" },
});
const vlan = (cidr: string, confirmWithinSeconds = WITHIN) => renderVlanSubinterface({ subinterface: moved(cidr), persistence: "network-scripts", confirmWithinSeconds });
const SHIM = { device: "mvo-shim10", parent: "ens33.10", address: "172.18.0.250", containerIps: ["172.18.0.2"] };

interface Kind {
  readonly name: string;
  /** Makes the host's devices, before the first create. */
  readonly setUp: (box: HostSandbox) => void;
  readonly first: { create: string };
  readonly update: { create: string };
  /** What the update did that the test sees (asserted after it, and gone after the revert). */
  readonly updated: (box: HostSandbox) => boolean;
}

const KINDS: readonly Kind[] = [
  {
    name: "promiscuous mode",
    setUp: (box) => trunkWithVethVlans(box, []),
    first: renderPromiscuousMode({ trunkInterface: "ens33", persistence: "none", confirmWithinSeconds: WITHIN }),
    // Drift (promisc turned off by hand) and a new version: the update turns it on again.
    update: renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts", confirmWithinSeconds: WITHIN }),
    updated: (box) => /[<,]PROMISC[,>]/.test(box.exec("ip -o link show dev ens33")),
  },
  {
    name: "VLAN link",
    setUp: (box) => trunkWithVethVlans(box, ["ens33.10"]),
    first: vlan("192.168.22.10/24"),
    update: vlan("192.168.22.12/24"),
    updated: (box) => box.exec("ip -o -4 addr show dev ens33.10").includes(" 192.168.22.12/24 "),
  },
  {
    name: "host shim",
    setUp: (box) => trunkWithVethVlans(box, ["ens33.10"]),
    first: renderHostShim({ ...SHIM, confirmWithinSeconds: WITHIN }),
    update: renderHostShim({ ...SHIM, containerIps: ["172.18.0.2", "172.18.0.3"], confirmWithinSeconds: WITHIN }),
    updated: (box) => box.exec("ip -4 route show dev mvo-shim10").includes("172.18.0.3 "),
  },
  {
    name: "router rules",
    setUp: (box) => {
      trunkWithVethVlans(box, ["ens33.10", "ens33.20"]);
    },
    first: renderNatRouter({ interfaces: ["ens33.10", "ens33.20"], masquerade: false, confirmWithinSeconds: WITHIN }),
    update: renderNatRouter({ interfaces: ["ens33.10", "ens33.20"], masquerade: true, confirmWithinSeconds: WITHIN }),
    updated: (box) => box.exec("iptables -w -t nat -S POSTROUTING").includes("MASQUERADE"),
  },
];

test("a first create and a second run of the same version arm nothing; only a changed version arms", { skip }, () =>
  withHostSandbox({}, (box) => {
    trunkWithVethVlans(box, ["ens33.10"]);
    const first = vlan("192.168.22.10/24");
    assert.doesNotMatch(run(box, first.create), /armed/);
    assert.doesNotMatch(run(box, first.create), /armed/);
    assert.equal(box.run(`test -e ${REVERT_DIR}`).status, 1, "nothing armed");
    assert.equal(box.exec("cat /var/lib/macvlan-overlay/applied-vlan-ens33.10"), `${fingerprintOf(first.create)}\n`);
    const out = run(box, vlan("192.168.22.12/24").create);
    assert.match(out, /^armed: this host reverts this update at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ unless pulumi up confirms it$/m);
    run(box, renderConfirm({ fingerprints: [fingerprintOf(vlan("192.168.22.12/24").create)], reapply: 0 }));
  }),
);

test("with confirmWithinSeconds 0 an update arms nothing: its create holds no revert machinery, its delete still drops what an earlier version armed", () => {
  const off = vlan("192.168.22.12/24", 0);
  assert.equal(armedFingerprint(off.create), undefined);
  assert.ok(!off.create.includes("revert"));
  assert.match(off.delete, /^rm -f "\$STATE_DIR\/applied-\$REVERT_ID" "\$REVERT_DIR"\/\*-"\$REVERT_ID"\.\*\.revert$/m);
  assert.equal(off.delete, vlan("192.168.22.12/24").delete);
});

test("an update its preflight refuses changes nothing and arms nothing: no timer, no deadline, the host byte for byte as before", { skip }, () =>
  withHostSandbox({}, (box) => {
    trunkWithVethVlans(box, ["ens33.10"]);
    run(box, vlan("192.168.22.10/24").create);
    const before = box.snapshot();
    // The update's preflight: the ifcfg file it would write is someone else's.
    box.exec("printf 'DEVICE=ens33.10\\n' >/etc/sysconfig/network-scripts/ifcfg-ens33.10");
    const withForeignFile = box.snapshot();
    const result = box.run(vlan("192.168.22.12/24").create);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /ifcfg-ens33\.10 exists and is not managed by macvlan-overlay/);
    assert.doesNotMatch(result.stdout, /armed/);
    assert.equal(box.run(`test -e ${REVERT_DIR}`).status, 1, "nothing armed");
    assert.equal(box.snapshot(), withForeignFile);
    assert.notEqual(before, withForeignFile);
  }),
);

for (const kind of KINDS) {
  test(`${kind.name}: an unconfirmed update reverts at its deadline to the state before it, by a detached timer`, { skip }, () =>
    withHostSandbox({}, async (box) => {
      kind.setUp(box);
      run(box, kind.first.create);
      if (kind.name === "promiscuous mode") box.exec("ip link set dev ens33 promisc off");
      const before = state(box);
      const started = Date.now();
      assert.match(run(box, kind.update.create), /^armed: /m);
      assert.ok(kind.updated(box), "the update took effect");
      assert.ok(timerRunning(box), "the timer runs on after the update's session ended");
      const files = box.exec(`ls ${REVERT_DIR}`).trim().split("\n");
      assert.deepEqual(files.filter((name) => name.endsWith(".revert")).map((name) => name.replace(/^\d+-/, "")), [
        `${/^REVERT_ID='(.*)'$/m.exec(kind.update.create)![1]}.${fingerprintOf(kind.update.create)}.revert`,
      ]);
      await revertDone(box, WITHIN + 10);
      assert.ok(Date.now() - started >= (WITHIN - 1) * 1000, "not before its deadline");
      assert.equal(kind.updated(box), false);
      assert.equal(state(box), before, "every link, address, rule and file of ours is back");
      assert.match(box.exec(`cat ${REVERTED_RECORD}`), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ reverted: [a-z0-9.-]+\.[0-9a-f]{16}\n$/);
    }),
  );

  test(`${kind.name}: the host's Confirm disarms the update; nothing reverts after the deadline`, { skip }, () =>
    withHostSandbox({}, async (box) => {
      kind.setUp(box);
      run(box, kind.first.create);
      if (kind.name === "promiscuous mode") box.exec("ip link set dev ens33 promisc off");
      run(box, kind.update.create);
      const pid = box.exec(`cat ${REVERT_DIR}/timer.pid`).trim();
      assert.equal(
        run(box, renderConfirm({ fingerprints: [fingerprintOf(kind.update.create)], reapply: 4 })),
        "confirmed: 1 armed change(s) disarmed, 0 still armed\n",
      );
      assert.equal(box.run(`test -e ${REVERT_DIR}`).status, 1, "the revert folder is gone");
      assert.equal(running(box, pid), false, "the timer is stopped");
      const confirmed = state(box);
      await new Promise((resolve) => setTimeout(resolve, (WITHIN + 1) * 1000));
      assert.ok(kind.updated(box));
      assert.equal(state(box), confirmed, "nothing changed after the deadline");
    }),
  );
}

test("two updates on one host revert newest first: an address moved twice comes back to the first, and the record lists them in that order", { skip }, () =>
  withHostSandbox({}, async (box) => {
    trunkWithVethVlans(box, ["ens33.10"]);
    run(box, vlan("192.168.22.10/24").create);
    run(box, renderPromiscuousMode({ trunkInterface: "ens33", persistence: "none", confirmWithinSeconds: WITHIN }).create);
    box.exec("ip link set dev ens33 promisc off");
    const before = state(box);
    assert.match(run(box, vlan("192.168.22.12/24").create), /^armed: /m);
    // The second arming change keeps the first one's deadline.
    const deadline = box.exec(`cat ${REVERT_DIR}/deadline`);
    assert.doesNotMatch(run(box, renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts", confirmWithinSeconds: WITHIN }).create), /armed/);
    assert.doesNotMatch(run(box, vlan("192.168.22.14/24").create), /armed/);
    assert.equal(box.exec(`cat ${REVERT_DIR}/deadline`), deadline);
    assert.equal(box.exec(`ls ${REVERT_DIR} | grep -c 'revert$'`), "3\n");
    await revertDone(box, WITHIN + 10);
    assert.equal(state(box), before, "the address is 192.168.22.10 again, promisc off");
    const reverted = /reverted: (.*)$/m.exec(box.exec(`cat ${REVERTED_RECORD}`))![1].split(" ").map((name) => name.replace(/\.[0-9a-f]{16}$/, ""));
    assert.deepEqual(reverted, ["vlan-ens33.10", "promisc-ens33", "vlan-ens33.10"]);
  }),
);

test("a Confirm on a host that already reverted fails, saying when and which reapply to set", { skip }, () =>
  withHostSandbox({}, async (box) => {
    trunkWithVethVlans(box, ["ens33.10"]);
    run(box, vlan("192.168.22.10/24").create);
    run(box, vlan("192.168.22.12/24").create);
    await revertDone(box, WITHIN + 10);
    const confirm = box.run(renderConfirm({ fingerprints: [fingerprintOf(vlan("192.168.22.12/24").create)], reapply: 4 }));
    assert.equal(confirm.status, 1);
    assert.match(
      confirm.stderr,
      /^error: this host did not confirm in time and reverted: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ reverted: vlan-ens33\.10\.[0-9a-f]{16}\. The stack's state holds the new inputs: after fixing the cause, run pulumi config set reapply 5, then pulumi up\n$/,
    );
    // The repair: the same version run again (reapply) arms afresh, and its Confirm passes.
    assert.match(run(box, vlan("192.168.22.12/24").create), /^armed: /m);
    assert.equal(box.run(`test -e ${REVERTED_RECORD}`).status, 1, "arming again clears the record of the revert");
    run(box, renderConfirm({ fingerprints: [fingerprintOf(vlan("192.168.22.12/24").create)], reapply: 5 }));
    assert.ok(box.exec("ip -o -4 addr show dev ens33.10").includes(" 192.168.22.12/24 "));
  }),
);

test("a delete after an armed update takes its revert and applied record with it", { skip }, () =>
  withHostSandbox({}, async (box) => {
    trunkWithVethVlans(box, ["ens33.10"]);
    const before = box.snapshot();
    run(box, vlan("192.168.22.10/24").create);
    const updated = vlan("192.168.22.12/24");
    run(box, updated.create);
    run(box, updated.delete);
    assert.equal(box.exec(`ls ${REVERT_DIR} | grep -c 'revert$' || :`), "0\n");
    await revertDone(box, WITHIN + 10);
    assert.equal(box.snapshot(), before, "destroy leaves the host as it was once the idle timer ends");
  }),
);

/** What a reboot does to an armed host: the timer process is gone (and /run is empty again). */
function rebootLosesTheTimer(box: HostSandbox): void {
  box.exec(`kill -s TERM -- "-$(cat ${REVERT_DIR}/timer.pid)"`);
  assert.equal(timerRunning(box), false);
}

const bootVlan = (cidr: string) => renderVlanSubinterface({ subinterface: moved(cidr), persistence: "network-scripts", boot: true, confirmWithinSeconds: WITHIN });
const BOOT_DIRS = { extraDirs: ["/etc/systemd/system", "/etc/macvlan-overlay"] };

/** A host with the boot unit whose VLAN link's address moved from .10 to .12, armed; returns the state before the update. */
function armedWithTheBootUnit(box: HostSandbox): string {
  trunkWithVethVlans(box, ["ens33.10"]);
  run(box, renderBootUnit({ trunkInterfaces: ["ens33"] }).create);
  run(box, bootVlan("192.168.22.10/24").create);
  const before = state(box);
  run(box, bootVlan("192.168.22.12/24").create);
  return before;
}

test("a reboot before the deadline: the boot runner arms the time left, and the host still reverts at the deadline", { skip }, () =>
  withHostSandbox(BOOT_DIRS, async (box) => {
    const before = armedWithTheBootUnit(box);
    const started = Date.now();
    const deadline = box.exec(`cat ${REVERT_DIR}/deadline`);
    rebootLosesTheTimer(box);
    run(box, `sh ${BOOT_RUNNER_PATH}`);
    assert.ok(timerRunning(box), "armed again");
    assert.equal(box.exec(`cat ${REVERT_DIR}/deadline`), deadline, "for the time left, not afresh");
    assert.ok(box.exec("ip -o -4 addr show dev ens33.10").includes(" 192.168.22.12/24 "), "the fragments ran after");
    await revertDone(box, WITHIN + 10);
    assert.ok(Date.now() - started < (WITHIN + 5) * 1000, "at the first deadline");
    assert.equal(state(box), before);
  }),
);

test("a reboot after the deadline: the boot runner reverts at once, before the fragments, which then bring back the earlier version", { skip }, () =>
  withHostSandbox(BOOT_DIRS, async (box) => {
    const before = armedWithTheBootUnit(box);
    rebootLosesTheTimer(box);
    await new Promise((resolve) => setTimeout(resolve, (WITHIN + 1) * 1000));
    assert.ok(box.exec("ip -o -4 addr show dev ens33.10").includes(" 192.168.22.12/24 "), "nothing reverted while the host was down");
    run(box, `sh ${BOOT_RUNNER_PATH}`);
    assert.equal(box.run(`test -e ${REVERT_DIR}`).status, 1, "reverted by the time the runner ends");
    assert.equal(box.exec(`cat ${vlanBootFragment({ subinterface: moved("192.168.22.10/24"), persistence: "network-scripts", boot: true, confirmWithinSeconds: WITHIN }).path}`),
      vlanBootFragment({ subinterface: moved("192.168.22.10/24"), persistence: "network-scripts", boot: true, confirmWithinSeconds: WITHIN }).content);
    assert.equal(state(box), before);
  }),
);

test("where systemd runs, the timer is a transient systemd timer (systemd-run --on-active), and the Confirm stops it", { skip }, () =>
  withHostSandbox({ extraDirs: ["/usr/local/sbin"] }, (box) => {
    // Stand-ins that record how they were called: this machine runs no systemd to hand the timer to.
    box.exec("mkdir -p /run/systemd/system");
    box.writeFile("/usr/local/sbin/systemd-run", "#!/bin/sh\nprintf '%s\\n' \"$*\" >>/run/systemd-run.calls\n", "755");
    box.writeFile("/usr/local/sbin/systemctl", "#!/bin/sh\nprintf '%s\\n' \"$*\" >>/run/systemctl.calls\n", "755");
    trunkWithVethVlans(box, ["ens33.10"]);
    run(box, vlan("192.168.22.10/24").create);
    run(box, vlan("192.168.22.12/24").create);
    const deadline = box.exec(`cat ${REVERT_DIR}/deadline`).trim();
    assert.equal(box.exec("cat /run/systemd-run.calls"), `--quiet --unit=macvlan-overlay-revert-${deadline} --on-active=${WITHIN} /bin/sh ${REVERT_DIR}/timer\n`);
    assert.equal(box.run(`test -e ${REVERT_DIR}/timer.pid`).status, 1, "no detached process of its own");
    run(box, renderConfirm({ fingerprints: [fingerprintOf(vlan("192.168.22.12/24").create)], reapply: 0 }));
    assert.equal(box.exec("cat /run/systemctl.calls"), `stop macvlan-overlay-revert-${deadline}.timer\n`);
    assert.equal(box.run(`test -e ${REVERT_DIR}`).status, 1);
  }),
);

test("after a revert, pulumi up running a resource's create at the version the host holds takes it off the record of the revert, and the record goes once nothing is left on it", { skip }, () =>
  withHostSandbox({}, async (box) => {
    trunkWithVethVlans(box, ["ens33.10"]);
    run(box, vlan("192.168.22.10/24").create);
    run(box, renderPromiscuousMode({ trunkInterface: "ens33", persistence: "none", confirmWithinSeconds: WITHIN }).create);
    box.exec("ip link set dev ens33 promisc off");
    run(box, vlan("192.168.22.12/24").create);
    run(box, renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts", confirmWithinSeconds: WITHIN }).create);
    await revertDone(box, WITHIN + 10);
    assert.match(box.exec(`cat ${REVERTED_RECORD}`), / reverted: promisc-ens33\.[0-9a-f]{16} vlan-ens33\.10\.[0-9a-f]{16}\n$/);
    // The stack goes back to the link's version the host holds: its create runs, arms nothing, and the link is off the record.
    assert.doesNotMatch(run(box, vlan("192.168.22.10/24").create), /armed/);
    assert.match(box.exec(`cat ${REVERTED_RECORD}`), / reverted: promisc-ens33\.[0-9a-f]{16}\n$/);
    run(box, renderPromiscuousMode({ trunkInterface: "ens33", persistence: "none", confirmWithinSeconds: WITHIN }).create);
    assert.equal(box.run(`test -e ${REVERTED_RECORD}`).status, 1, "nothing left reverted: the record is gone");
  }),
);
