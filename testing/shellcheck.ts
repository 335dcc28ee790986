// Runs the real shellcheck binary on rendered script text (POSIX sh dialect).

import { spawnSync } from "node:child_process";

export interface ShellcheckResult {
  readonly clean: boolean;
  readonly output: string;
}

/** `exclude`: codes to allow, each with a reason at the call site. */
export function shellcheck(script: string, exclude: readonly string[] = []): ShellcheckResult {
  const args = ["-s", "sh", ...(exclude.length > 0 ? ["--exclude", exclude.join(",")] : []), "-"];
  const result = spawnSync("shellcheck", args, { input: script, encoding: "utf8" });
  if (result.error) {
    throw new Error(`shellcheck could not run (is it installed?): ${result.error.message}`);
  }
  return { clean: result.status === 0, output: `${result.stdout}${result.stderr}` };
}
