import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { SCHEMA_FILE, stackFileSchema, stackFileSchemaText } from "./stackSchema";

// Compiled to dist/tools/, two levels below the project root.
const ROOT = path.join(__dirname, "..", "..");
const PREFIX = "macvlan-overlay:";

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  required?: string[];
  allOf?: { anyOf?: { required?: string[] }[] }[];
  items?: JsonSchema;
  type?: string;
  default?: unknown;
  secret?: boolean;
};

/** Every key path of the config (`hosts[].port`) with its default cell: `22`, required or —. */
function schemaKeys(): Map<string, string> {
  const config = (stackFileSchema().properties as Record<string, JsonSchema>).config;
  const keys = new Map<string, string>();
  const walk = (prefix: string, object: JsonSchema, strip: string): void => {
    // A key required either way (with or without the project's namespace) is required.
    const required = new Set([...(object.required ?? []), ...(object.allOf ?? []).flatMap((one) => one.anyOf?.[0]?.required ?? [])]);
    for (const [name, property] of Object.entries(object.properties ?? {})) {
      const key = `${prefix}${name.slice(strip.length)}`;
      const given = property.default;
      const shown = typeof given === "string" ? given : JSON.stringify(given);
      const cell = given !== undefined ? `\`${shown}\`` : required.has(name) ? "required" : "—";
      keys.set(key, cell);
      if (property.type === "array" && property.items?.properties) walk(`${key}[].`, property.items, "");
      else if (property.type === "object" && property.properties && property.secret !== true) walk(`${key}.`, property, "");
    }
  };
  walk("", config, PREFIX);
  return keys;
}

/** The key and default columns of the README's configuration table. */
function readmeKeys(): Map<string, string> {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Configuration reference"));
  const rows = section.slice(0, section.indexOf("\n\n", section.indexOf("| key |"))).split("\n").filter((line) => line.startsWith("| `"));
  return new Map(
    rows.map((row) => {
      const cells = row.split(/(?<!\\)\|/).map((cell) => cell.trim());
      return [cells[1].replace(/`/g, ""), cells[3]];
    }),
  );
}

test("the committed JSON Schema is the one the topology schema generates", () => {
  assert.equal(fs.readFileSync(path.join(ROOT, SCHEMA_FILE), "utf8"), stackFileSchemaText(), "run npm run schema");
});

test("the README's configuration table lists exactly the schema's keys, with their defaults", () => {
  assert.deepEqual([...readmeKeys()].sort(), [...schemaKeys()].sort());
});

test("the JSON Schema allows a secret only as { secure } and provider keys under their namespace", () => {
  const config = (stackFileSchema().properties as Record<string, Record<string, any>>).config;
  assert.deepEqual(config.properties[`${PREFIX}sshPrivateKey`].required, ["secure"]);
  assert.equal(config.properties[`${PREFIX}sshPrivateKey`].additionalProperties, false);
  assert.deepEqual(config.patternProperties["^(docker|command|random|pulumi):"], {});
  assert.equal(config.additionalProperties, false);
});

test("the JSON Schema accepts every key without the project's namespace, as Pulumi reads it, described once", () => {
  const schema = stackFileSchema();
  const config = (schema.properties as Record<string, Record<string, any>>).config;
  const projectKeys = Object.keys(config.properties).map((key) => key.slice(PREFIX.length));
  assert.deepEqual(
    Object.keys(config.patternProperties).filter((pattern) => !pattern.includes("docker")),
    projectKeys.map((key) => `^${key}$`),
  );
  for (const key of projectKeys) {
    const ref: string = config.patternProperties[`^${key}$`].$ref;
    // The reference is a JSON pointer into this schema, to the namespaced key's own description.
    const target = ref.replace(/^#\//, "").split("/").reduce((node: any, part) => node?.[part], schema);
    assert.equal(target, config.properties[`${PREFIX}${key}`], `${key}: ${ref}`);
  }
  // vlans and hosts are required, written either way.
  assert.equal(config.required, undefined);
  assert.deepEqual(config.allOf, [
    { anyOf: [{ required: [`${PREFIX}vlans`] }, { required: ["vlans"] }] },
    { anyOf: [{ required: [`${PREFIX}hosts`] }, { required: ["hosts"] }] },
  ]);
});

test("every key of the dev stack file is one the JSON Schema declares", () => {
  const schema = stackFileSchema() as { properties: Record<string, { properties?: Record<string, unknown> }> };
  const text = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");
  const configKeys = [...text.matchAll(/^ {2}([A-Za-z0-9-]+:[A-Za-z]+):/gm)].map((match) => match[1]);
  assert.ok(configKeys.length >= 8, `found only ${configKeys.join(", ")}`);
  for (const key of configKeys) assert.ok(key in (schema.properties.config.properties ?? {}), `${key} is not in the schema`);
  // The same keys written without the namespace, as Pulumi also reads them.
  const patterns = Object.keys((schema.properties.config as { patternProperties?: object }).patternProperties ?? {}).map((pattern) => new RegExp(pattern));
  for (const key of configKeys.map((full) => full.slice(PREFIX.length))) {
    assert.ok(patterns.some((pattern) => pattern.test(key)), `${key} without its namespace is not in the schema`);
  }
  assert.ok(text.startsWith("# yaml-language-server: $schema=./schema/stack.schema.json\n"), "the dev stack names its schema on its first line");
  const topLevel = [...text.matchAll(/^([a-z]+):/gm)].map((match) => match[1]);
  for (const key of topLevel) assert.ok(key in schema.properties, `${key} is not in the schema`);
});
