// Turns the raw stack config into the typed Topology, or into every problem found in it at once.
// Pure (no Pulumi, no file system): the shape by the schema, the meaning by the rules.

import { assembleTopology } from "./assemble";
import { isUnder, reportPastedKeys } from "./pastedKeys";
import { Findings } from "./problems";
import { RULES } from "./rules";
import { shapeConfig } from "./shape";
import type { ConfigProblem, ParseResult } from "./types";

export { formatProblems } from "./problems";

/** Validates the raw config (keys without the project prefix) and builds the Topology, or lists every problem. */
export function parseTopology(raw: unknown): ParseResult {
  const findings = new Findings();
  // First: a pasted private key matters more than anything else wrong with its key.
  const pasted = reportPastedKeys(raw, findings);
  const config = shapeConfig(raw, findings);
  if (config !== undefined) for (const rule of RULES) rule(config, findings);
  if (config === undefined || findings.problems.length > 0) return { ok: false, problems: withoutRepeats(findings.problems, pasted) };
  return { ok: true, topology: assembleTopology(config) };
}

/** A key that holds a pasted private key gets that one problem: the others would only repeat it. */
function withoutRepeats(problems: readonly ConfigProblem[], pasted: readonly string[]): ConfigProblem[] {
  return problems.filter((problem, index) => index < pasted.length || !isUnder(problem.path, pasted));
}
