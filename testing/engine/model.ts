// Test code: the steps the Pulumi engine takes to move a deployed stack to a new program's
// registrations, as a pure function. Each rule names its source:
//   [SG]  pulumi/pulumi pkg/resource/deploy/step_generator.go (read at 1b5949891b3c)
//   [CMD] pulumi/pulumi-command provider/pkg/provider/remote/command.go, commandController.go
//         (read at 010bd8e0dd8a): CommandInputs, Update, Delete
//   [DOCKER] pulumi-docker 5.1.0 (provider/resources.go at e944612c), bridging
//            kreuzwerker/terraform-provider-docker v4.5.0: which inputs force a new resource
//   [RANDOM] pulumi-random 4.21 bridging terraform-provider-random v3.9.0
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
 * [DOCKER] docker_container arguments that are not ForceNew (kreuzwerker/terraform-provider-docker
 * v4.5.0, internal/provider/resource_docker_container.go, bridged by pulumi-docker 5.x): every
 * other container argument replaces the container.
 */
const CONTAINER_IN_PLACE = new Set([
  "rm", "start", "wait", "waitTimeout", "attach", "logs", "mustRun", "restart", "maxRetryCount", "removeVolumes",
  "tmpfs", "deviceReadBps", "deviceReadIops", "deviceWriteBps", "deviceWriteIops", "destroyGraceSeconds", "memory",
  "memoryReservation", "memorySwap", "cpuShares", "cpuSet", "healthcheck", "containerReadRefreshTimeoutMilliseconds",
  "init", "cpuPeriod", "cpuQuota",
]);

/** [DOCKER] docker_image (RemoteImage): name, pull triggers, triggers and platform are ForceNew. */
const IMAGE_REPLACING = new Set(["name", "pullTriggers", "triggers", "platform"]);

/**
 * Input properties whose change the provider answers with a replacement.
 * [CMD] only `triggers` carries `replaceOnChanges` (provider/pkg/provider/common/inputs.go); every
 * other change, the connection and stdin included, is an in-place update.
 * [DOCKER] docker_network has no update: every argument is ForceNew. Containers: see
 * CONTAINER_IN_PLACE. [RANDOM] random_id (terraform-provider-random v3.9.0, resource_id.go):
 * byte_length, prefix and keepers require replacement.
 * A change of a Docker provider's `host` is an update of the provider, not a replacement
 * (pulumi-terraform-bridge DiffConfig replaces only on ForcesProviderReplace, which pulumi-docker
 * sets on no key), so it replaces none of its resources.
 */
export function replacingKeys(type: string, changed: readonly string[]): string[] {
  switch (type) {
    case COMMAND:
      return changed.filter((key) => key === "triggers");
    case "docker:index/network:Network":
    case "random:index/randomId:RandomId":
      return [...changed];
    case "docker:index/container:Container":
      return changed.filter((key) => !CONTAINER_IN_PLACE.has(key));
    case "docker:index/remoteImage:RemoteImage":
      return changed.filter((key) => IMAGE_REPLACING.has(key));
    default:
      return [...changed];
  }
}

/**
 * Whether a replacement deletes first: the resource's own option, or the provider's default
 * ([DOCKER] pulumi-docker provider/resources.go sets DeleteBeforeReplace for docker_container).
 */
