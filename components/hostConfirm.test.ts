// Commit confirmed as the program registers it (under Pulumi's mocks, the dev stack): one Confirm per
// host, after every connectivity check and its host's arming commands, holding exactly the
// fingerprints its host's arming creates file their reverts under.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Evaluation } from "../testing/programHarness";
import { evaluate, DEV_STACK, evaluateEditedDevStack, fakeProjectDir } from "../testing/stackEvaluation";
import { armedFingerprint } from "./scripts/confirm";

const COMMAND = "command:remote:Command";

function commands(evaluation: Evaluation) {
  assert.equal(evaluation.error, undefined);
  return evaluation.resources.filter((resource) => resource.type === COMMAND);
}

function confirmFingerprints(create: string): string[] {
  return /^FINGERPRINTS='([0-9a-f ]*)'$/m.exec(create)![1].split(" ");
}

test("the dev stack: a Confirm per host, after every check and its host's arming commands, holding their fingerprints", () => {
  const all = commands(evaluate({ stackFile: DEV_STACK }));
  const confirms = all.filter((resource) => resource.name.endsWith("/confirm"));
  assert.deepEqual(confirms.map((resource) => resource.name), ["host1/confirm", "host2/confirm", "router/confirm"]);
  const urnOf = (name: string) => all.find((resource) => resource.name === name)!.registration!.urn;
  for (const confirm of confirms) {
    const host = confirm.name.split("/")[0];
    const arming = all.filter((resource) => resource.name.startsWith(`${host}/`) && armedFingerprint(String(resource.inputs.create ?? "")) !== undefined);
    assert.deepEqual(
      arming.map((resource) => resource.name).sort(),
      host === "router"
        ? ["router/nat/rules", "router/trunk/promisc/ens33", "router/vlan10/link/ens33.10", "router/vlan20/link/ens33.20"]
        : [`${host}/trunk/promisc/ens33`, `${host}/vlan10/link/ens33.10`, `${host}/vlan20/link/ens33.20`],
    );
    assert.deepEqual(
      confirmFingerprints(String(confirm.inputs.create)),
      arming.map((resource) => armedFingerprint(String(resource.inputs.create))!).sort(),
    );
    assert.deepEqual(
      [...confirm.registration!.dependencies].sort(),
      [urnOf("host1/check/ping"), urnOf("host2/check/ping"), ...arming.map((resource) => urnOf(resource.name))].sort(),
    );
    assert.equal(confirm.inputs.delete, undefined, "a Confirm changes nothing to undo");
  }
  // The arming creates' deadline is the default, 600 s.
  assert.match(String(all.find((resource) => resource.name === "router/nat/rules")!.inputs.create), /^CONFIRM_WITHIN='600'$/m);
});

test("a changed VLAN address changes host1's link fingerprint and so host1's Confirm, and no other host's", () => {
  const before = commands(evaluate({ stackFile: DEV_STACK }));
  const after = commands(evaluateEditedDevStack(fakeProjectDir(), [['vlanAddresses: { "10": 192.168.22.10/24,', 'vlanAddresses: { "10": 192.168.22.99/24,']]));
  const create = (resources: typeof before, name: string) => String(resources.find((resource) => resource.name === name)!.inputs.create);
  assert.notEqual(create(after, "host1/confirm"), create(before, "host1/confirm"));
  assert.ok(confirmFingerprints(create(after, "host1/confirm")).includes(armedFingerprint(create(after, "host1/vlan10/link/ens33.10"))!));
  assert.equal(create(after, "host2/confirm"), create(before, "host2/confirm"));
  assert.equal(create(after, "router/confirm"), create(before, "router/confirm"));
});

test("confirmWithinSeconds 0: no Confirm, and no create can arm", () => {
  const all = commands(evaluateEditedDevStack(fakeProjectDir(), [["macvlan-overlay:router: { masquerade: true }", "macvlan-overlay:router: { masquerade: true }\n  macvlan-overlay:confirmWithinSeconds: 0"]]));
  assert.deepEqual(all.filter((resource) => resource.name.endsWith("/confirm")), []);
  assert.deepEqual(all.filter((resource) => armedFingerprint(String(resource.inputs.create ?? "")) !== undefined), []);
});

test("confirmWithinSeconds must be a whole number of seconds from 0 to 86400: the error names key and value", () => {
  const evaluation = evaluateEditedDevStack(fakeProjectDir(), [["macvlan-overlay:router: { masquerade: true }", "macvlan-overlay:router: { masquerade: true }\n  macvlan-overlay:confirmWithinSeconds: 90000"]]);
  assert.match(evaluation.error ?? "", /^confirmWithinSeconds 90000: must be an integer from 0 to 86400$/m);
});
