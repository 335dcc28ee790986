// The dev stack's host scripts, as the program hands them to its commands, kept as reviewed files
// under testing/snapshots/dev/: any change to a rendered script fails here with its diff.
// `UPDATE_SNAPSHOTS=1` rewrites the files (review the git diff, then commit them).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { DEV_STACK, evaluate, PROJECT_ROOT } from "./stackEvaluation";

const SNAPSHOT_DIR = path.join(PROJECT_ROOT, "testing", "snapshots", "dev");
const SCRIPT_INPUTS = ["create", "update", "delete", "stdin"] as const;

test("every script the dev stack renders equals its reviewed snapshot", () => {
  const evaluation = evaluate({ stackFile: DEV_STACK });
  assert.equal(evaluation.error, undefined);
  const rendered = new Map<string, string>();
  for (const resource of evaluation.resources.filter((r) => r.type === "command:remote:Command")) {
    for (const input of SCRIPT_INPUTS) {
      const text = resource.inputs[input];
      if (typeof text === "string") {
        rendered.set(`${resource.name.replace(/\//g, "__")}.${input}.sh`, text);
      }
    }
  }
  if (process.env.UPDATE_SNAPSHOTS === "1") {
    fs.rmSync(SNAPSHOT_DIR, { recursive: true, force: true });
    fs.mkdirSync(SNAPSHOT_DIR, { recursive: true });
    for (const [file, text] of rendered) {
      fs.writeFileSync(path.join(SNAPSHOT_DIR, file), text);
    }
  }
  const kept = fs.existsSync(SNAPSHOT_DIR) ? fs.readdirSync(SNAPSHOT_DIR).sort() : [];
  assert.deepEqual(kept, [...rendered.keys()].sort(), "the set of snapshot files (UPDATE_SNAPSHOTS=1 rewrites them)");
  for (const [file, text] of rendered) {
    assert.equal(text, fs.readFileSync(path.join(SNAPSHOT_DIR, file), "utf8"), `${file} changed (UPDATE_SNAPSHOTS=1 rewrites it)`);
  }
});
