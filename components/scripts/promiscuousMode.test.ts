import { test } from "node:test";
import assert from "node:assert/strict";
import { persistenceBackend } from "./persistence";
import { promiscuousStateFile, renderPromiscuousMode } from "./promiscuousMode";
import { type HostSandbox, sandboxUnavailableReason, withHostSandbox } from "../../testing/hostSandbox";

const skip = sandboxUnavailableReason();
// The flag's own logic, without the boot fragment (bootUnit.test.ts runs the scripts with the boot unit).
const script = renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts" });

function promiscuous(box: HostSandbox): boolean {
  const details = box.exec("ip -d link show dev ens33");
  const flag = /<[^>]*\bPROMISC\b[^>]*>/.test(details);
  assert.equal(/promiscuity 1\b/.test(details), flag, details);
  return flag;
}

function run(box: HostSandbox, text: string, shell = "sh"): string {
  const result = box.run(text, { shell });
  assert.equal(result.status, 0, `exit ${result.status}\n${result.stdout}${result.stderr}`);
  assert.equal(result.stderr, "");
  return result.stdout;
}

test("the state record lives in STATE_DIR, named for the interface", () => {
  assert.equal(promiscuousStateFile("ens33"), "/var/lib/macvlan-overlay/promisc-ens33.before");
});

test("no distro file persists promisc: the boot unit brings it back, and without it the scripts say why", () => {
  assert.match(renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts", boot: true }).create, /^# Brought back at boot by macvlan-overlay\.service/m);
  assert.match(renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts" }).create, /^# Not persisted across reboots \(persistence network-scripts\): ifcfg PROMISC=yes is unsupported on RHEL7\+/m);
  for (const persistence of ["network-scripts", "none"] as const) {
    assert.equal(persistenceBackend(persistence).persists.promiscuous, false);
    const rendered = renderPromiscuousMode({ trunkInterface: "ens33", persistence });
    const code = `${rendered.create}${rendered.delete}`.split("\n").filter((line) => !line.startsWith("#")).join("\n");
    assert.ok(!code.includes("ifup-local"), "never touches the shared /sbin/ifup-local");
    assert.ok(!code.includes("PROMISC=yes"));
  }
});

for (const shell of ["sh", "bash"]) {
  test(`promisc (${shell}): create turns it on, a second create changes nothing, delete restores off`, { skip }, () =>
    withHostSandbox({}, (box) => {
      box.exec("ip link add ens33 type veth peer name ovlpeer0");
      box.primeFirewallTables();
      const before = box.snapshot();
      assert.equal(promiscuous(box), false);

      assert.equal(
        run(box, script.create, shell),
        "ens33: recorded previous state (promisc off)\nens33: promisc on (was off)\nens33: promisc is not persisted across reboots\n",
      );
      assert.equal(promiscuous(box), true);
      assert.equal(box.exec(`cat ${promiscuousStateFile("ens33")}`), "promisc=off\n");
      const created = box.snapshot();
      assert.notEqual(created, before);

      assert.equal(run(box, script.create, shell), "ens33: promisc already on\nens33: promisc is not persisted across reboots\n");
      assert.equal(box.snapshot(), created, "a second create changes nothing");

      assert.equal(run(box, script.delete, shell), "ens33: promisc off (restored)\n");
      assert.equal(box.snapshot(), before, "delete restores the state before create");

      assert.equal(run(box, script.delete, shell), "ens33: no record of a create, promisc left as it is\n");
      assert.equal(box.snapshot(), before, "a second delete changes nothing");
    }),
  );
}

test("promisc: already on before create stays on after delete", { skip }, () =>
  withHostSandbox({}, (box) => {
    box.exec("ip link add ens33 type veth peer name ovlpeer0\nip link set dev ens33 promisc on");
    box.primeFirewallTables();
    const before = box.snapshot();
    assert.equal(
      run(box, script.create),
      "ens33: recorded previous state (promisc on)\nens33: promisc already on\nens33: promisc is not persisted across reboots\n",
    );
    assert.equal(box.exec(`cat ${promiscuousStateFile("ens33")}`), "promisc=on\n");
    assert.equal(run(box, script.delete), "ens33: promisc left on (it was on before create)\n");
    assert.equal(promiscuous(box), true);
    assert.equal(box.snapshot(), before);
  }),
);

test("promisc: a missing interface fails clearly and changes nothing", { skip }, () =>
  withHostSandbox({}, (box) => {
    box.primeFirewallTables();
    const before = box.snapshot();
    const result = box.run(script.create);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, "error: ens33: no such interface\n");
    assert.equal(box.snapshot(), before);
  }),
);

test("promisc: delete after the interface vanished succeeds and clears the record", { skip }, () =>
  withHostSandbox({}, (box) => {
    box.exec("ip link add ens33 type veth peer name ovlpeer0");
    box.primeFirewallTables();
    run(box, script.create);
    box.exec("ip link del ens33");
    assert.equal(run(box, script.delete), "ens33: interface is gone, nothing to restore\n");
    assert.equal(box.run("test -e /var/lib/macvlan-overlay").status, 1, "the state folder the create made is gone");
  }),
);
