// The day-2 scenarios' configs, checked without a lab: each is a valid stack the program evaluates,
// so a long lab run never stops at a typo in a scenario.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { type DeployedResource, type Deployment, deploymentFromEvaluation } from "../testing/engine/deployment";
import { planSteps } from "../testing/engine/model";
import type { Evaluation } from "../testing/programHarness";
import { VLAN20_IPVLAN } from "../testing/stackEdits";
import { evaluateEditedDevStack, fakeProjectDir } from "../testing/stackEvaluation";
import { caseSetFromEnv, leftOut, type CaseSet } from "./cases";
import { DAY_TWO, scenariosToRun, type DayTwoScenario } from "./dayTwo";
import { describeStep } from "./liveStack";
import { HOST1_SHIM } from "./doctorChecks";

test("every day-2 scenario's config is a stack the program evaluates without error", () => {
  const cwd = fakeProjectDir();
  try {
    for (const scenario of DAY_TWO) {
      const evaluation = evaluateEditedDevStack(cwd, scenario.edits);
      assert.equal(evaluation.error, undefined, scenario.title);
      assert.ok(evaluation.resources.some((resource) => resource.name === "router/nat/rules"), scenario.title);
    }
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

test("each set of e2e cases takes the scenarios it names, in order: core the first two, all every one", () => {
  const phases = (set: CaseSet) => scenariosToRun(set).map((s) => s.phase);
  assert.deepEqual(phases("core"), ["VLAN address", "masquerade off"]);
  assert.deepEqual(phases("all"), DAY_TWO.map((s) => s.phase));
});

test("MACVLAN_OVERLAY_E2E_CASES picks the set; unset is all; the older MACVLAN_OVERLAY_E2E_DAY2=core is core; anything else is refused by name", () => {
  assert.equal(caseSetFromEnv({}), "all");
  assert.equal(caseSetFromEnv({ MACVLAN_OVERLAY_E2E_CASES: "core" }), "core");
  assert.equal(caseSetFromEnv({ MACVLAN_OVERLAY_E2E_DAY2: "core" }), "core");
  assert.throws(() => caseSetFromEnv({ MACVLAN_OVERLAY_E2E_CASES: "ci" }), /^Error: MACVLAN_OVERLAY_E2E_CASES "ci": not one of core, all$/);
  assert.equal(leftOut("all", "all"), undefined);
  assert.equal(leftOut("core", "core"), undefined);
  assert.equal(leftOut("all", "core", "as x"), "MACVLAN_OVERLAY_E2E_CASES=core leaves it out (as x); unset, every case runs");
});

test("the cleanup case's fresh deploy evaluates: host1's shim on VLAN 10, VLAN 20's networks on ipvlan, its containers without a MAC of their own", () => {
  const cwd = fakeProjectDir();
  try {
    const evaluation = evaluateEditedDevStack(cwd, [...HOST1_SHIM, ...VLAN20_IPVLAN]);
    assert.equal(evaluation.error, undefined);
    const byName = (name: string) => evaluation.resources.find((resource) => resource.name === name)!;
    for (const host of ["host1", "host2"]) {
      assert.equal(byName(`${host}/network/mac-net10/network`).inputs.driver, "macvlan");
      assert.equal(byName(`${host}/network/mac-net20/network`).inputs.driver, "ipvlan");
    }
    const endpoint = (container: string) => (byName(container).inputs.networksAdvanced as Record<string, unknown>[])[0];
    assert.equal(endpoint("host1/container/bbox20/container").macAddress, undefined);
    assert.match(String(endpoint("host1/container/bbox10/container").macAddress), /^02:/);
    assert.ok(byName("host1/vlan10/shim/mvo-shim10"), "host1's shim");
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

/** Where a resource's steps run, as the e2e names it: host:port for a command, the Docker host URL for Docker objects. */
function placesOf(evaluation: Evaluation): (resource: DeployedResource) => string {
  // by the provider's name: the mock monitor's provider references and the engine's URNs differ in the parent types
  const providers = new Map(evaluation.resources.filter((r) => r.type === "pulumi:providers:docker").map((r) => [r.name, String(r.inputs.host)]));
  return (resource) => {
    if (resource.type === "command:remote:Command") {
      const connection = resource.inputs.connection as { host: string; port?: number };
      return `${connection.host}:${connection.port ?? 22}`;
    }
    return resource.provider === undefined ? "" : (providers.get(resource.provider.split("::").pop()!) ?? "");
  };
}

test("every set of e2e cases is a chain the engine model walks with each scenario's expectations met (a set leaves out only what the next scenario does not need)", () => {
  const cwd = fakeProjectDir();
  try {
    const evaluations = new Map<DayTwoScenario | "dev", Evaluation>();
    const evaluationOf = (scenario: DayTwoScenario | "dev") => {
      if (!evaluations.has(scenario)) evaluations.set(scenario, evaluateEditedDevStack(cwd, scenario === "dev" ? [] : scenario.edits));
      return evaluations.get(scenario)!;
    };
    for (const set of ["core", "all"] as const) {
      let previous: { deployment: Deployment; placeOf: (resource: DeployedResource) => string } = {
        deployment: deploymentFromEvaluation(evaluationOf("dev")),
        placeOf: placesOf(evaluationOf("dev")),
      };
      for (const scenario of scenariosToRun(set)) {
        const evaluation = evaluationOf(scenario);
        const next = { deployment: deploymentFromEvaluation(evaluation), placeOf: placesOf(evaluation) };
        const oldByUrn = new Map(previous.deployment.map((resource) => [resource.urn, resource]));
        const newByUrn = new Map(next.deployment.map((resource) => [resource.urn, resource]));
        const summary = planSteps(previous.deployment, next.deployment)
          .filter((step) => step.op !== "same")
          .map((step) => {
            const deletes = step.op === "delete" || step.phase === "delete";
            const on = deletes ? previous.placeOf(oldByUrn.get(step.urn)!) : next.placeOf(newByUrn.get(step.urn)!);
            return describeStep({ ...step, name: step.urn.split("::").pop()!, on, startedAt: 0 });
          });
        assert.doesNotThrow(() => scenario.expect(summary), `${set}: ${scenario.phase}:\n  ${summary.join("\n  ")}`);
        previous = next;
      }
    }
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
