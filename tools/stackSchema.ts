// The JSON Schema of a whole Pulumi.<stack>.yaml, generated from the topology schema so editors
// check keys as you type: `npm run schema` writes schema/stack.schema.json.

import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { PROJECT } from "../config/project";
import { configFields } from "../topology/schema";

export const SCHEMA_FILE = path.join("schema", "stack.schema.json");

// Keys of providers the stack may configure; they are not ours to describe.
const PROVIDER_KEYS = "^(docker|command|random|pulumi):";

type JsonSchema = { [key: string]: unknown };

/** The stack file's JSON Schema (draft-07, which yaml-language-server reads). */
export function stackFileSchema(): JsonSchema {
  const prefixed = Object.fromEntries(Object.entries(configFields).map(([key, schema]) => [`${PROJECT}:${key}`, schema]));
  const { $schema, ...config } = z.toJSONSchema(z.object(prefixed), {
    io: "input",
    target: "draft-7",
    unrepresentable: "throw",
    // zod leaves out the default of a key that converts its input ("22" → 22): put every default back.
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def;
      if (def.type === "default") jsonSchema.default = (def as z.core.$ZodDefaultDef).defaultValue;
    },
  });
  const { required, ...shape } = config as JsonSchema & { required?: string[] };
  // Pulumi reads a key without a namespace into the project's (`vlans` is `macvlan-overlay:vlans`):
  // each is allowed both ways, described once, and a required key may be given either way.
  const bare = Object.fromEntries(Object.keys(configFields).map((key) => [`^${key}$`, { $ref: `#/properties/config/properties/${PROJECT}:${key}` }]));
  const eitherWay = (required ?? []).map((key) => ({ anyOf: [{ required: [key] }, { required: [key.slice(PROJECT.length + 1)] }] }));
  return {
    $schema,
    title: `${PROJECT} stack file (Pulumi.<stack>.yaml)`,
    type: "object",
    properties: {
      secretsprovider: { type: "string", description: "Where the stack's secrets are encrypted (passphrase, a KMS URL, ...)." },
      encryptedkey: { type: "string", description: "The stack's data key, encrypted by the secrets provider." },
      encryptionsalt: { type: "string", description: "Salt of the passphrase secrets provider." },
      environment: { description: "Pulumi ESC environments the stack imports." },
      config: {
        ...shape,
        description: `Stack config: this project's keys are ${PROJECT}:<key>, or <key> alone; a secret key holds { secure: ... }.`,
        patternProperties: { [PROVIDER_KEYS]: {}, ...bare },
        additionalProperties: false,
        ...(eitherWay.length > 0 ? { allOf: eitherWay } : {}),
      },
    },
    additionalProperties: false,
  };
}

/** The file's text: two-space JSON and a final newline, so it diffs well. */
export function stackFileSchemaText(): string {
  return `${JSON.stringify(stackFileSchema(), null, 2)}\n`;
}

if (require.main === module) {
  const file = path.join(process.cwd(), SCHEMA_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, stackFileSchemaText());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
