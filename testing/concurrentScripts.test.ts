// The Pulumi engine runs every ready step at once (`pulumi up --parallel` is unbounded by default), so
// one host's scripts run side by side. Here the dev stack's scripts of a docker host and of the router
// run in a host sandbox as the engine schedules them: each group of creates at the same time, all the
// creates once more (changing nothing), then each antichain of deletes at the same time; the host must
// end as it began, cycle after cycle.
import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { type GraphNode, scheduleCreates, scheduleDeletes } from "./engine/schedule";
import { type HostSandbox, sandboxUnavailableReason, trunkWithVethVlans, withHostSandbox } from "./hostSandbox";
import { type Evaluation, isSecretWrapper, type ResourceRecord, stackFileConfig } from "./programHarness";
import { DEV_STACK, evaluate } from "./stackEvaluation";

const skip = sandboxUnavailableReason();
const COMMAND = "command:remote:Command";
/** Commands that only read a host (the connectivity check, the Docker Engine check): no delete, no change. */
const READ_ONLY = [/\/check\/ping$/, /\/docker-engine$/, /\/confirm$/];
/** The dev stack's VLAN links on trunk ens33, as veth stand-ins (this machine's kernel has no 802.1Q). */
const VLAN_LINKS = ["ens33.10", "ens33.20"];
/**
 * One whole create/re-create/delete cycle per entry, in one sandbox: the milliseconds between the
 * starts of a group's scripts. Mostly 0, as the engine starts them; a few staggered starts meet other
 * interleavings.
 */
const START_GAPS_MS = [0, 0, 0, 0, 2, 10];
const CYCLES = START_GAPS_MS.length;

/** One host command as the engine would run it: its scripts, and the stdin it is given, if any. */
interface HostStep {
  readonly name: string;
  readonly create: string;
  readonly delete: string;
  readonly stdin?: string;
}

interface HostPlan {
  readonly steps: ReadonlyMap<string, HostStep>;
  /** URNs, in the groups a fresh `pulumi up` runs together. */
  readonly creates: string[][];
  /** URNs, in the antichains `pulumi destroy` deletes together. */
  readonly deletes: string[][];
  /** The host's read-only commands, left out. */
  readonly readOnly: string[];
}

let devStack: Evaluation | undefined;
function evaluateDevStack(): Evaluation {
  if (devStack === undefined) {
    devStack = evaluate({ stackFile: DEV_STACK });
    assert.equal(devStack.error, undefined);
  }
  return devStack;
}

function registrationOf(record: ResourceRecord) {
  assert.ok(record.registration, `${record.type} ${record.name}: no registration recorded`);
  return record.registration;
}

/** Every resource as the engine's dependency graph sees it, components too (so parents count). */
function dependencyGraph(evaluation: Evaluation): GraphNode[] {
  return evaluation.resources.map((record) => {
    const registration = registrationOf(record);
    return {
      urn: registration.urn,
      parent: registration.parent,
      custom: record.custom,
      dependencies: registration.dependencies,
      // The record names its provider as `urn::id`.
      provider: record.provider === undefined ? undefined : record.provider.slice(0, record.provider.lastIndexOf("::")),
    };
  });
}

function text(value: unknown): string | undefined {
  const plain = isSecretWrapper(value) ? value.value : value;
  return typeof plain === "string" ? plain : undefined;
}

/** The dev stack's management address of a host. */
function hostAddress(host: string): string {
  const hosts = JSON.parse(stackFileConfig(DEV_STACK)["macvlan-overlay:hosts"]) as { name: string; address: string }[];
  const found = hosts.find((candidate) => candidate.name === host);
  assert.ok(found, `no host ${host} in the dev stack`);
  return found.address;
}

/** The commands that run on the host (over an SSH connection to it) and change it, and when the engine runs each. */
function hostPlan(evaluation: Evaluation, host: string): HostPlan {
  const address = hostAddress(host);
  const onHost = (record: ResourceRecord): boolean => {
    const connection = record.inputs.connection;
    return (isSecretWrapper(connection) ? connection.value : connection)?.host === address;
  };
  const commands = evaluation.resources.filter((record) => record.type === COMMAND && onHost(record));
  const steps = new Map<string, HostStep>();
  const readOnly: string[] = [];
  for (const record of commands) {
    if (READ_ONLY.some((pattern) => pattern.test(record.name))) {
      assert.equal(text(record.inputs.delete), undefined, `${record.name} is taken as read-only, so it has no delete`);
      readOnly.push(record.name);
      continue;
    }
    const create = text(record.inputs.create);
    const remove = text(record.inputs.delete);
    assert.ok(create !== undefined && remove !== undefined, `${record.name} changes the host, so it has a create and a delete`);
    steps.set(registrationOf(record).urn, { name: record.name, create, delete: remove, stdin: text(record.inputs.stdin) });
  }
  const graph = dependencyGraph(evaluation);
  return { steps, creates: scheduleCreates(graph, steps.keys()), deletes: scheduleDeletes(graph, steps.keys()), readOnly };
}