function deletesBeforeReplace(resource: DeployedResource): boolean {
  return resource.deleteBeforeReplace || resource.type === "docker:index/container:Container";
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
 * The engine's step generation for one `pulumi up`, fed one registration at a time in the order the
 * program registers them (as the engine receives them), then `finish()` for what no registration
 * claimed:
 * - [SG] generateSteps: a registration with an old resource (by URN or alias) and equal inputs is
 *   `same`; changed inputs are an `update` unless the provider asks for a replacement; none is `create`.
 *   [CMD] Update runs the `update` script if set, else `create`.
 * - [SG] continueStepsFromDiff: a replacement with deleteBeforeReplace first deletes, in reverse
 *   dependency order, the dependents calculateDependentReplacements finds, then the resource itself;
 *   then creates it; each dependent is created again when its own registration comes.
 *   Without deleteBeforeReplace the new one is created first and the old one deleted at the end.
 * - [SG] GenerateDeletes: old resources no registration claimed are deleted after every
 *   registration, dependents first (reverse of the order they were created).
 *   [CMD] Delete runs the `delete` script, connection and stdin stored with the last apply
 *   (commandController.go Delete reads req.State); Update runs with the new inputs.
 */
export class StepGenerator {
  private readonly previousByUrn: Map<string, DeployedResource>;
  private readonly claimed = new Set<string>();
  private readonly condemned = new Map<string, string>();
  private readonly lateDeletes: Step[] = [];

  /**
   * `replace`: the URNs of `pulumi up --replace` ([SG] generateSteps: a resource in the deployment's
   * ReplaceTargets is replaced even when its inputs are unchanged).
   */
  constructor(private readonly previous: Deployment, private readonly replaceTargets: ReadonlySet<string> = new Set()) {
    this.previousByUrn = new Map(previous.map((resource) => [resource.urn, resource]));
  }

  /** The old resource a registration takes over (by URN or alias), if any. */
  oldOf(resource: DeployedResource): DeployedResource | undefined {
    return findOld(this.previousByUrn, resource);
  }

  /** The old resource under a URN of the previous state. */
  previousAt(urn: string): DeployedResource | undefined {
    return this.previousByUrn.get(urn);
  }

  /** The steps one registration causes, in the order the engine runs them. */
  register(resource: DeployedResource): Step[] {
    const old = findOld(this.previousByUrn, resource);
    if (old === undefined) {
      return [{ op: "create", urn: resource.urn, type: resource.type, runs: runsFor(resource.type, "create"), reason: "new" }];
    }
    this.claimed.add(old.urn);
    const condemnedBy = this.condemned.get(old.urn);
    if (condemnedBy !== undefined) {
      return [{
        op: "replace", phase: "create", urn: resource.urn, type: resource.type,
        runs: runsFor(resource.type, "create"), reason: `replaced with ${condemnedBy}`,
      }];
    }
    const changed = changedKeys(old.inputs, withIgnoredChanges(resource, old));
    const forced = this.replaceTargets.has(old.urn);
    if (changed.length === 0 && !forced) {
      return [{ op: "same", urn: resource.urn, type: resource.type, reason: "inputs unchanged" }];
    }
    const replacing = forced ? ["--replace", ...changed] : replacingKeys(resource.type, changed);
    if (replacing.length === 0) {
      return [{
        op: "update", urn: resource.urn, type: resource.type,
        runs: runsFor(resource.type, resource.inputs.update !== undefined ? "update" : "create"),
        reason: `changed: ${changed.join(", ")}`,
      }];
    }
    const reason = `replace: ${replacing.join(", ")}`;
    const create: Step = { op: "replace", phase: "create", urn: resource.urn, type: resource.type, runs: runsFor(resource.type, "create"), reason };
    const deleteOld: Step = { op: "replace", phase: "delete", urn: old.urn, type: old.type, runs: runsFor(old.type, "delete"), reason };
    if (!deletesBeforeReplace(resource)) {
      this.lateDeletes.push(deleteOld);
      return [create];
    }
    const steps: Step[] = [];
    const dependents = dependentReplacements(old, this.previous).filter((dependent) => !this.condemned.has(dependent.urn));
    for (const dependent of [...dependents].reverse()) {
      this.condemned.set(dependent.urn, old.urn);
      steps.push({
        op: "replace", phase: "delete", urn: dependent.urn, type: dependent.type,
        runs: runsFor(dependent.type, "delete"), reason: `replaced with ${old.urn}`,
      });
    }
    return [...steps, deleteOld, create];
  }

  /** After the last registration: the replaced resources' late deletes, then what nothing claimed. */
  finish(): Step[] {
    const deletes = [...this.previous]
      .reverse()
      .filter((resource) => !this.claimed.has(resource.urn))
      .map((resource): Step => ({ op: "delete", urn: resource.urn, type: resource.type, runs: runsFor(resource.type, "delete"), reason: "no longer registered" }));
    return [...this.lateDeletes, ...deletes];
  }
}

/** The steps of `pulumi up` from `previous` (the deployed state, in the order it was created) to `next`. */
export function planSteps(previous: Deployment, next: Deployment): Step[] {
  const generator = new StepGenerator(previous);
  return [...next.flatMap((resource) => generator.register(resource)), ...generator.finish()];
}

function runsFor(type: string, script: "create" | "update" | "delete"): Step["runs"] {
  return type === COMMAND ? script : undefined;
}

/** The steps that change something (everything but `same`). */
export function changes(steps: readonly Step[]): Step[] {
  return steps.filter((step) => step.op !== "same");
}
