// The ipvlan driver per VLAN under Pulumi's mocks: an ipvlan network in L2 mode, containers without a
// MAC of their own; the dev stack (macvlan by default) keeps every resource and name.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { DEV_STACK, evaluate, evaluateEditedDevStack, fakeProjectDir } from "../testing/stackEvaluation";
import { type Deployment, deploymentFromEvaluation } from "../testing/engine/deployment";
import { changes, planSteps } from "../testing/engine/model";
import { listInput } from "../testing/programHarness";

const nameOf = (urn: string) => urn.split("::").pop()!;
const VLAN_20_IPVLAN = [["{ id: 20, network: mac-net20, subnet: 172.19.0.0/24, gateway: 172.19.0.1 }", "{ id: 20, network: mac-net20, subnet: 172.19.0.0/24, gateway: 172.19.0.1, driver: ipvlan }"]] as const;

describe("the ipvlan driver on the dev stack", () => {
  let cwd: string;
  let deployed: Deployment;
  before(() => {
    cwd = fakeProjectDir();
    deployed = deploymentFromEvaluation(evaluate({ stackFile: DEV_STACK, cwd }));
  });

  test("driver: macvlan written out is the dev stack as it was: same resources, same names, no change", () => {
    const explicit = deploymentFromEvaluation(
      evaluateEditedDevStack(cwd, [
        ["gateway: 172.18.0.1 }", "gateway: 172.18.0.1, driver: macvlan }"],
        ["gateway: 172.19.0.1 }", "gateway: 172.19.0.1, driver: macvlan }"],
      ]),
    );
    assert.deepEqual(explicit.map((r) => r.urn).sort(), deployed.map((r) => r.urn).sort());
    assert.deepEqual(changes(planSteps(deployed, explicit)), []);
  });

  test("vlan 20 on ipvlan: an L2 ipvlan network, its containers without MAC resources or MACs, the rest untouched", () => {
    const evaluation = evaluateEditedDevStack(cwd, VLAN_20_IPVLAN);
    assert.equal(evaluation.error, undefined);
    const named = (name: string) => evaluation.resources.find((r) => r.name === name);
    for (const host of ["host1", "host2"]) {
      const network = named(`${host}/network/mac-net20/network`)!;
      assert.equal(network.inputs.driver, "ipvlan");
      assert.deepEqual(network.inputs.options, { parent: "ens33.20", ipvlan_mode: "l2" });
      assert.deepEqual(named(`${host}/network/mac-net10/network`)!.inputs.options, { parent: "ens33.10", macvlan_mode: "bridge" });
    }
    for (const [host, onIpvlan, onMacvlan] of [["host1", "bbox20", "bbox10"], ["host2", "bbox40", "bbox30"]]) {
      assert.equal(named(`${host}/container/${onIpvlan}/mac`), undefined);
      const networks = listInput(named(`${host}/container/${onIpvlan}/container`)!.inputs.networksAdvanced) as unknown as Array<Record<string, unknown>>;
      assert.deepEqual(Object.keys(networks[0]).sort(), ["ipv4Address", "name"]);
      assert.ok(named(`${host}/container/${onMacvlan}/mac`));
    }

    const steps = changes(planSteps(deployed, deploymentFromEvaluation(evaluation)))
      .filter((s) => !nameOf(s.urn).includes("/check/"))
      .map((s) => `${s.op}${s.phase ? `(${s.phase})` : ""} ${nameOf(s.urn)}`)
      .sort();
    assert.deepEqual(steps, [
      "delete host1/container/bbox20/mac",
      "delete host2/container/bbox40/mac",
      "replace(create) host1/container/bbox20/container",
      "replace(create) host1/network/mac-net20/network",
      "replace(create) host2/container/bbox40/container",
      "replace(create) host2/network/mac-net20/network",
      "replace(delete) host1/container/bbox20/container",
      "replace(delete) host1/network/mac-net20/network",
      "replace(delete) host2/container/bbox40/container",
      "replace(delete) host2/network/mac-net20/network",
    ]);
  });
});
