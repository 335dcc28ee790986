// Test code: the steps the Pulumi engine takes to move a deployed stack to a new program's
// registrations, as a pure function. Each rule names its source:
//   [SG]  pulumi/pulumi pkg/resource/deploy/step_generator.go (read at 1b5949891b3c)
//   [CMD] pulumi/pulumi-command provider/pkg/provider/remote/command.go, commandController.go
//         (read at 010bd8e0dd8a): CommandInputs, Update, Delete
//   [DOCKER] pulumi-docker 5.x (bridged terraform-provider-docker): which inputs force a new resource
import type { DeployedResource, Deployment } from "./deployment";

export type StepOp = "same" | "update" | "replace" | "create" | "delete";

export interface Step {
  op: StepOp;
  urn: string;
  type: string;
  /**
   * For a replace: "delete" (the old one goes, before anything is created: delete-before-replace)
   * or "create" (the new one comes). A replace without delete-before-replace is create, then delete.
   */
  phase?: "delete" | "create";
  /** For commands: the script the step runs on the host ("create", "update" or "delete"). */
  runs?: "create" | "update" | "delete";
  /** Why: the changed inputs, or the resource this one is replaced with. */
  reason: string;
}

const COMMAND = "command:remote:Command";

/**
 * Input properties whose change the provider answers with a replacement.
 * [CMD] only `triggers` carries `replaceOnChanges`; every other change is an in-place update.
 * [DOCKER] every Network argument forces a new network; every Container argument does, except
 * the few updated in place (restart policy and resource limits); RemoteImage: its name and
 * pull triggers; RandomId: every argument [random provider: all ForceNew].
 */
export function replacingKeys(type: string, changed: readonly string[]): string[] {
  switch (type) {
    case COMMAND:
      return changed.filter((key) => key === "triggers");
    case "docker:index/network:Network":
    case "random:index/randomId:RandomId":
      return [...changed];
    case "docker:index/container:Container": {
      const inPlace = new Set(["restart", "cpuShares", "memory", "memorySwap", "cpuSet"]);
      return changed.filter((key) => !inPlace.has(key));
    }
    case "docker:index/remoteImage:RemoteImage":
      return changed.filter((key) => key === "name" || key === "pullTriggers");
    default:
      return [...changed];
  }
}

const UNKNOWN = { unknown: true } as const;

function changedKeys(oldInputs: Record<string, unknown>, newInputs: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(oldInputs), ...Object.keys(newInputs)]);
  return [...keys].filter((key) => JSON.stringify(oldInputs[key]) !== JSON.stringify(newInputs[key])).sort();
}

/** [SG] processIgnoreChanges: an ignored property keeps its old value, if it had one. */
function withIgnoredChanges(resource: DeployedResource, old: DeployedResource): Record<string, unknown> {
  const inputs = { ...resource.inputs };
  for (const key of resource.ignoreChanges) {
    if (key in old.inputs) {
      inputs[key] = old.inputs[key];
    } else {
      delete inputs[key];
    }
  }
  return inputs;
}

/** [SG] getOldResource: the old resource under the new URN, else under one of its aliases. */
function findOld(previous: Map<string, DeployedResource>, resource: DeployedResource): DeployedResource | undefined {
  return previous.get(resource.urn) ?? resource.aliases.map((alias) => previous.get(alias)).find((old) => old !== undefined);
}

/**
 * [SG] calculateDependentReplacements: the transitive dependents of `root` (by the OLD state's
 * recorded dependencies) that a delete-before-replace of root replaces too. A dependent is replaced
 * when an input that depends (propertyDependencies) on a replaced resource, set to unknown, makes
 * its provider answer "replace"; a dependency without an input (dependsOn only) never cascades.
 * Returned in dependency order.
 */
function dependentReplacements(root: DeployedResource, previous: Deployment): DeployedResource[] {
  const replaced = new Set([root.urn]);
  const result: DeployedResource[] = [];
  for (const candidate of previous) {
    if (candidate.urn === root.urn || !candidate.dependencies.some((dep) => replaced.has(dep))) {
      continue;
    }
    const unknownInputs = Object.entries(candidate.propertyDependencies)
      .filter(([, deps]) => deps.some((dep) => replaced.has(dep)))
      .map(([key]) => key);
    if (unknownInputs.length === 0) {
      continue;
    }
    const probe = { ...candidate.inputs, ...Object.fromEntries(unknownInputs.map((key) => [key, UNKNOWN])) };
    if (replacingKeys(candidate.type, changedKeys(candidate.inputs, probe)).length > 0) {
      replaced.add(candidate.urn);
      result.push(candidate);
    }
  }
  return result;
}

