// The host shim in the program under Pulumi's mocks, and what a shim change does to a running
// overlay according to the engine model.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { DEV_STACK, evaluate, evaluateEditedDevStack, fakeProjectDir } from "../testing/stackEvaluation";
import { type Deployment, deploymentFromEvaluation } from "../testing/engine/deployment";
import { changes, planSteps } from "../testing/engine/model";
import { renderHostShim } from "./scripts";

const nameOf = (urn: string) => urn.split("::").pop()!;
/** host1 with a shim on vlan 10 at `address`. */
const withShim = (address: string) =>
  [[/(      role: docker\n      vlanAddresses: \{ "10": 192\.168\.22\.10\/24[^\n]*\n)/, `$1      hostShim: { "10": ${address} }\n`]] as const;

describe("a host shim on the dev stack", () => {
  let cwd: string;
  let deployed: Deployment;
  before(() => {
    cwd = fakeProjectDir();
    deployed = deploymentFromEvaluation(evaluate({ stackFile: DEV_STACK, cwd }));
  });

  test("host1's shim on vlan 10 is one command after its link and boot unit, with the rendered scripts; nothing else changes", () => {
    const evaluation = evaluateEditedDevStack(cwd, withShim("172.18.0.250"));
    assert.equal(evaluation.error, undefined);
    const shim = evaluation.resources.find((r) => r.name === "host1/vlan10/shim/mvo-shim10");
    assert.ok(shim, evaluation.resources.map((r) => r.name).join(", "));
    const script = renderHostShim({ device: "mvo-shim10", parent: "ens33.10", address: "172.18.0.250", containerIps: ["172.18.0.2"], boot: true, confirmWithinSeconds: 600 });
    assert.equal(shim.inputs.create, script.create);
    assert.equal(shim.inputs.update, undefined, "no update script: pulumi-command runs create");
    assert.equal(shim.inputs.delete, script.delete);
    const link = evaluation.resources.find((r) => r.name === "host1/vlan10/link/ens33.10")!;
    assert.ok(shim.registration!.dependencies.includes(link.registration!.urn));
    // The boot unit brings it back after a reboot: its fragment goes with the unit, which it waits for.
    const unit = evaluation.resources.find((r) => r.name === "host1/boot/unit")!;
    assert.ok(shim.registration!.dependencies.includes(unit.registration!.urn));
    // Whatever the script's wording, its create names the fragment it writes.
    assert.ok(script.create.includes("/etc/macvlan-overlay/boot.d/25-shim-mvo-shim10.sh"));

    const next = deploymentFromEvaluation(evaluation);
    // host1's Confirm carries the new command's fingerprint from now on.
    assert.deepEqual(changes(planSteps(deployed, next)).filter((s) => !nameOf(s.urn).includes("/check/")).map((s) => `${s.op} ${nameOf(s.urn)}`), [
      "create host1/vlan10/shim/mvo-shim10",
      "update host1/confirm",
    ]);
    // A new address converges in place; removing the key deletes exactly the shim.
    const moved = deploymentFromEvaluation(evaluateEditedDevStack(cwd, withShim("172.18.0.251")));
    assert.deepEqual(changes(planSteps(next, moved)).filter((s) => !nameOf(s.urn).includes("/check/")).map((s) => `${s.op} ${nameOf(s.urn)} runs ${s.runs}`), [
      "update host1/vlan10/shim/mvo-shim10 runs create",
      "update host1/confirm runs create",
    ]);
    assert.deepEqual(changes(planSteps(moved, deployed)).filter((s) => !nameOf(s.urn).includes("/check/")).map((s) => `${s.op} ${nameOf(s.urn)} runs ${s.runs}`), [
      "update host1/confirm runs create",
      "delete host1/vlan10/shim/mvo-shim10 runs delete",
    ]);
  });
});
