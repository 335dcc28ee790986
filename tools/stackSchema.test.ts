import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import {
  CONFIGURATION_DOC,
  configurationTable,
  SCHEMA_FILE,
  stackFileSchema,
  stackFileSchemaText,
  TABLE_BEGIN,
  TABLE_END,
  withConfigurationTable,
} from "./stackSchema";

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

/** The text between the key table's markers in docs/configuration.md. */
function docTable(): string {
  const doc = fs.readFileSync(path.join(ROOT, CONFIGURATION_DOC), "utf8");
  const begin = doc.indexOf(TABLE_BEGIN);
  const end = doc.indexOf(TABLE_END);
  assert.ok(begin >= 0 && end > begin, `${CONFIGURATION_DOC} has no key table markers`);
  return doc.slice(begin + TABLE_BEGIN.length, end);
}

/** The key and default columns of docs/configuration.md's key table. */
function docKeys(): Map<string, string> {
  const rows = docTable().split("\n").filter((line) => line.startsWith("| `"));
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

test("docs/configuration.md's key table lists exactly the schema's keys, with their defaults", () => {
  const keys = schemaKeys();
  assert.ok(keys.size >= 30, `found only ${[...keys.keys()].join(", ")}`);
  assert.deepEqual([...docKeys()].sort(), [...keys].sort());
});

test("docs/configuration.md's key table is the one npm run schema generates", () => {
  assert.equal(docTable(), `\n\n${configurationTable()}\n`, "run npm run schema");
});

test("npm run schema replaces only the text between the key table's markers", () => {
  const doc = `# title\n\nbefore\n${TABLE_BEGIN}\n| old | table |\n${TABLE_END}\n\nafter\n`;
  assert.equal(withConfigurationTable(doc, "| new |\n"), `# title\n\nbefore\n${TABLE_BEGIN}\n\n| new |\n\n${TABLE_END}\n\nafter\n`);
  assert.throws(() => withConfigurationTable("# no markers\n", "| new |\n"), /no .* markers/);
});

test("each row of the key table says the key's type, default and meaning", () => {
  const rows = configurationTable().split("\n").filter((line) => line.startsWith("| `"));
  const row = (key: string) => rows.find((line) => line.startsWith(`| \`${key}\` |`));
  assert.equal(row("vlans[].id")?.split(" | ").slice(1, 3).join(" | "), "integer 1–4094 | required");
  assert.equal(row("macvlanMode")?.split(" | ")[1], "`bridge` \\| `private` \\| `vepa` \\| `passthru`");
  assert.equal(row("hosts[].port")?.split(" | ").slice(1, 3).join(" | "), "integer 1–65535 | `22`");
  assert.equal(row("hosts[].containers")?.split(" | ")[2], "`[]`");
  for (const line of rows) assert.equal(line.split(/(?<!\\)\|/).length, 6, `a cell holds an unescaped |: ${line}`);
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
