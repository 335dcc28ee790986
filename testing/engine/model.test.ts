// The engine model on the dev stack: what `pulumi up` would do for the config changes users make.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import { ADDRESS, MASQUERADE_OFF, VLAN_20_TO_30 } from "../stackEdits";
import { DEV_STACK, evaluate, evaluateEditedDevStack, fakeProjectDir, PROJECT_ROOT } from "../stackEvaluation";
import { type Deployment, deploymentFromEvaluation } from "./deployment";
import { changes, planSteps, StepGenerator, type Step } from "./model";

const nameOf = (urn: string) => urn.split("::").pop()!;
const summary = (steps: readonly Step[]) =>
  steps.map((step) => `${step.op}${step.phase ? `(${step.phase})` : ""} ${nameOf(step.urn)}${step.runs ? ` runs ${step.runs}` : ""}`);
const CHECKS = new Set(["host1/check/ping", "host2/check/ping"]);
/** Each host's Confirm (commit confirmed): it runs after the checks and again whenever its host's commands change. */
const isConfirm = (urn: string) => nameOf(urn).endsWith("/confirm");
const notChecks = (steps: readonly Step[]) => steps.filter((step) => !CHECKS.has(nameOf(step.urn)) && !isConfirm(step.urn));

describe("the engine model on the dev stack", () => {
  let cwd: string;
  let deployed: Deployment;
  before(() => {
    cwd = fakeProjectDir();
    deployed = deploymentFromEvaluation(evaluate({ stackFile: DEV_STACK, cwd }));
  });

  test("the same config again changes nothing, and the check does not re-run", () => {
    const again = deploymentFromEvaluation(evaluate({ stackFile: DEV_STACK, cwd }));
    assert.deepEqual(summary(changes(planSteps(deployed, again))), []);
  });

  test("a host's VLAN address change updates only that link command in place; the checks re-run", () => {
    const next = deploymentFromEvaluation(evaluateEditedDevStack(cwd, ADDRESS));
    const steps = changes(planSteps(deployed, next));
    assert.deepEqual(summary(notChecks(steps)), ["update host1/vlan10/link/ens33.10 runs create"]);
    assert.deepEqual(summary(steps.filter((s) => CHECKS.has(nameOf(s.urn)))).sort(), [
      "replace(create) host1/check/ping runs create",
      "replace(create) host2/check/ping runs create",
      "replace(delete) host1/check/ping runs delete",
      "replace(delete) host2/check/ping runs delete",
    ]);
  });

  test("masquerade off updates only the router's rules in place", () => {
    const next = deploymentFromEvaluation(evaluateEditedDevStack(cwd, MASQUERADE_OFF));
    assert.deepEqual(summary(notChecks(changes(planSteps(deployed, next)))), ["update router/nat/rules runs create"]);
  });

  test("a host's new SSH port updates its commands in place (against the new port); nothing is replaced", () => {
    const next = deploymentFromEvaluation(evaluateEditedDevStack(cwd, [["address: 10.213.70.13\n", "address: 10.213.70.13\n      port: 2222\n"]]));
    assert.deepEqual(summary(notChecks(changes(planSteps(deployed, next)))), [
      "update router/boot/unit runs create",
      "update router/trunk/promisc/ens33 runs create",
      "update router/vlan10/link/ens33.10 runs create",
      "update router/vlan20/link/ens33.20 runs create",
      "update router/nat/rules runs create",
    ]);
  });

  test("a VLAN id change: the new link first, then the network and its containers replaced (deleted first, in order), the old link last", () => {
    const next = deploymentFromEvaluation(
      evaluateEditedDevStack(cwd, VLAN_20_TO_30),
    );
    const steps = summary(notChecks(changes(planSteps(deployed, next))));
    assert.deepEqual([...steps].sort(), [
      "create host1/vlan30/link/ens33.30 runs create",
      "create host2/vlan30/link/ens33.30 runs create",
      "create router/vlan30/link/ens33.30 runs create",
      "delete host1/vlan20/link/ens33.20 runs delete",
      "delete host2/vlan20/link/ens33.20 runs delete",
      "delete router/vlan20/link/ens33.20 runs delete",
      "replace(create) host1/container/bbox20/container",
      "replace(create) host1/network/mac-net20/network",
      "replace(create) host2/container/bbox40/container",
      "replace(create) host2/network/mac-net20/network",
      "replace(delete) host1/container/bbox20/container",
      "replace(delete) host1/network/mac-net20/network",
      "replace(delete) host2/container/bbox40/container",
      "replace(delete) host2/network/mac-net20/network",
      "update router/nat/rules runs create",
    ]);
    const at = (step: string) => steps.indexOf(step);
    for (const [host, container] of [["host1", "bbox20"], ["host2", "bbox40"]]) {
      const order = [
        `create ${host}/vlan30/link/ens33.30 runs create`,
        `replace(delete) ${host}/container/${container}/container`,
        `replace(delete) ${host}/network/mac-net20/network`,
        `replace(create) ${host}/network/mac-net20/network`,
        `replace(create) ${host}/container/${container}/container`,
        `delete ${host}/vlan20/link/ens33.20 runs delete`,
      ];
      for (let k = 1; k < order.length; k++) {
        assert.ok(at(order[k - 1]) < at(order[k]), `${order[k - 1]} before ${order[k]}`);
      }
      assert.ok(at(`delete ${host}/vlan20/link/ens33.20 runs delete`) > at("update router/nat/rules runs create"));
    }
  });

  test("a renamed container keeping its key is replaced in place, the old one deleted first; its MAC stays", () => {
    const next = deploymentFromEvaluation(evaluateEditedDevStack(cwd, [["{ name: bbox30, vlan: 10", "{ name: bbox31, key: bbox30, vlan: 10"]]));
    assert.deepEqual(summary(notChecks(changes(planSteps(deployed, next)))), [
      "replace(delete) host2/container/bbox30/container",
      "replace(create) host2/container/bbox30/container",
    ]);
  });

  test("--replace of an unchanged container replaces it, deleted first; nothing else on the hosts changes", () => {
    const again = deploymentFromEvaluation(evaluate({ stackFile: DEV_STACK, cwd }));
    const target = deployed.find((r) => nameOf(r.urn) === "host2/container/bbox30/container")!;
    const generator = new StepGenerator(deployed, new Set([target.urn]));
    const steps = [...again.flatMap((resource) => generator.register(resource)), ...generator.finish()];
    assert.deepEqual(summary(notChecks(changes(steps))), [
      "replace(delete) host2/container/bbox30/container",
      "replace(create) host2/container/bbox30/container",
    ]);
    assert.equal(steps.find((step) => step.phase === "delete" && step.urn === target.urn)!.reason, "replace: --replace");
  });

  test("a stack deployed by 593ec9a upgrades without replacing or deleting anything on the hosts", () => {
    const old = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "testing", "engine", "fixtures", "dev-593ec9a.json"), "utf8")) as Deployment;
    const previous = Object.fromEntries(old.map((r) => [r.urn, { id: r.id, outputs: r.outputs }]));
    const next = deploymentFromEvaluation(evaluate({ stackFile: DEV_STACK, cwd, previous }));
    const steps = changes(planSteps(old, next));
    const updates = steps.filter((s) => s.op === "update").map((s) => `${nameOf(s.urn)} runs ${s.runs}`).sort();
    assert.deepEqual(updates, [
      "host1/trunk/promisc/ens33 runs create", "host1/vlan10/link/ens33.10 runs create", "host1/vlan20/link/ens33.20 runs create",
      "host2/trunk/promisc/ens33 runs create", "host2/vlan10/link/ens33.10 runs create", "host2/vlan20/link/ens33.20 runs create",
      "router/nat/rules runs create",
      "router/trunk/promisc/ens33 runs create", "router/vlan10/link/ens33.10 runs create", "router/vlan20/link/ens33.20 runs create",
    ]);
    const others = summary(steps.filter((s) => s.op !== "update")).sort();
    // Only the boot unit (new: it brings the overlay back after a reboot) and new read-only checks
    // are created, and the connectivity checks re-run (they change nothing).
    assert.deepEqual(others, [
      "create host1/boot/unit runs create",
      "create host1/confirm runs create",
      "create host1/docker-engine runs create",
      "create host2/boot/unit runs create",
      "create host2/confirm runs create",
      "create host2/docker-engine runs create",
      "create router/boot/unit runs create",
      "create router/confirm runs create",
      "replace(create) host1/check/ping runs create",
      "replace(create) host2/check/ping runs create",
      "replace(delete) host1-check-ping runs delete",
      "replace(delete) host2-check-ping runs delete",
    ]);
  });

  test("a stack deployed by ea7be6b (before the per-host plan and the script builder) upgrades with updates in place only: every URN taken over by alias, nothing created, replaced or deleted on the hosts", () => {
    const old = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "testing", "engine", "fixtures", "dev-ea7be6b.json"), "utf8")) as Deployment;
    const previous = Object.fromEntries(old.map((r) => [r.urn, { id: r.id, outputs: r.outputs }]));
    const next = deploymentFromEvaluation(evaluate({ stackFile: DEV_STACK, cwd, previous }));
    // The component is the package's MacvlanOverlay now: each resource finds its old URN among the
    // aliases it inherits from the component's alias to overlay:index:Overlay.
    const oldUrns = new Set(old.map((r) => r.urn));
    // Each host's Confirm is new since (commit confirmed); it changes nothing that no update armed.
    const kept = next.filter((r) => !isConfirm(r.urn));
    const takenOver = kept.map((r) => [r.urn, ...r.aliases].filter((urn) => oldUrns.has(urn)));
    assert.deepEqual(takenOver.map((urns) => urns.length), kept.map(() => 1), "each new resource takes over exactly one old one");
    assert.deepEqual(takenOver.flat().sort(), [...oldUrns].sort(), "every old URN");
    assert.deepEqual(kept.map((r) => r.urn.replace("::macvlan-overlay:index:MacvlanOverlay$", "::overlay:index:Overlay$")), takenOver.flat(), "under its old URN, by name");
    const steps = changes(planSteps(old, next));
    // The read-only checks may re-run (replaced when what they verify changed); they change nothing on a host.
    assert.deepEqual(summary(notChecks(steps)).filter((line) => !line.startsWith("update ")), []);
  });
});
