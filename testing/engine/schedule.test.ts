// When the engine runs each step, on small hand-made graphs: delete and create order, and how many
// steps `--parallel` lets run at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type GraphNode, parallelFromEnv, scheduleCreates, scheduleDeletes, StepLimit } from "./schedule";

function node(urn: string, fields: Partial<GraphNode> = {}): GraphNode {
  return { urn, parent: "", custom: true, dependencies: [], ...fields };
}

// `app` depends on `lib`; `solo` on nothing. Component `web` has children `page` and `api` (`api` with
// an explicit provider `prov`); `client` depends on the component `web` only.
const graph: GraphNode[] = [
  node("prov"),
  node("lib"),
  node("app", { dependencies: ["lib"] }),
  node("solo"),
  node("web", { custom: false }),
  node("page", { parent: "web" }),
  node("api", { parent: "web", provider: "prov" }),
  node("client", { dependencies: ["web"] }),
];
const everything = graph.map((n) => n.urn);

test("scheduleDeletes: dependents first, a child before its parent, a component's dependents before its children", () => {
  assert.deepEqual(scheduleDeletes(graph, everything), [
    ["client"],
    ["app", "page", "api"],
    ["prov", "lib", "solo", "web"],
  ]);
});

test("scheduleDeletes: independent resources are one antichain, deleted at once", () => {
  assert.deepEqual(scheduleDeletes(graph, ["lib", "solo", "page"]), [["lib", "solo", "page"]]);
});

test("scheduleDeletes: only the condemned are scheduled; a kept dependency does not hold anything back", () => {
  assert.deepEqual(scheduleDeletes(graph, ["app", "client", "page"]), [["client"], ["app", "page"]]);
});

test("scheduleDeletes refuses a URN that is not in the graph, and a cycle", () => {
  assert.throws(() => scheduleDeletes(graph, ["nowhere"]), { message: "scheduleDeletes: nowhere is not in the graph" });
  const cycle = [node("x", { dependencies: ["y"] }), node("y", { dependencies: ["x"] })];
  assert.throws(() => scheduleDeletes(cycle, ["x", "y"]), { message: "scheduleDeletes: a dependency cycle among x, y" });
});

test("scheduleCreates: the reverse of the deletes: what a resource needs (its component's children too) comes first", () => {
  assert.deepEqual(scheduleCreates(graph, everything), [
    ["prov", "lib", "solo", "web"],
    ["app", "page", "api"],
    ["client"],
  ]);
  assert.deepEqual(scheduleCreates(graph, everything), [...scheduleDeletes(graph, everything)].reverse());
});

test("scheduleCreates: independent resources are one group, created at once", () => {
  assert.deepEqual(scheduleCreates(graph, ["lib", "solo", "page"]), [["lib", "solo", "page"]]);
});

/** A step that records its start and end and finishes when the test says so. */
function controlledSteps(count: number) {
  const log: string[] = [];
  const finish: (() => void)[] = [];
  const steps = Array.from({ length: count }, (_, i) => async () => {
    log.push(`start ${i}`);
    await new Promise<void>((resolve) => (finish[i] = resolve));
    log.push(`end ${i}`);
    return i;
  });
  return { log, finish, steps };
}

/** Lets every pending promise callback run (no timers involved). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test("StepLimit(1) runs the steps strictly one at a time, in the order they arrived", async () => {
  const limit = new StepLimit(1);
  const { log, finish, steps } = controlledSteps(3);
  const results = Promise.all(steps.map((step) => limit.run(step)));
  await settle();
  assert.deepEqual(log, ["start 0"]);
  finish[0]();
  await settle();
  assert.deepEqual(log, ["start 0", "end 0", "start 1"]);
  finish[1]();
  await settle();
  finish[2]();
  assert.deepEqual(await results, [0, 1, 2]);
  assert.deepEqual(log, ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]);
});

test("StepLimit(2) starts a third step only when one of the first two ends", async () => {
  const limit = new StepLimit(2);
  const { log, finish, steps } = controlledSteps(3);
  const results = Promise.all(steps.map((step) => limit.run(step)));
  await settle();
  assert.deepEqual(log, ["start 0", "start 1"]);
  finish[1]();
  await settle();
  assert.deepEqual(log, ["start 0", "start 1", "end 1", "start 2"]);
  finish[0]();
  finish[2]();
  assert.deepEqual(await results, [0, 1, 2]);
});

test("StepLimit(0) runs every step at once: each waits at a barrier only all of them together open", async () => {
  const limit = new StepLimit(0);
  const count = 5;
  let arrived = 0;
  let open!: () => void;
  const barrier = new Promise<void>((resolve) => (open = resolve));
  const results = Promise.all(
    Array.from({ length: count }, (_, i) =>
      limit.run(async () => {
        arrived++;
        if (arrived === count) open();
        await barrier;
        return i;
      }),
    ),
  );
  await settle();
  // Had any step waited for another to end, the barrier would still be shut and fewer would be in.
  assert.equal(arrived, count);
  assert.deepEqual(await results, [0, 1, 2, 3, 4]);
});

test("a failing step frees its place for the next one", async () => {
  const limit = new StepLimit(1);
  const failed = limit.run(async () => {
    throw new Error("step failed");
  });
  const next = limit.run(async () => "next ran");
  await assert.rejects(failed, { message: "step failed" });
  assert.equal(await next, "next ran");
});

test("parallelFromEnv: unset and empty are unbounded (0), a number limits, anything else is refused by name", () => {
  assert.equal(parallelFromEnv(undefined), 0);
  assert.equal(parallelFromEnv(""), 0);
  assert.equal(parallelFromEnv("0"), 0);
  assert.equal(parallelFromEnv("3"), 3);
  assert.throws(() => parallelFromEnv("x"), /^Error: MACVLAN_OVERLAY_E2E_PARALLEL "x": not a whole number/);
  assert.throws(() => parallelFromEnv("2.5"), /^Error: MACVLAN_OVERLAY_E2E_PARALLEL "2\.5": /);
});
