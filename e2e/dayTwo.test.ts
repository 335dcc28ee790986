// The day-2 scenarios' configs, checked without a lab: each is a valid stack the program evaluates,
// so a long lab run never stops at a typo in a scenario.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { evaluateEditedDevStack, fakeProjectDir } from "../testing/stackEvaluation";
import { DAY_TWO, scenariosToRun, type DayTwoScenario } from "./dayTwo";

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

test("an e2e run takes the scenarios up to the first opt-in one, as each builds on the one before", () => {
  const scenario = (title: string, inEveryRun: boolean): DayTwoScenario => ({
    title, edits: [], watchForwarding: false, expect: () => undefined, ...(inEveryRun ? { inEveryRun: true as const } : {}),
  });
  const list = [scenario("a", true), scenario("b", true), scenario("c", false), scenario("d", true)];
  assert.deepEqual(scenariosToRun(false, list).map((s) => s.title), ["a", "b"]);
  assert.deepEqual(scenariosToRun(true, list).map((s) => s.title), ["a", "b", "c", "d"]);
  assert.deepEqual(scenariosToRun(false, list.slice(0, 2)).map((s) => s.title), ["a", "b"]);
});
