// What a host should hold according to the topology, as the doctor checks it: each concern of the
// host's plan (components/plan.ts) with the facts it expects, each with the exact text the host's
// facts script prints when the item is as it should be.

import { type Expectation, planHost, plannedFacts } from "../components/plan";
import type { Host, Topology } from "../topology";

export type { Expectation, Fact } from "../components/plan";

/** Container name → MAC, from the stack's exported outputs (`pulumi stack output --json`). */
export type KnownMacs = ReadonlyMap<string, string>;

/** The items of a host's plan, in report order; a container's MAC is filled from `macs` where the outputs have it. */
export function expectedHostState(topology: Topology, host: Host, macs: KnownMacs = new Map()): Expectation[] {
  return [
    ...plannedFacts(planHost(topology, host)).map(({ item, expected, fact, macFromOutputs }) => {
      const mac = fact.kind === "container" && macFromOutputs === true ? macs.get(fact.name) : undefined;
      return { item, expected: mac === undefined ? expected : `${expected.slice(0, -1)}${mac}`, fact };
    }),
    // A host that reverted an unconfirmed update (components/scripts/confirm.ts) holds the old inputs.
    { item: "commit confirmed", expected: NOTHING_ARMED, fact: { kind: "revert" } },
  ];
}

/** The revert fact of a host with no update armed or reverted. */
export const NOTHING_ARMED = "nothing armed or reverted";

/** An item's verdict: the found text equals the expected one ("*" matches any MAC). */
export function matches(expected: string, found: string): boolean {
  if (!expected.endsWith(" *")) {
    return expected === found;
  }
  const prefix = expected.slice(0, -1);
  return found.startsWith(prefix) && !found.slice(prefix.length).includes(" ");
}
