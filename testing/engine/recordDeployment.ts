// Test code: records the dev stack's deployment as a program evaluates it under mocks, for the
// engine model's upgrade tests. How testing/engine/fixtures/dev-<commit>.json is made:
//   git archive <commit> | tar -x -C /tmp/old && ln -s "$PWD/node_modules" /tmp/old/node_modules
//   (cd /tmp/old && npx tsc -p tsconfig.json)
//   node dist/testing/engine/recordDeployment.js /tmp/old/dist testing/engine/fixtures/dev-<commit>.json
// (the project folder it evaluates in holds the fake key and known_hosts of testing/stackEvaluation.ts).
import * as fs from "fs";
import * as path from "path";
import { evaluateProgram } from "../programHarness";
import { fakeProjectDir } from "../stackEvaluation";
import { deploymentFromEvaluation } from "./deployment";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..", "..");

async function main(): Promise<void> {
  const [programDir, out] = process.argv.slice(2);
  const cwd = fakeProjectDir();
  const evaluation = await evaluateProgram({ stackFile: path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), cwd, programDir: path.resolve(programDir) });
  fs.writeFileSync(out, `${JSON.stringify(deploymentFromEvaluation(evaluation), null, 1)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  },
);
