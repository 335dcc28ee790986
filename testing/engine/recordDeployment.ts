// Test code: records the dev stack's deployment as a program evaluates it under mocks, for the
// engine model's upgrade test. How testing/engine/fixtures/dev-593ec9a.json was made:
//   git archive 593ec9a | tar -x -C /tmp/old && ln -s "$PWD/node_modules" /tmp/old/node_modules
//   (cd /tmp/old && npx tsc -p tsconfig.json)
//   node dist/testing/engine/recordDeployment.js /tmp/old/dist testing/engine/fixtures/dev-593ec9a.json
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { evaluateProgram } from "../programHarness";
import { deploymentFromEvaluation } from "./deployment";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..", "..");

async function main(): Promise<void> {
  const [programDir, out] = process.argv.slice(2);
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "ovd-record-"));
  fs.mkdirSync(path.join(cwd, ".lab"));
  fs.writeFileSync(path.join(cwd, ".lab", "id_ed25519"), "not a key\n", { mode: 0o600 });
  fs.writeFileSync(path.join(cwd, ".lab", "known_hosts"), "");
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
