// The test sandbox itself: real effects must stay inside it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { GUARD, GUARD_STATUS, SANDBOX_DIRS, SANDBOX_OWN_DIRS, sandboxUnavailableReason, withHostSandbox } from "./hostSandbox";

const skip = sandboxUnavailableReason();

test("the guard refuses to run anything outside the namespaces it is given", () => {
  const canary = `/tmp/ovltest-guard-canary-${process.pid}`;
  const result = spawnSync("sh", ["-c", GUARD, "guard", "net:[1]", "mnt:[1]", "sh", "-c", `touch ${canary}`], { encoding: "utf8" });
  assert.equal(result.status, GUARD_STATUS);
  assert.match(result.stderr, /hostSandbox guard: not in the sandbox namespaces/);
  assert.equal(fs.existsSync(canary), false);
});

test("sandbox commands run in other namespaces, with files that never reach the machine", { skip }, () =>
  withHostSandbox({}, (box) => {
    assert.notEqual(box.namespaces.net, fs.readlinkSync("/proc/self/ns/net"));
    assert.notEqual(box.namespaces.mnt, fs.readlinkSync("/proc/self/ns/mnt"));
    assert.equal(box.exec("readlink /proc/self/ns/net /proc/self/ns/mnt"), `${box.namespaces.net}\n${box.namespaces.mnt}\n`);
    assert.equal(box.exec("ip -o link show | wc -l").trim(), "1", "only lo");
    assert.equal(box.exec("ip route show"), "", "no routes at all, so no default route");
    for (const dir of SANDBOX_DIRS) {
      const probe = `${dir}/ovltest-probe-${process.pid}`;
      box.writeFile(probe, "x");
      assert.equal(box.exec(`cat ${probe}`), "x");
      assert.equal(fs.existsSync(probe), false, `${probe} must not exist outside the sandbox`);
    }
    assert.equal(box.exec(`stat -f -c %T ${SANDBOX_DIRS.join(" ")}`), "tmpfs\n".repeat(SANDBOX_DIRS.length));
    for (const dir of SANDBOX_OWN_DIRS) {
      assert.equal(box.run(`test -e ${dir}`).status, 1, `${dir} starts absent`);
      const probe = `${dir}/ovltest-probe-${process.pid}`;
      box.writeFile(probe, "x");
      assert.equal(box.exec(`stat -f -c %T ${dir}`), "overlayfs\n", `${dir} lies in an overlay`);
      box.exec(`rm ${probe} && rmdir ${dir}`);
      assert.equal(fs.existsSync(probe), false, `${probe} must not exist outside the sandbox`);
    }
    assert.match(box.snapshot(), new RegExp(`## files under ${SANDBOX_OWN_DIRS[1]}\n\\(absent\\)\n`));
  }),
);
