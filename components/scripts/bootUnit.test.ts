// The boot unit on a host sandbox: installed and enabled as systemctl would, a second create changes
// nothing, delete restores the host exactly; the unit file passes systemd-analyze verify.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  BOOT_FRAGMENT_DIR,
  BOOT_RUNNER_PATH,
  BOOT_UNIT_PATH,
  BOOT_UNIT_WANTS_LINK,
  bootFragment,
  renderBootUnit,
  renderBootUnitFile,
  systemdEscape,
} from "./bootUnit";
import { shellQuote } from "./shell";
import { sandboxUnavailableReason, withHostSandbox } from "../../testing/hostSandbox";
import { shellcheck } from "../../testing/shellcheck";
import { firstMissingCommand, shellcheckUnavailableReason } from "../../testing/prerequisites";

const skip = sandboxUnavailableReason();
const SPEC = { trunkInterfaces: ["ens33"] };
const DIRS = ["/etc/systemd/system", "/etc/macvlan-overlay"];

test("device unit names escape what systemd escapes", () => {
  assert.equal(systemdEscape("ens33"), "ens33");
  assert.equal(systemdEscape("eth-1.10"), "eth\\x2d1.10");
  assert.equal(systemdEscape(".x"), "\\x2ex");
});

test("the unit runs after the trunk device and before docker.service", () => {
  const unit = renderBootUnitFile({ trunkInterfaces: ["ens33", "eth-1"] });
  assert.match(unit, /^Wants=network-pre\.target sys-subsystem-net-devices-ens33\.device sys-subsystem-net-devices-eth\\x2d1\.device$/m);
  assert.match(unit, /^After=network-pre\.target systemd-sysctl\.service sys-subsystem-net-devices-ens33\.device sys-subsystem-net-devices-eth\\x2d1\.device$/m);
  assert.match(unit, /^Before=docker\.service network-online\.target$/m);
  assert.match(unit, /^ExecStart=\/bin\/sh \/etc\/macvlan-overlay\/boot\.sh$/m);
  assert.match(unit, /^WantedBy=multi-user\.target$/m);
});

test("the boot unit scripts are shellcheck-clean", { skip: shellcheckUnavailableReason() }, () => {
  const script = renderBootUnit(SPEC);
  for (const text of [script.create, script.delete]) {
    assert.equal(shellcheck(text).output, "");
  }
});

// systemd-analyze comes with systemd, not with the lab's packages: where it is missing the check is skipped, also in CI.
const noAnalyze = firstMissingCommand(["systemd-analyze"]) === undefined ? undefined : "systemd-analyze is not installed";

test("systemd-analyze verify accepts the unit file", { skip: noAnalyze }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-unit-"));
  try {
    const file = path.join(dir, "macvlan-overlay.service");
    fs.writeFileSync(file, renderBootUnitFile(SPEC));
    const result = spawnSync("systemd-analyze", ["verify", "--man=no", file], { encoding: "utf8" });
    const complaints = `${result.stdout}${result.stderr}`.split("\n").filter((line) => line.includes("macvlan-overlay.service"));
    assert.deepEqual(complaints, []);
    assert.equal(result.status, 0, result.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const existing of [true, false]) {
  test(`install on a host ${existing ? "with" : "without"} a multi-user.target.wants folder: enabled, a second create changes nothing, delete restores the host`, { skip }, () =>
    withHostSandbox({ extraDirs: DIRS }, (box) => {
      if (existing) {
        box.exec("mkdir -p /etc/systemd/system/multi-user.target.wants && ln -s /lib/systemd/system/ssh.service /etc/systemd/system/multi-user.target.wants/ssh.service");
      }
      const before = box.snapshot();
      const script = renderBootUnit(SPEC);
      box.exec(`sh -c ${shellQuote(script.create)}`);
      assert.equal(box.exec(`readlink ${BOOT_UNIT_WANTS_LINK}`), `${BOOT_UNIT_PATH}\n`);
      assert.equal(box.exec(`cat ${BOOT_UNIT_PATH}`), renderBootUnitFile(SPEC));
      assert.equal(box.exec(`test -d ${BOOT_FRAGMENT_DIR} && test -f ${BOOT_RUNNER_PATH} && echo ok`), "ok\n");
      const installed = box.snapshot();
      box.exec(`sh -c ${shellQuote(script.create)}`);
      assert.equal(box.snapshot(), installed);
      box.exec(`sh -c ${shellQuote(script.delete)}`);
      assert.equal(box.snapshot(), before);
      box.exec(`sh -c ${shellQuote(script.delete)}`);
      assert.equal(box.snapshot(), before);
    }),
  );
}

test("the runner runs every fragment in name order; one that fails does not stop the rest", { skip }, () =>
  withHostSandbox({ extraDirs: DIRS }, (box) => {
    box.exec(`sh -c ${shellQuote(renderBootUnit(SPEC).create)}`);
    for (const fragment of [
      bootFragment(30, "router", "echo router >>/run/boot-order\n"),
      bootFragment(10, "trunk", "echo trunk >>/run/boot-order\n"),
      bootFragment(20, "vlan-ens33.10", "echo link >>/run/boot-order\nexit 3\n"),
    ]) {
      box.writeFile(fragment.path, fragment.content);
    }
    const result = box.run(`sh ${BOOT_RUNNER_PATH}`);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, `macvlan-overlay: ${BOOT_FRAGMENT_DIR}/20-vlan-ens33.10.sh failed\n`);
    assert.equal(box.exec("cat /run/boot-order"), "trunk\nlink\nrouter\n");
  }),
);

test("a first create that fails halfway (the wants folder cannot be made) leaves the host as it was", { skip }, () =>
  withHostSandbox({ extraDirs: DIRS }, (box) => {
    box.exec("printf 'not a folder\\n' >/etc/systemd/system/multi-user.target.wants");
    const before = box.snapshot();
    const result = box.run(`sh -c ${shellQuote(renderBootUnit(SPEC).create)}`);
    assert.notEqual(result.status, 0);
    assert.equal(box.snapshot(), before);
  }),
);
