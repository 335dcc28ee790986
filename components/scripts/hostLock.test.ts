// The host lock: a host's scripts take turns on HOST_LOCK_FILE, a script waits while another holds it,
// gives up after HOST_LOCK_WAIT_SECONDS saying why, and leaves nothing in /run.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { type HostSandbox, sandboxUnavailableReason, trunkWithVethVlans, withHostSandbox } from "../../testing/hostSandbox";
import { host1Vlan10 } from "../../testing/seed";
import { renderPromiscuousMode } from "./promiscuousMode";
import { HOST_LOCK_FILE, HOST_LOCK_WAIT_SECONDS, type HostScript } from "./shell";
import { renderVlanSubinterface } from "./vlanSubinterface";

const skip = sandboxUnavailableReason();
const promisc = renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts", boot: true });
const RELEASE = "/run/ovltest-release";

test("every create and delete takes the host lock", () => {
  const scripts: HostScript[] = [promisc, renderVlanSubinterface({ subinterface: host1Vlan10, persistence: "network-scripts", boot: true })];
  for (const text of scripts.flatMap((script) => [script.create, script.delete])) {
    assert.ok(text.includes(`\nHOST_LOCK='${HOST_LOCK_FILE}'\n`), text.split("\n")[1]);
    assert.ok(text.includes(`\nHOST_LOCK_WAIT='${HOST_LOCK_WAIT_SECONDS}'\n`), text.split("\n")[1]);
    assert.match(text, /^lock_host$/m, text.split("\n")[1]);
  }
  assert.equal(HOST_LOCK_FILE, "/run/macvlan-overlay.lock");
});

/** Another holder of the host lock (flock(1), as a script of ours would hold it) until RELEASE appears. */
async function holdLock(box: HostSandbox): Promise<() => Promise<void>> {
  const holder = box.runAsync(`exec flock ${HOST_LOCK_FILE} sh -c 'while [ ! -e ${RELEASE} ]; do sleep 0.02; done'`);
  while (box.run(`flock -n ${HOST_LOCK_FILE} true`).status === 0) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return async () => {
    box.exec(`touch ${RELEASE}`);
    assert.equal((await holder).status, 0);
    box.exec(`rm ${RELEASE}`);
  };
}

/** True once some process waits, blocked, for a lock on the host lock file (a `->` line of /proc/locks). */
function someoneWaits(box: HostSandbox): boolean {
  const inode = box.exec(`stat -c %i ${HOST_LOCK_FILE}`).trim();
  return fs.readFileSync("/proc/locks", "utf8").split("\n").some((line) => line.includes("->") && line.includes(`:${inode} `));
}

test("a create waits while another script of the host holds the lock, then runs; the lock file goes with it", { skip }, () =>
  withHostSandbox({}, async (box) => {
    trunkWithVethVlans(box, []);
    const before = box.snapshot();
    const release = await holdLock(box);
    const create = box.runAsync(promisc.create);
    while (!someoneWaits(box)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.doesNotMatch(box.exec("ip -o link show dev ens33"), /PROMISC/, "nothing changes while the create waits");
    await release();
    const result = await create;
    assert.equal(result.status, 0, result.stderr);
    assert.match(box.exec("ip -o link show dev ens33"), /PROMISC/);
    assert.equal(box.run(`test -e ${HOST_LOCK_FILE}`).status, 1, "the create removed the lock file as it let go");
    const removed = box.run(promisc.delete);
    assert.equal(removed.status, 0, removed.stderr);
    assert.equal(box.snapshot(), before);
  }),
);

test("a script that does not get the lock in time fails, says why, and changes nothing", { skip }, () =>
  withHostSandbox({}, async (box) => {
    trunkWithVethVlans(box, []);
    const before = box.snapshot();
    const release = await holdLock(box);
    const waitOne = (text: string) => {
      const shorter = text.replace(`\nHOST_LOCK_WAIT='${HOST_LOCK_WAIT_SECONDS}'\n`, "\nHOST_LOCK_WAIT='1'\n");
      assert.notEqual(shorter, text, "the header sets HOST_LOCK_WAIT");
      return shorter;
    };
    for (const text of [promisc.create, promisc.delete]) {
      const result = box.run(waitOne(text));
      assert.equal(result.stderr, `error: waited 1 s for ${HOST_LOCK_FILE}: another macvlan-overlay script on this host still holds it (fuser -v ${HOST_LOCK_FILE} names it); nothing was changed\n`);
      assert.equal(result.status, 1);
      assert.equal(result.stdout, "");
    }
    await release();
    box.exec(`rm ${HOST_LOCK_FILE}`);
    assert.equal(box.snapshot(), before);
  }),
);
