// Test code: when the Pulumi engine runs each step, as pure functions over the dependency graph a
// deployment records. Each rule names its source (pulumi/pulumi, read at 1b5949891b3c):
//   [SG]  pkg/resource/deploy/step_generator.go: ScheduleDeletes
//   [DG]  pkg/resource/graph/dependency_graph.go: DependenciesOf
//   [EX]  pkg/resource/deploy/deployment_executor.go, step_executor.go: ExecuteParallel, and
//         `pulumi up --parallel` (pkg/cmd/pulumi/operations/up.go: default 0, unbounded)

/** One resource of a deployment as its dependency graph sees it (components and providers too). */
export interface GraphNode {
  urn: string;
  /** The parent's URN, "" for none. */
  parent: string;
  /** false for a component resource. */
  custom: boolean;
  /** Every recorded dependency (dependsOn and the inputs' dependencies). */
  dependencies: string[];
  /** The explicit provider's URN, if any. */
  provider?: string;
}

/**
 * [DG] DependenciesOf: what a resource needs to exist: its recorded dependencies, its provider and
 * its parent; a dependency on a component stands for that component's children too (transitively).
 */
export function dependenciesOf(node: GraphNode, graph: readonly GraphNode[]): Set<string> {
  const childrenOf = new Map<string, string[]>();
  for (const candidate of graph) {
    if (candidate.parent !== "") childrenOf.set(candidate.parent, [...(childrenOf.get(candidate.parent) ?? []), candidate.urn]);
  }
  const custom = new Map(graph.map((candidate) => [candidate.urn, candidate.custom]));
  const result = new Set<string>();
  const addWithChildren = (urn: string) => {
    result.add(urn);
    if (custom.get(urn) === false) {
      for (const child of childrenOf.get(urn) ?? []) {
        if (child !== node.urn && !result.has(child)) addWithChildren(child);
      }
    }
  };
  for (const dependency of node.dependencies) addWithChildren(dependency);
  if (node.provider !== undefined && node.provider !== "") result.add(node.provider);
  if (node.parent !== "") result.add(node.parent);
  result.delete(node.urn);
  return result;
}

/**
 * The resources in rounds: a round takes every resource left none of whose dependencies is still
 * left. Each round is in the graph's order, for stable output.
 */
function rounds(graph: readonly GraphNode[], urns: Iterable<string>, what: string): string[][] {
  const byUrn = new Map(graph.map((node) => [node.urn, node]));
  const left = new Set(urns);
  for (const urn of left) {
    if (!byUrn.has(urn)) throw new Error(`${what}: ${urn} is not in the graph`);
  }
  const needs = new Map([...left].map((urn) => [urn, dependenciesOf(byUrn.get(urn)!, graph)]));
  const result: string[][] = [];
  while (left.size > 0) {
    const round = graph.map((node) => node.urn).filter((urn) => left.has(urn) && ![...needs.get(urn)!].some((dep) => left.has(dep)));
    if (round.length === 0) throw new Error(`${what}: a dependency cycle among ${[...left].join(", ")}`);
    for (const urn of round) left.delete(urn);
    result.push(round);
  }
  return result;
}

/**
 * [SG] ScheduleDeletes: the condemned resources in antichains: each antichain's deletes run at once
 * ([EX] ExecuteParallel), and one antichain finishes before the next starts. Built backwards (a
 * round takes every condemned resource none of whose dependencies is still condemned), then reversed,
 * so dependents go first.
 */
export function scheduleDeletes(graph: readonly GraphNode[], condemned: Iterable<string>): string[][] {
  return rounds(graph, condemned, "scheduleDeletes").reverse();
}

/**
 * The creates of a fresh deployment in the groups that can run together: a resource is ready once
 * everything it depends on exists ([EX] each step starts when its registration arrives, and the SDK
 * registers a resource once its dependencies are done). Group n holds what is ready after groups 0..n-1.
 */
export function scheduleCreates(graph: readonly GraphNode[], wanted: Iterable<string>): string[][] {
  return rounds(graph, wanted, "scheduleCreates");
}

/**
 * `pulumi up --parallel N`: at most N steps at once, started in the order they became ready; 0 or
 * less is unbounded, the engine's default. 1 runs one step at a time.
 */
export class StepLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly parallel: number) {}

  async run<T>(step: () => Promise<T>): Promise<T> {
    if (this.parallel > 0 && this.running >= this.parallel) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await step();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }
}

/** MACVLAN_OVERLAY_E2E_PARALLEL: unset or 0 is unbounded (the engine's default); N limits; bad values are refused. */
export function parallelFromEnv(value: string | undefined): number {
  if (value === undefined || value === "") return 0;
  if (!/^\d+$/.test(value)) throw new Error(`MACVLAN_OVERLAY_E2E_PARALLEL ${JSON.stringify(value)}: not a whole number (0 or unset: unbounded, 1: one step at a time)`);
  return Number(value);
}
