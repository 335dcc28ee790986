import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderMermaid } from "../diagram";
import { diagramCommandLine } from "./diagram";
import { loadStackTopology, validateStackFile } from "./validate";

// Compiled to dist/tools/, two levels below the project root.
const DEV_STACK = path.join(__dirname, "..", "..", "Pulumi.dev.yaml");
const CLI = path.join(__dirname, "diagram.js");
const USAGE = "usage: npm run diagram -- Pulumi.<stack>.yaml [--out <file.svg>] [--readme <README.md>]\n";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "diagram-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const dotMissing = spawnSync("dot", ["-V"]).error !== undefined;
if (dotMissing && process.env.MACVLAN_OVERLAY_E2E === "required") {
  throw new Error("SVG tests required (MACVLAN_OVERLAY_E2E=required) but Graphviz dot is not installed");
}
const needsDot = dotMissing ? "Graphviz dot is not installed (apt-get install graphviz)" : undefined;

function devMermaid(): string {
  const loaded = loadStackTopology(DEV_STACK);
  assert.ok(loaded.ok, "the dev stack must validate");
  return renderMermaid(loaded.topology);
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env });
}

test("the command prints the dev stack's Mermaid and writes the SVG where --out says", { skip: needsDot }, () => {
  const svg = path.join(scratch, "dev.svg");
  const result = run([DEV_STACK, "--out", svg]);
  assert.deepEqual([result.status, result.stdout, result.stderr], [0, devMermaid(), `wrote ${svg}\n`]);
  const text = fs.readFileSync(svg, "utf8");
  assert.match(text, /<svg /);
  for (const label of ["host1 (docker, 10.213.70.11)", "bbox40", "172.19.0.4", "MASQUERADE + FORWARD", "VLAN 20"]) {
    assert.ok(text.includes(`>${label}</text>`), `the SVG shows ${label}`);
  }
});

test("without --out the SVG goes beside the stack file, named after it", { skip: needsDot }, () => {
  const stack = path.join(scratch, "Pulumi.copy.yaml");
  fs.copyFileSync(DEV_STACK, stack);
  const result = run([stack]);
  const svg = path.join(scratch, "Pulumi.copy.svg");
  assert.deepEqual([result.status, result.stderr], [0, `wrote ${svg}\n`]);
  assert.match(fs.readFileSync(svg, "utf8"), /<svg /);
});

test("without Graphviz the Mermaid is still printed and the SVG is reported skipped", () => {
  const svg = path.join(scratch, "never.svg");
  const result = run([DEV_STACK, "--out", svg], { ...process.env, PATH: path.join(scratch, "empty-path") });
  assert.deepEqual(
    [result.status, result.stdout, result.stderr],
    [0, devMermaid(), "SVG skipped: Graphviz dot is not installed (apt-get install graphviz)\n"],
  );
  assert.equal(fs.existsSync(svg), false);
});

test("a dot that fails makes the command exit 2, naming it and its error", () => {
  const failingDot = path.join(scratch, "failing-dot");
  fs.writeFileSync(failingDot, "#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 3\n", { mode: 0o755 });
  const report = diagramCommandLine([DEV_STACK, "--out", path.join(scratch, "x.svg")], { dot: failingDot });
  assert.deepEqual(report, {
    exitCode: 2,
    stdout: devMermaid(),
    stderr: `SVG not written: ${failingDot} failed: syntax error in line 1\n`,
  });
});

test("a broken stack gets validate's report and exit 1, with nothing on stdout and no SVG", () => {
  const text = fs.readFileSync(DEV_STACK, "utf8");
  assert.ok(text.includes("ip: 172.18.0.5"), "the dev stack no longer holds bbox30's address");
  const stack = path.join(scratch, "Pulumi.broken.yaml");
  fs.writeFileSync(stack, text.replace("ip: 172.18.0.5", "ip: 172.18.0.1"));

  const result = run([stack]);
  assert.deepEqual(
    [result.status, result.stdout, result.stderr],
    [1, "", `hosts[1].containers[0].ip 172.18.0.1: is the gateway of vlan 10\n${stack}: 1 problem\n`],
  );
  assert.equal(result.stderr, `${validateStackFile(stack).output}\n`);
  assert.equal(fs.existsSync(path.join(scratch, "Pulumi.broken.svg")), false);
});

test("a missing file and a wrong command line exit 2", () => {
  assert.deepEqual(diagramCommandLine(["Pulumi.nothere.yaml"]), {
    exitCode: 2,
    stdout: "",
    stderr: "Pulumi.nothere.yaml: no such file\n",
  });
  for (const args of [[], ["a.yaml", "b.yaml"], ["--stack"], [DEV_STACK, "--out"], [DEV_STACK, "--readme", "--out"]]) {
    assert.deepEqual(diagramCommandLine(args), { exitCode: 2, stdout: "", stderr: USAGE }, JSON.stringify(args));
  }
  assert.deepEqual(diagramCommandLine(["--help"]), { exitCode: 0, stdout: USAGE, stderr: "" });
});

test("--readme rewrites the file's first mermaid block with the stack's diagram", () => {
  const readme = path.join(scratch, "README.md");
  fs.writeFileSync(readme, "# x\n\n```mermaid\nflowchart LR\n  old --- picture\n```\n\nafter\n");
  const report = diagramCommandLine([DEV_STACK, "--readme", readme, "--out", path.join(scratch, "r.svg")], {
    dot: path.join(scratch, "no-dot-here"),
  });
  assert.equal(report.exitCode, 0);
  assert.equal(report.stderr, `SVG skipped: Graphviz ${path.join(scratch, "no-dot-here")} is not installed (apt-get install graphviz)\nupdated the mermaid block of ${readme}\n`);
  assert.equal(fs.readFileSync(readme, "utf8"), `# x\n\n\`\`\`mermaid\n${devMermaid()}\`\`\`\n\nafter\n`);
});
