// Where a stack's settings file is, found as the Pulumi CLI finds it: the nearest Pulumi.yaml (or
// Pulumi.yml) at or above the working folder, its `stackConfigDir`, then `Pulumi.<stack>.<ext>`,
// where the stack is the last part of a qualified name (`org/project/dev` → `dev`).

import * as fs from "fs";
import * as path from "path";
import { parseDocument } from "yaml";

const PROJECT_FILES = ["Pulumi.yaml", "Pulumi.yml"];

/** The project file nearest to `from`, at or above it, or undefined when there is none. */
export function findProjectFile(from: string): string | undefined {
  let folder = path.resolve(from);
  for (;;) {
    const found = PROJECT_FILES.map((name) => path.join(folder, name)).find((file) => fs.existsSync(file));
    if (found !== undefined) return found;
    const parent = path.dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}

/** The folder the program runs in, where relative key and known_hosts paths resolve: the project's. */
export function projectFolderOf(stackFile: string): string {
  const projectFile = findProjectFile(path.dirname(path.resolve(stackFile)));
  return projectFile === undefined ? path.dirname(path.resolve(stackFile)) : path.dirname(projectFile);
}

/** `Pulumi.yaml` may keep stack files in a sub-folder (`stackConfigDir`). */
export function stackConfigDir(projectFile: string): string {
  try {
    const project: unknown = parseDocument(fs.readFileSync(projectFile, "utf8")).toJS();
    const dir = (project as { stackConfigDir?: unknown } | null)?.stackConfigDir;
    return typeof dir === "string" ? dir : "";
  } catch {
    return "";
  }
}

/** The stack file `pulumi -s <stack>` run in `cwd` reads, or why there is none to read. */
export function stackFileFor(stack: string, cwd: string): { readonly file: string } | { readonly error: string } {
  const name = stack.split("/").pop() ?? "";
  if (name === "") return { error: `-s ${JSON.stringify(stack)}: not a stack name` };
  const projectFile = findProjectFile(cwd);
  if (projectFile === undefined) return { error: `-s ${stack}: no Pulumi.yaml in ${path.resolve(cwd)} or any folder above it` };
  const folder = path.join(path.dirname(projectFile), stackConfigDir(projectFile));
  const file = path.join(folder, `Pulumi.${name}${path.extname(projectFile)}`);
  // Named as the user would type it from where they are.
  const relative = path.relative(process.cwd(), file);
  return { file: relative.startsWith("..") || path.isAbsolute(relative) ? file : relative };
}
