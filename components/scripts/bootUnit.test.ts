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
import { renderHostShim } from "./hostShim";
import { renderNatRouter } from "./natRouter";
import { renderPromiscuousMode } from "./promiscuousMode";
import { shellQuote } from "./shell";
import { renderVlanSubinterface } from "./vlanSubinterface";
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

test("a host's concerns write their fragments; after a 'reboot' the runner brings back exactly what was deployed; deletes leave nothing", { skip }, () =>
  withHostSandbox({ extraDirs: DIRS, ipForward: "0" }, (box) => {
    // The trunk and, standing in for 802.1Q links (this kernel may have none), a veth per VLAN device.
    box.exec(
      [
        "ip link add ens33 type veth peer name ovlpeer0",
        "ip link set ovlpeer0 up",
        "ip link set ens33 up",
        "ip link add ens33.10 type veth peer name ovlpeer1",
        "ip link set ovlpeer1 up",
        "ip link add ens33.20 type veth peer name ovlpeer2",
        "ip link set ovlpeer2 up",
        // Up before: a link's first up gives it a qdisc for good, which no delete could put back.
        "ip link set ens33.10 up",
        "ip link set ens33.20 up",
      ].join("\n"),
    );
    box.primeFirewallTables();
    const before = box.snapshot();
    const subinterface = (vlan: number, host: number) => ({
      vlan,
      parent: "ens33",
      device: `ens33.${vlan}`,
      address: { cidr: `192.168.${vlan}.${host}/24`, address: `192.168.${vlan}.${host}`, prefix: 24, network: `192.168.${vlan}.0` },
    });
    const unit = renderBootUnit(SPEC);
    const promisc = renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts", boot: true });
    const links = [10, 20].map((vlan) => renderVlanSubinterface({ subinterface: subinterface(vlan, 1), persistence: "network-scripts", boot: true }));
    const shim = renderHostShim({ device: "mvo-shim10", parent: "ens33.10", address: "192.168.10.250", containerIps: ["192.168.10.2"], boot: true });
    const router = renderNatRouter({ interfaces: ["ens33.10", "ens33.20"], masquerade: true, boot: true });
    const creates = [unit, promisc, ...links, shim, router];
    for (const script of creates) box.exec(`sh -c ${shellQuote(script.create)}`);
    assert.equal(
      box.exec(`ls ${BOOT_FRAGMENT_DIR}`),
      "10-promisc-ens33.sh\n20-vlan-ens33.10.sh\n20-vlan-ens33.20.sh\n25-shim-mvo-shim10.sh\n30-router.sh\n",
    );
    // A shim made again has a new MAC (and so a new link-local address): compared by what it is.
    const shimState = () =>
      box.exec("ip -d -o link show dev mvo-shim10 | grep -o '@ens33.10: .* macvlan mode bridge' | sed 's/: <.*> .* macvlan/ macvlan/'; ip -4 -o addr show dev mvo-shim10 | awk '{print $4}'; ip -4 route show dev mvo-shim10");
    const shimDeployed = shimState();
    assert.equal(shimDeployed, "@ens33.10 macvlan mode bridge\n192.168.10.250/32\n192.168.10.2 scope link \n");
    box.exec("ip link del mvo-shim10");
    const shimBoot = box.run(`sh ${BOOT_FRAGMENT_DIR}/25-shim-mvo-shim10.sh`);
    assert.equal(shimBoot.status, 0, shimBoot.stderr);
    assert.equal(shimState(), shimDeployed, "the boot fragment makes a lost shim again, with its address and route");
    const deployed = box.snapshot();

    // What a reboot loses: the flag, the addresses (the veths stay down), the rules, ip_forward.
    box.exec(
      [
        "ip link set mvo-shim10 down",
        "ip addr flush dev mvo-shim10",
        "ip link set ens33 promisc off",
        "ip addr flush dev ens33.10",
        "ip addr flush dev ens33.20",
        "ip link set ens33.10 down",
        "ip link set ens33.20 down",
        "iptables -w -F FORWARD",
        "iptables -w -t nat -F POSTROUTING",
        "sysctl -qw net.ipv4.ip_forward=0",
      ].join("\n"),
    );
    assert.notEqual(box.snapshot(), deployed);
    const boot = box.run(`sh ${BOOT_RUNNER_PATH}`);
    assert.equal(boot.status, 0, boot.stdout + boot.stderr);
    assert.equal(box.snapshot(), deployed, "the boot runner brings back exactly the deployed state");
    const again = box.run(`sh ${BOOT_RUNNER_PATH}`);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(box.snapshot(), deployed, "a second boot run changes nothing");

    // Delete in the engine's order: dependents first, the unit last.
    for (const script of [...creates].reverse()) box.exec(`sh -c ${shellQuote(script.delete)}`);
    assert.equal(box.snapshot(), before, "destroy leaves the host as it was: no unit, runner, fragment or folder");
  }),
);

test("without the boot unit no fragment is written, and an update drops one an earlier version wrote", { skip }, () =>
  withHostSandbox({ extraDirs: DIRS }, (box) => {
    box.exec("ip link add ens33 type veth peer name ovlpeer0");
    box.primeFirewallTables();
    box.exec(`sh -c ${shellQuote(renderBootUnit(SPEC).create)}`);
    box.exec(`sh -c ${shellQuote(renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts", boot: true }).create)}`);
    assert.equal(box.exec(`ls ${BOOT_FRAGMENT_DIR}`), "10-promisc-ens33.sh\n");
    const update = box.exec(`sh -c ${shellQuote(renderPromiscuousMode({ trunkInterface: "ens33", persistence: "none", boot: false }).create)}`);
    assert.match(update, /10-promisc-ens33\.sh: removed \(no longer wanted\)/);
    assert.equal(box.exec(`ls -A ${BOOT_FRAGMENT_DIR} 2>/dev/null || true`), "");
  }),
);
