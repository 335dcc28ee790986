// MacvlanOverlay as a consumer of the package gets it: Pulumi's ComponentProvider (what the plugin
// runs for `pulumi package add` consumers) constructs it from the package's exports and reads its
// outputs by the inferred schema.
import assert from "node:assert/strict";
import { test } from "node:test";
import { devStackArgs, evaluateComponent } from "../testing/componentArgs";
import type { Evaluation } from "../testing/programHarness";

/** Custom resources by URN: type, inputs, provider and recorded dependencies. */
function custom(evaluation: Evaluation): Map<string, unknown> {
  assert.equal(evaluation.error, undefined);
  return new Map(
    evaluation.resources
      .filter((resource) => resource.custom)
      .map((resource) => [resource.registration!.urn, { type: resource.type, inputs: resource.inputs, provider: resource.provider, dependencies: resource.registration!.dependencies }]),
  );
}

test("constructed by Pulumi's ComponentProvider from the package's exports, it registers what `new MacvlanOverlay` registers and hands back every output", () => {
  const direct = evaluateComponent(devStackArgs());
  const viaProvider = evaluateComponent(devStackArgs(), "provider");
  const expected = custom(direct);
  assert.ok(expected.size >= 35);
  assert.deepEqual(custom(viaProvider), expected);
  assert.deepEqual(viaProvider.outputs, ["connectivity", "diagram", "hosts", "routerRules", "summary"]);
});
