// The program registers what it registered at 497eb86, before the host plan: for the dev stack and the
// variants below, every custom resource has the same URN (under the package's component now, with the
// old URN inherited as an alias from the component's), parent, provider, inputs, recorded
// dependencies (all and per property), aliases, delete-before-replace and ignored changes. Script texts
// may change with their renderers, so they are compared twice: as text-free markers in the strict view,
// and in the symbolic view as the renderer calls (renderer and arguments) that made them.
// The fixture was recorded from a build of 497eb86 (`git worktree add /tmp/base 497eb86`, a link to
// this project's node_modules, `npx tsc -p tsconfig.json` there) with the recorder of this build:
//   node dist/testing/registrationRecord.js /tmp/base/dist "<variant>" symbolic <variant>.json
// for each variant named in components/fixtures/registrations-497eb86.json, whose `variants` hold each
// record's `resources` (one line per resource) and `calls` the union of the records' `calls`.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { expandTokens, type RegisteredResource, recordInFreshProcess, type RendererCall, STACK_VARIANTS } from "../testing/registrationRecord";
import { PROJECT_ROOT } from "../testing/stackEvaluation";

interface Fixture {
  readonly commit: string;
  readonly variants: Record<string, RegisteredResource[]>;
  readonly calls: Record<string, RendererCall>;
}

const FIXTURE = path.join(PROJECT_ROOT, "components", "fixtures", "registrations-497eb86.json");
const fixture = JSON.parse(fs.readFileSync(FIXTURE, "utf8")) as Fixture;
const PROGRAM = path.resolve(__dirname, "..");
const SCRIPT_INPUTS = new Set(["create", "delete", "update", "stdin", "triggers"]);
/**
 * Commit confirmed is off: with confirmWithinSeconds 0 the program registers what it did before the
 * feature; what the feature adds (a Confirm per host, arming creates) is tested in components/hostConfirm.test.ts.
 */
const AS_BEFORE_CONFIRM = { "macvlan-overlay:confirmWithinSeconds": "0" };

/** The component's URN chain since the package, and before it (its alias): every child's URN starts with it. */
const PACKAGE_CHAIN = "::macvlan-overlay:index:MacvlanOverlay";
const PROGRAM_CHAIN = "::overlay:index:Overlay";

/**
 * The record under the URNs a stack deployed before the package holds: each resource must inherit
 * its old URN as an alias from the component's (the engine's lookup), and is then compared as it was.
 */
function asBeforeThePackage(resources: readonly RegisteredResource[]): RegisteredResource[] {
  const before = (text: string) => text.split(PACKAGE_CHAIN).join(PROGRAM_CHAIN);
  return resources.map(({ inheritedAliases, ...resource }) => {
    const old = before(resource.urn);
    assert.ok(resource.urn.includes(PACKAGE_CHAIN), `${resource.urn}: not under the package's component`);
    assert.ok(inheritedAliases?.includes(old), `${resource.urn}: no alias to ${old}`);
    return JSON.parse(before(JSON.stringify(resource))) as RegisteredResource;
  });
}

/** The strict view of a symbolic record: script inputs only as what they are. */
function strictView(resources: readonly RegisteredResource[]): RegisteredResource[] {
  return resources.map((resource) => ({
    ...resource,
    inputs: Object.fromEntries(Object.entries(resource.inputs).map(([key, value]) => [key, SCRIPT_INPUTS.has(key) ? `<${typeof value}>` : value])),
  }));
}

/** Each script token replaced by its renderer call, so a difference names the arguments. */
function readable(resources: readonly RegisteredResource[], calls: Record<string, RendererCall>): unknown {
  return resources.map((resource) => ({ ...resource, inputs: expandTokens(resource.inputs, calls) }));
}

describe(`registrations against ${fixture.commit}`, () => {
  test("the fixture covers the dev stack, each variant is one the recorder knows, and none is empty", () => {
    assert.ok(fixture.variants.dev.length >= 35);
    for (const [name, resources] of Object.entries(fixture.variants)) {
      assert.ok(STACK_VARIANTS.some((variant) => variant.name === name), name);
      assert.ok(resources.length > 0, name);
    }
  });

  for (const [name, expected] of Object.entries(fixture.variants)) {
    test(`${name}: the same custom resources, inputs (scripts aside) and recorded dependencies`, () => {
      const resources = asBeforeThePackage(recordInFreshProcess(PROGRAM, name, "strict", AS_BEFORE_CONFIRM).resources);
      assert.deepEqual(resources, strictView(expected));
    });

    test(`${name}: every script comes from the same renderer called with the same arguments`, () => {
      const record = recordInFreshProcess(PROGRAM, name, "symbolic", AS_BEFORE_CONFIRM);
      const { calls } = record;
      const resources = asBeforeThePackage(record.resources);
      // Tokens name their call by content: equal tokens are equal calls.
      if (JSON.stringify(resources) !== JSON.stringify(expected)) {
        assert.deepEqual(readable(resources, calls), readable(expected, fixture.calls));
      }
      assert.deepEqual(resources, expected);
    });
  }
});
