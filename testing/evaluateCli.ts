// Test code: evaluates the program once under mocks in a fresh process and prints the record as
// JSON, so tests can compare independent evaluations. Usage: evaluateCli <options.json>
import * as fs from "fs";
import { evaluateProgram, type EvaluateOptions } from "./programHarness";

async function main(): Promise<void> {
  const options = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as EvaluateOptions;
  const evaluation = await evaluateProgram(options);
  // Exit only once the pipe has taken everything: a large record is written in several chunks.
  await new Promise<void>((resolve) => process.stdout.write(JSON.stringify(evaluation), () => resolve()));
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  },
);
