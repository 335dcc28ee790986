// The day-2 scenarios' configs, checked without a lab: each is a valid stack the program evaluates,
// so a long lab run never stops at a typo in a scenario.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { evaluateEditedDevStack, fakeProjectDir } from "../testing/stackEvaluation";
import { DAY_TWO, scenariosToRun, type DayTwoScenario } from "./dayTwo";
import { HOST1_SHIM, VLAN20_IPVLAN } from "./doctorChecks";

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
    title, phase: title, edits: [], watchForwarding: false, expect: () => undefined, ...(inEveryRun ? { inEveryRun: true as const } : {}),
  });
  const list = [scenario("a", true), scenario("b", true), scenario("c", false), scenario("d", true)];
  assert.deepEqual(scenariosToRun(false, list).map((s) => s.title), ["a", "b"]);
  assert.deepEqual(scenariosToRun(true, list).map((s) => s.title), ["a", "b", "c", "d"]);
  assert.deepEqual(scenariosToRun(false, list.slice(0, 2)).map((s) => s.title), ["a", "b"]);
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
