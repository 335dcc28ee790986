// Turns the raw stack config into the typed Topology, or into every problem found in it at once.
// Pure (no Pulumi, no file system): the shape by the schema, the meaning by the rules.

import { assembleTopology } from "./assemble";
import { Findings } from "./problems";
import { RULES } from "./rules";
import { shapeConfig } from "./shape";
import type { ParseResult } from "./types";

export { formatProblems } from "./problems";

/** Validates the raw config (keys without the project prefix) and builds the Topology, or lists every problem. */
export function parseTopology(raw: unknown): ParseResult {
  const findings = new Findings();
  const config = shapeConfig(raw, findings);
  if (config === undefined) return { ok: false, problems: findings.problems };
  for (const rule of RULES) rule(config, findings);
  if (findings.problems.length > 0) return { ok: false, problems: findings.problems };
  return { ok: true, topology: assembleTopology(config) };
}
