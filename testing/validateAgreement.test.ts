// `npm run validate` and `pulumi up` give one verdict: every stack file of testing/stackCorpus/, good
// and bad, is checked by validate's code and evaluated by the program under mocks, each from the same
// project folder (fake key and known_hosts files); both say ok, or both name the same problems in the
// same words. ESC-imported values are left out: the program gets them as config, validate cannot read them.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { readStackConfig } from "../config/stackFile";
import { validateStack } from "../tools/validate";
import type { EvaluateOptions, Evaluation } from "./programHarness";
import { fakeProjectDir, PROJECT_ROOT } from "./stackEvaluation";

const CORPUS = path.join(PROJECT_ROOT, "testing", "stackCorpus");
const CLI = path.join(__dirname, "evaluateCli.js");
const PROGRAM_STOPS = "invalid stack configuration:\n";
// Key material in the corpus: no verdict may show any of it.
const KEY_TEXT = /BEGIN|b3BlbnNzaC1|MIIEpAIB/;

interface Verdict {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

/** The program under mocks in a child process, as `pulumi up -s <stack>` runs it from the project folder. */
async function programVerdict(stackFile: string, cwd: string): Promise<Verdict & { customResources: number }> {
  const options: EvaluateOptions = { stackFile, cwd };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovl-agree-")), "options.json");
  fs.writeFileSync(file, JSON.stringify(options));
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, file], { encoding: "utf8", maxBuffer: 64 << 20 });
  const evaluation = JSON.parse(stdout) as Evaluation;
  const customResources = evaluation.resources.filter((resource) => resource.custom).length;
  if (evaluation.error === undefined) return { ok: true, problems: [], customResources };
  const text = evaluation.error.startsWith(PROGRAM_STOPS) ? evaluation.error.slice(PROGRAM_STOPS.length) : evaluation.error;
  return { ok: false, problems: text.split("\n"), customResources };
}

function validateVerdict(stackFile: string, cwd: string): Verdict & { notes: readonly string[] } {
  const result = validateStack(readStackConfig(stackFile), stackFile, cwd);
  return { ok: result.problems.length === 0, problems: result.problems, notes: result.notes };
}

/** Runs `work` on every item, at most `width` at a time, results in order. */
async function inBatches<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += width) results.push(...(await Promise.all(items.slice(start, start + width).map(work))));
  return results;
}

const cases = fs.readdirSync(CORPUS).filter((name) => name.endsWith(".yaml")).sort();

test("the corpus holds good and bad stack files, and none imports an ESC environment", () => {
  assert.ok(cases.filter((name) => name.startsWith("ok-")).length >= 4, cases.join(", "));
  assert.ok(cases.filter((name) => name.startsWith("bad-")).length >= 8, cases.join(", "));
  assert.deepEqual(cases.filter((name) => !/^(ok|bad)-[a-z-]+\.yaml$/.test(name)), [], "each file is named ok-* or bad-*");
  for (const name of cases) assert.deepEqual(readStackConfig(path.join(CORPUS, name)).environments, [], name);
});

test("validate and the program give the same verdict, in the same words, on every stack file of the corpus", async () => {
  const verdicts = await inBatches(cases, 4, async (name) => {
    const cwd = fakeProjectDir();
    const stackFile = path.join(cwd, `Pulumi.${name.replace(/\.yaml$/, "")}.yaml`);
    fs.copyFileSync(path.join(CORPUS, name), stackFile);
    return { name, validate: validateVerdict(stackFile, cwd), program: await programVerdict(stackFile, cwd) };
  });
  for (const { name, validate, program } of verdicts) {
    assert.deepEqual(validate.problems, program.problems, `${name}: validate and the program disagree`);
    assert.equal(validate.ok, name.startsWith("ok-"), `${name}: ${validate.problems.join("\n")}`);
    assert.equal(program.ok, name.startsWith("ok-"), name);
    if (!program.ok) assert.equal(program.customResources, 0, `${name}: the program registered resources before it stopped`);
    assert.ok(!KEY_TEXT.test(validate.problems.join("\n")), `${name}: a problem shows key text`);
  }
  // The warning is validate's to print; the verdict stays ok.
  const empty = verdicts.find((verdict) => verdict.name === "ok-empty-docker-host.yaml");
  assert.deepEqual(empty?.validate.notes, [
    "warning: hosts[2] host2: a docker host with nothing on it (no containers): it gets only its VLAN links and networks",
  ]);
});
