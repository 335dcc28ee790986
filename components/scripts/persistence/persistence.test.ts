import { test } from "node:test";
import assert from "node:assert/strict";
import type { Persistence } from "../../../topology/types";
import { MANAGED_MARKER } from "../managedFile";
import { host1Vlan10 } from "../../../testing/seed";
import { NETWORK_SCRIPTS_DIR, persistenceBackend } from "./index";

const all: Persistence[] = ["network-scripts", "none"];

test("persistenceBackend gives the backend named for each Persistence value", () => {
  for (const persistence of all) {
    assert.equal(persistenceBackend(persistence).name, persistence);
  }
  assert.throws(() => persistenceBackend("netplan" as Persistence), /unknown persistence "netplan"/);
});

test("what survives a reboot, per backend", () => {
  assert.deepEqual(persistenceBackend("network-scripts").persists, {
    vlan: true,
    promiscuous: false,
    ipForward: true,
    iptables: false,
  });
  assert.deepEqual(persistenceBackend("none").persists, { vlan: false, promiscuous: false, ipForward: true, iptables: false });
});

test("every change a backend does not persist has its reason", () => {
  for (const persistence of all) {
    const backend = persistenceBackend(persistence);
    for (const [change, persisted] of Object.entries(backend.persists)) {
      const why = backend.whyNotPersisted[change as keyof typeof backend.persists];
      assert.equal(why === undefined, persisted, `${persistence} ${change}`);
    }
  }
});

test("each backend's files carry the marker line and live where its tooling reads them", () => {
  const files = persistenceBackend("network-scripts").vlanFiles(host1Vlan10);
  assert.deepEqual(files.map((file) => file.path), [`${NETWORK_SCRIPTS_DIR}/ifcfg-ens33.10`]);
  for (const persistence of all) {
    const backend = persistenceBackend(persistence);
    for (const file of [...backend.vlanFiles(host1Vlan10), ...backend.ipForwardFiles()]) {
      assert.ok(file.content.startsWith(`${MANAGED_MARKER}\n`), file.path);
      assert.ok(file.content.endsWith("\n"), file.path);
    }
  }
});

test("only network-scripts brings links up with the distro's tool, and only where ifup-eth exists", () => {
  assert.equal(persistenceBackend("none").vlanTooling(host1Vlan10), undefined);
  assert.deepEqual(persistenceBackend("network-scripts").vlanTooling(host1Vlan10), {
    name: "ifup",
    downName: "ifdown",
    present: "[ -f '/etc/sysconfig/network-scripts/ifup-eth' ] && command -v ifup >/dev/null 2>&1",
    up: 'ifup "$DEVICE"',
    down: 'ifdown "$DEVICE"',
  });
});
