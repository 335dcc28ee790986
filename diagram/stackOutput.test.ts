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

/** Evaluates the dev stack under mocks in a throw-away project folder holding a fake key (the stack reads its key from .lab/). */
async function withDevStackEvaluated(body: () => Promise<void> | void): Promise<void> {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "stack-output-"));
  try {
    fs.mkdirSync(path.join(project, ".lab"));
    fs.writeFileSync(path.join(project, ".lab", "id_ed25519"), "not a real key\n", { mode: 0o600 });
    fs.writeFileSync(path.join(project, ".lab", "known_hosts"), FAKE_KNOWN_HOSTS);
    const evaluation = await evaluateProgram({ stackFile: DEV_STACK, cwd: project });
    assert.equal(evaluation.error, undefined);
    await body();
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
}

test("the program's stack output `diagram` is the dev stack's Mermaid text", async () => {
  await withDevStackEvaluated(async () => {
    const parsed = parseTopology(readStackConfig(DEV_STACK).raw);
    assert.ok(parsed.ok);
    const program = require(path.join(DIST, "index.js")) as { diagram: { apply: (f: (text: string) => void) => void } };
    const text = await new Promise<string>((resolve) => program.diagram.apply(resolve));
    assert.equal(text, renderMermaid(parsed.topology));
    assert.match(text, /^flowchart LR\n {2}subgraph host0\["host1 \(docker, 10\.213\.70\.11\)"\]\n/);
  });
});

test("the program's stack output `summary` is the dev stack's few lines (under mocks the checks report no probe)", async () => {
  await withDevStackEvaluated(async () => {
    const program = require(path.join(DIST, "index.js")) as { summary: { apply: (f: (text: string) => void) => void } };
    const text = await new Promise<string>((resolve) => program.summary.apply(resolve));
    assert.equal(text, [
      "3 hosts (2 docker, 1 router), 2 VLANs (10, 20), 4 containers",
      "  host1 (docker, 10.213.70.11): ens33.10 192.168.22.10/24, ens33.20 192.168.23.10/24; networks mac-net10, mac-net20; containers bbox10 172.18.0.2, bbox20 172.19.0.3",
      "  host2 (docker, 10.213.70.12): ens33.10 192.168.22.11/24, ens33.20 192.168.23.11/24; networks mac-net10, mac-net20; containers bbox30 172.18.0.5, bbox40 172.19.0.4",
      "  router (router, 10.213.70.13): ens33.10 172.18.0.1/24, ens33.20 172.19.0.1/24; ip_forward, FORWARD and MASQUERADE",
      "check: host1: no probe reported; host2: no probe reported",
      "",
    ].join("\n"));
  });
});