/**
 * The steps of `pulumi up` from `previous` (the deployed state, in the order it was created) to
 * `next` (the new program's registrations, in registration order):
 * - [SG] generateSteps: a registration with an old resource (by URN or alias) and equal inputs is
 *   `same`; changed inputs are an `update` unless the provider asks for a replacement; none is `create`.
 *   [CMD] Update runs the `update` script if set, else `create`.
 * - [SG] continueStepsFromDiff: a replacement with deleteBeforeReplace first deletes, in reverse
 *   dependency order, the dependents calculateDependentReplacements finds, then the resource itself;
 *   then creates it; each dependent is created again when its own registration comes.
 *   Without deleteBeforeReplace the new one is created first and the old one deleted at the end.
 * - [SG] GenerateDeletes: old resources no registration claimed are deleted after every
 *   registration, dependents first (reverse of the order they were created).
 *   [CMD] Delete runs the `delete` script stored with the last apply.
 */
export function planSteps(previous: Deployment, next: Deployment): Step[] {
  const previousByUrn = new Map(previous.map((resource) => [resource.urn, resource]));
  const claimed = new Set<string>();
  const condemned = new Map<string, string>();
  const steps: Step[] = [];
  const lateDeletes: Step[] = [];
  const nextUrns = new Map<string, string>();

  for (const resource of next) {
    const old = findOld(previousByUrn, resource);
    if (old === undefined) {
      steps.push({ op: "create", urn: resource.urn, type: resource.type, runs: runsFor(resource.type, "create"), reason: "new" });
      continue;
    }
    claimed.add(old.urn);
    nextUrns.set(old.urn, resource.urn);
    if (condemned.has(old.urn)) {
      steps.push({
        op: "replace", phase: "create", urn: resource.urn, type: resource.type,
        runs: runsFor(resource.type, "create"), reason: `replaced with ${condemned.get(old.urn)}`,
      });
      continue;
    }
    const inputs = withIgnoredChanges(resource, old);
    const changed = changedKeys(old.inputs, inputs);
    if (changed.length === 0) {
      steps.push({ op: "same", urn: resource.urn, type: resource.type, reason: "inputs unchanged" });
      continue;
    }
    const replacing = replacingKeys(resource.type, changed);
    if (replacing.length === 0) {
      steps.push({
        op: "update", urn: resource.urn, type: resource.type,
        runs: runsFor(resource.type, resource.inputs.update !== undefined ? "update" : "create"),
        reason: `changed: ${changed.join(", ")}`,
      });
      continue;
    }
    const reason = `replace: ${replacing.join(", ")}`;
    if (resource.deleteBeforeReplace) {
      const dependents = dependentReplacements(old, previous).filter((dependent) => !condemned.has(dependent.urn));
      for (const dependent of [...dependents].reverse()) {
        condemned.set(dependent.urn, old.urn);
        steps.push({
          op: "replace", phase: "delete", urn: dependent.urn, type: dependent.type,
          runs: runsFor(dependent.type, "delete"), reason: `replaced with ${old.urn}`,
        });
      }
      steps.push({ op: "replace", phase: "delete", urn: old.urn, type: old.type, runs: runsFor(old.type, "delete"), reason });
      steps.push({ op: "replace", phase: "create", urn: resource.urn, type: resource.type, runs: runsFor(resource.type, "create"), reason });
    } else {
      steps.push({ op: "replace", phase: "create", urn: resource.urn, type: resource.type, runs: runsFor(resource.type, "create"), reason });
      lateDeletes.push({ op: "replace", phase: "delete", urn: old.urn, type: old.type, runs: runsFor(old.type, "delete"), reason });
    }
  }

  const deletes = [...previous]
    .reverse()
    .filter((resource) => !claimed.has(resource.urn))
    .map((resource): Step => ({ op: "delete", urn: resource.urn, type: resource.type, runs: runsFor(resource.type, "delete"), reason: "no longer registered" }));
  return [...steps, ...lateDeletes, ...deletes];
}

function runsFor(type: string, script: "create" | "update" | "delete"): Step["runs"] {
  return type === COMMAND ? script : undefined;
}

/** The steps that change something (everything but `same`). */
export function changes(steps: readonly Step[]): Step[] {
  return steps.filter((step) => step.op !== "same");
}
