// The repair key: a new `reapply` number makes every host command run its update in place (the
// engine model's rules on the dev stack), and 0, the default, leaves every script as it was.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { DEV_STACK, evaluate, evaluateEditedDevStack, fakeProjectDir } from "../testing/stackEvaluation";
import { type Deployment, deploymentFromEvaluation } from "../testing/engine/deployment";
import { changes, planSteps } from "../testing/engine/model";
import { renderPromiscuousMode, withReapply } from "./scripts";

const nameOf = (urn: string) => urn.split("::").pop()!;
// Every host command that changes the host (the boot unit too); the read-only engine check has no update.
const HOST_COMMANDS = [
  "host1/boot/unit", "host1/trunk/promisc/ens33", "host1/vlan10/link/ens33.10", "host1/vlan20/link/ens33.20",
  "host2/boot/unit", "host2/trunk/promisc/ens33", "host2/vlan10/link/ens33.10", "host2/vlan20/link/ens33.20",
  "router/boot/unit", "router/nat/rules", "router/trunk/promisc/ens33", "router/vlan10/link/ens33.10", "router/vlan20/link/ens33.20",
];

test("reapply 0 leaves the scripts byte for byte; any other number is a comment after the first line", () => {
  const script = renderPromiscuousMode({ trunkInterface: "ens33", persistence: "none" });
  assert.equal(withReapply(script, 0), script);
  const marked = withReapply(script, 7);
  for (const key of ["create", "delete"] as const) {
    const lines = marked[key].split("\n");
    assert.equal(lines[0], "#!/bin/sh");
    assert.equal(lines[1], "# reapply 7: the stack's reapply key; changing it re-runs this create in place");
    assert.equal([lines[0], ...lines.slice(2)].join("\n"), script[key]);
  }
});

describe("the reapply key on the dev stack", () => {
  let cwd: string;
  let deployed: Deployment;
  before(() => {
    cwd = fakeProjectDir();
    deployed = deploymentFromEvaluation(evaluate({ stackFile: DEV_STACK, cwd }));
  });

  const withReapplyKey = (n: number) =>
    deploymentFromEvaluation(
      evaluateEditedDevStack(cwd, [["macvlan-overlay:router: { masquerade: true }", `macvlan-overlay:router: { masquerade: true }\n  macvlan-overlay:reapply: ${n}`]]),
    );

  test("reapply: 0 written out changes nothing", () => {
    assert.deepEqual(changes(planSteps(deployed, withReapplyKey(0))), []);
  });

  test("a new reapply number runs every host command's update in place, replaces nothing on the hosts and re-runs the checks", () => {
    const once = withReapplyKey(1);
    const steps = changes(planSteps(deployed, once));
    assert.deepEqual(
      steps.filter((s) => s.op === "update").map((s) => `${nameOf(s.urn)} runs ${s.runs}`).sort(),
      // Each host's Confirm too: its message after a revert names the next reapply number.
      [...HOST_COMMANDS, "host1/confirm", "host2/confirm", "router/confirm"].sort().map((name) => `${name} runs create`),
    );
    assert.deepEqual(
      steps.filter((s) => s.op !== "update").map((s) => `${s.op}(${s.phase}) ${nameOf(s.urn)}`).sort(),
      [
        "replace(create) host1/check/ping",
        "replace(create) host2/check/ping",
        "replace(delete) host1/check/ping",
        "replace(delete) host2/check/ping",
      ],
    );
    // The next repair: 1 → 2 is again an update of every host command.
    const twice = changes(planSteps(once, withReapplyKey(2)));
    assert.deepEqual(twice.filter((s) => s.op === "update").map((s) => nameOf(s.urn)).sort(), [...HOST_COMMANDS, "host1/confirm", "host2/confirm", "router/confirm"].sort());
  });
});