const names = (plan: HostPlan, groups: string[][]) => groups.map((group) => group.map((urn) => plan.steps.get(urn)!.name));

test("the engine runs host1's two VLAN link commands at the same time, both on create and on delete", () => {
  const plan = hostPlan(evaluateDevStack(), "host1");
  // The Confirm changes only what an update armed: with nothing armed, nothing.
  assert.deepEqual(plan.readOnly.sort(), ["host1/check/ping", "host1/confirm", "host1/docker-engine"]);
  assert.deepEqual(names(plan, plan.creates), [
    ["host1/boot/unit"],
    ["host1/trunk/promisc/ens33"],
    ["host1/vlan10/link/ens33.10", "host1/vlan20/link/ens33.20"],
  ]);
  assert.deepEqual(names(plan, plan.deletes), [
    ["host1/vlan10/link/ens33.10", "host1/vlan20/link/ens33.20"],
    ["host1/trunk/promisc/ens33"],
    ["host1/boot/unit"],
  ]);
});

test("the engine runs the router's two VLAN link commands at the same time, its NAT rules after both", () => {
  const plan = hostPlan(evaluateDevStack(), "router");
  assert.deepEqual(plan.readOnly, ["router/confirm"]);
  assert.deepEqual(names(plan, plan.creates), [
    ["router/boot/unit"],
    ["router/trunk/promisc/ens33"],
    ["router/vlan10/link/ens33.10", "router/vlan20/link/ens33.20"],
    ["router/nat/rules"],
  ]);
  assert.deepEqual(names(plan, plan.deletes), [
    ["router/nat/rules"],
    ["router/vlan10/link/ens33.10", "router/vlan20/link/ens33.20"],
    ["router/trunk/promisc/ens33"],
    ["router/boot/unit"],
  ]);
});

interface Run {
  readonly name: string;
  readonly script: string;
  readonly stdin?: string;
}

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * Runs the scripts as concurrent processes, as the engine runs one group's steps: odd cycles start
 * them in reverse order and run them with bash (a usual root login shell) instead of sh, and the
 * cycle's START_GAPS_MS lie between the starts. Every run must succeed with nothing on stderr, and
 * all must have overlapped in time (the last started before the first ended).
 */
async function runTogether(box: HostSandbox, runs: readonly Run[], cycle: number, what: string): Promise<void> {
  const shell = cycle % 2 === 0 ? "sh" : "bash";
  const ordered = cycle % 2 === 0 ? runs : [...runs].reverse();
  const gap = START_GAPS_MS[cycle];
  const timed = await Promise.all(
    ordered.map(async (run, index) => {
      await sleep(index * gap);
      const started = performance.now();
      const result = await box.runAsync(run.script, { shell, input: run.stdin });
      return { run, started, ended: performance.now(), result };
    }),
  );
  for (const { run, result } of timed) {
    const context = `cycle ${cycle} (${shell}), ${what} of ${run.name}: exit ${result.status}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
    assert.equal(result.status, 0, context);
    assert.equal(result.stderr, "", context);
  }
  if (timed.length > 1) {
    const lastStart = Math.max(...timed.map((t) => t.started));
    const firstEnd = Math.min(...timed.map((t) => t.ended));
    assert.ok(lastStart < firstEnd, `cycle ${cycle}, ${what}: ${runs.map((r) => r.name).join(", ")} did not overlap in time`);
  }
}

async function runGroups(box: HostSandbox, plan: HostPlan, groups: string[][], phase: "create" | "delete", cycle: number, what: string) {
  for (const group of groups) {
    const runs = group.map((urn) => {
      const step = plan.steps.get(urn)!;
      return { name: step.name, script: phase === "create" ? step.create : step.delete, stdin: step.stdin };
    });
    await runTogether(box, runs, cycle, what);
  }
}

for (const host of ["host1", "router"]) {
  test(
    `${host}: its scripts run side by side as the engine runs them, a second pass of the creates changes nothing, the deletes restore the host (${CYCLES} cycles)`,
    { skip, timeout: 120_000 },
    async () => {
      const plan = hostPlan(evaluateDevStack(), host);
      await withHostSandbox({ ipForward: "0" }, async (box) => {
        trunkWithVethVlans(box, VLAN_LINKS);
        const before = box.snapshot();
        let created: string | undefined;
        for (let cycle = 0; cycle < CYCLES; cycle++) {
          await runGroups(box, plan, plan.creates, "create", cycle, "create");
          const now = box.snapshot();
          assert.notEqual(now, before, `cycle ${cycle}: the creates changed the host`);
          assert.equal(now, created ?? now, `cycle ${cycle}: the creates reach the state they reached in cycle 0`);
          created = now;

          await runGroups(box, plan, plan.creates, "create", cycle, "second create");
          assert.equal(box.snapshot(), created, `cycle ${cycle}: a second pass of the creates changes nothing`);

          await runGroups(box, plan, plan.deletes, "delete", cycle, "delete");
          assert.equal(box.snapshot(), before, `cycle ${cycle}: after the deletes the host equals its snapshot from before`);
        }
      });
    },
  );
}
