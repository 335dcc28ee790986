// The package's schema as `pulumi package add` infers it: Pulumi's ComponentProvider analyses the
// components the package's entry (package.json `main`) exports. `npm run schema` writes it to
// schema/package.schema.json; tools/packageSchema.test.ts fails when that file is stale.
import * as fs from "fs";
import * as path from "path";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import { PROJECT } from "../config/project";

export const PACKAGE_SCHEMA_FILE = path.join("schema", "package.schema.json");

/** The schema of the package in `root` (the project folder), as formatted JSON text. */
export async function packageSchemaText(root: string): Promise<string> {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { main: string };
  // The compiled entry beside this file gives the classes; the analyser reads the entry's TypeScript source.
  const compiled = path.join(__dirname, "..", manifest.main.replace(/\.ts$/, ""));
  const components = getPulumiComponents(require(compiled));
  const schema = await new ComponentProvider({ components, name: PROJECT, dirname: root }).getSchema();
  return `${JSON.stringify(JSON.parse(schema), null, 2)}\n`;
}

if (require.main === module) {
  const root = process.cwd();
  packageSchemaText(root).then(
    (text) => {
      fs.writeFileSync(path.join(root, PACKAGE_SCHEMA_FILE), text);
      process.stdout.write(`wrote ${PACKAGE_SCHEMA_FILE}\n`);
    },
    (error) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
