import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readStackConfig } from "../config/stackFile";
import { FAKE_KNOWN_HOSTS } from "../testing/stackEvaluation";
import { evaluateProgram } from "../testing/programHarness";
import { parseTopology } from "../topology";
import { renderMermaid } from "./index";

// Compiled to dist/diagram/, two levels below the project root.
const DIST = path.join(__dirname, "..");
const DEV_STACK = path.join(DIST, "..", "Pulumi.dev.yaml");

test("the program's stack output `diagram` is the dev stack's Mermaid text", async () => {
  // The dev stack reads its key from .lab/; a throw-away project folder holds a fake one.
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "diagram-output-"));
  try {
    fs.mkdirSync(path.join(project, ".lab"));
    fs.writeFileSync(path.join(project, ".lab", "id_ed25519"), "not a real key\n", { mode: 0o600 });
    fs.writeFileSync(path.join(project, ".lab", "known_hosts"), FAKE_KNOWN_HOSTS);
    const evaluation = await evaluateProgram({ stackFile: DEV_STACK, cwd: project });
    assert.equal(evaluation.error, undefined);

    const parsed = parseTopology(readStackConfig(DEV_STACK).raw);
    assert.ok(parsed.ok);
    const program = require(path.join(DIST, "index.js")) as { diagram?: unknown };
    assert.equal(program.diagram, renderMermaid(parsed.topology));
    assert.match(String(program.diagram), /^flowchart LR\n {2}subgraph host0\["host1 \(docker, 10\.213\.70\.11\)"\]\n/);
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
});
