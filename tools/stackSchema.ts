// The JSON Schema of a whole Pulumi.<stack>.yaml, generated from the topology schema so editors
// check keys as you type, and the key table of docs/configuration.md generated from that JSON
// Schema: `npm run schema` writes both.

import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { PROJECT } from "../config/project";
import { configFields } from "../topology/schema";

export const SCHEMA_FILE = path.join("schema", "stack.schema.json");
export const CONFIGURATION_DOC = path.join("docs", "configuration.md");

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

/** What the JSON Schema does not say about a key: its type in words, and the rules topology/rules/ checks. */
interface KeyNote {
  /** The type column; default: read from the JSON Schema (an enum, an integer range, a boolean, a list). */
  readonly type?: string;
  /** Sentences after the key's description. */
  readonly rules?: string;
}

// Links are relative to docs/, where the table is written.
const KEY_NOTES: Record<string, KeyNote> = {
  trunkInterface: {
    type: "interface name",
    rules: "A host may override it. Not `lo`, `all`, `default`, `.`, `..` or starting with `-`; `<trunk>.<id>` must fit Linux's 15 characters.",
  },
  persistence: {
    rules: "`network-scripts` writes each subinterface's RHEL 7 ifcfg file and installs a boot unit; `none` writes no network files and installs no boot unit; the `ip_forward` file is written either way ([After a reboot](operations.md#after-a-reboot)).",
  },
  sshUser: { type: "Linux user name", rules: "Another user than `root` runs every script through `sudo -n` ([A sudo user](own-hosts.md#a-sudo-user))." },
  sshPrivateKeyFile: { type: "path", rules: "Exactly one of this and `sshPrivateKey`." },
  sshPrivateKey: {
    rules: "`pulumi config set --secret sshPrivateKey < key`. The Docker provider then authenticates through your ssh-agent ([The SSH key and the agent](own-hosts.md#the-ssh-key-and-the-agent)).",
  },
  sshKnownHostsFile: {
    type: "path",
    rules: "The remote commands take each host's entry (ed25519 preferred; hashed names and patterns are matched as ssh does; [Host keys](own-hosts.md#host-keys)); the Docker provider's ssh runs with it and `StrictHostKeyChecking=yes`. Required unless every host (and the bastion) has a `hostKey`.",
  },
  sshProxy: { rules: "See [Bastion](own-hosts.md#bastion)." },
  "sshProxy.host": { type: "IPv4 or DNS name" },
  "sshProxy.user": { type: "Linux user name" },
  "sshProxy.hostKey": { type: "OpenSSH public key", rules: "Written as `ssh-ed25519 AAAA...`." },
  vlans: { rules: "At least one." },
  "vlans[].id": { rules: "Unique." },
  "vlans[].network": { type: "Docker name", rules: "Unique, at most 63 characters, not `bridge`, `host`, `none` or `default`." },
  "vlans[].subnet": {
    type: "IPv4 prefix",
    rules: "At most /30, not overlapping another VLAN, nor `0.0.0.0/8`, loopback, link-local, multicast or reserved (`240.0.0.0/4`), nor containing any host's management address.",
  },
  "vlans[].gateway": { type: "IPv4 address", rules: "Inside the subnet, not its network or broadcast address." },
  "vlans[].driver": {
    rules: "`ipvlan` (`ipvlan_mode: l2`) works where a switch or hypervisor drops unknown MACs; no per-container MAC is made or checked, and `macvlanMode` and `hostShim` do not apply to it.",
  },
  hosts: { rules: "At least one with role `docker`." },
  "hosts[].name": { type: "1–32 of `a-z 0-9 -`", rules: "Unique." },
  "hosts[].address": {
    type: "IPv4 or DNS name",
    rules: "A name ending in a number (`0x7f.0.0.1`) is refused. Only an IPv4 address is checked against the VLAN subnets, not a DNS name.",
  },
  "hosts[].role": { rules: "At most one router; it runs no containers." },
  "hosts[].trunkInterface": { type: "interface name" },
  "hosts[].vlanAddresses": {
    type: "VLAN id → `address/prefix`",
    rules: "For the router, every VLAN's gateway with the subnet's prefix. Not /0, loopback, multicast, link-local or reserved; one address on one VLAN only, per host; no container's IP; no prefix containing a management address.",
  },
  "hosts[].hostShim": {
    type: "VLAN id → IPv4 address",
    rules: "A macvlan interface `mvo-shim<id>` (mode bridge) on that VLAN's link with this address (/32) and a route to each of the host's containers on the VLAN. Docker hosts only. Inside the VLAN's subnet, not its network, broadcast or gateway address, no container's IP nor a host's VLAN address, unique on the VLAN; the host needs a link on the VLAN (a container or a `vlanAddresses` entry); not with `macvlanMode: passthru`.",
  },
  "hosts[].hostKey": { type: "OpenSSH public key", rules: "A line of its `/etc/ssh/ssh_host_ed25519_key.pub`." },
  "hosts[].containers": { rules: "Docker hosts only." },
  "hosts[].containers[].name": { type: "Docker name", rules: "2–63 characters." },
  "hosts[].containers[].vlan": { type: "VLAN id", rules: "One of `vlans[].id`. With `macvlanMode: passthru`, one container per VLAN on a host." },
  "hosts[].containers[].ip": { type: "IPv4 address", rules: "Not the subnet's network, broadcast or gateway address; unique on the VLAN." },
  "hosts[].containers[].image": { type: "image reference" },
  "hosts[].containers[].key": { type: "Docker name", rules: "Unique per host." },
  macvlanMode: { rules: "Docker's `macvlan_mode` of every macvlan network (not of an ipvlan one)." },
  verify: { rules: "Each container pings others at the end of `pulumi up` ([Reading the connectivity output](own-hosts.md#reading-the-connectivity-output))." },
  reapply: {
    rules: "`pulumi config set reapply <N+1>` is the repair the doctor prints ([Repair](operations.md#repair)); 0 adds nothing to the scripts.",
  },
  confirmWithinSeconds: {
    type: "seconds, 0–86400",
    rules:
      "Counted from the host's first armed change of the update; each host's Confirm runs once every connectivity check passed ([Commit confirmed](operations.md#commit-confirmed)). Docker objects, deletes and replacements are not covered.",
  },
};

interface KeyRow {
  /** `hosts[].port` */
  readonly key: string;
  readonly schema: JsonSchema;
  readonly required: boolean;
}

/** Every config key of the JSON Schema, nested keys after their parent, in declaration order. */
export function configKeyRows(): KeyRow[] {
  const config = (stackFileSchema().properties as Record<string, JsonSchema>).config;
  const rows: KeyRow[] = [];
  const walk = (prefix: string, object: JsonSchema, strip: string, required: ReadonlySet<string>): void => {
    for (const [name, property] of Object.entries((object.properties ?? {}) as Record<string, JsonSchema>)) {
      const key = `${prefix}${name.slice(strip.length)}`;
      rows.push({ key, schema: property, required: required.has(name) });
      const items = property.items as JsonSchema | undefined;
      if (property.type === "array" && items?.properties) walk(`${key}[].`, items, "", new Set(items.required as string[] | undefined));
      else if (property.type === "object" && property.properties && property.secret !== true) {
        walk(`${key}.`, property, "", new Set(property.required as string[] | undefined));
      }
    }
  };
  // The top-level required keys are written either way (`allOf` of `anyOf`s): the namespaced name counts.
  const topRequired = ((config.allOf ?? []) as { anyOf: { required: string[] }[] }[]).map((one) => one.anyOf[0].required[0]);
  walk("", config, `${PROJECT}:`, new Set(topRequired));
  return rows;
}

/** The type column, read from the JSON Schema where it says enough. */
function typeCell(row: KeyRow): string {
  const note = KEY_NOTES[row.key]?.type;
  if (note !== undefined) return note;
  const schema = row.schema;
  const variants = (schema.anyOf as JsonSchema[] | undefined) ?? [schema];
  const integer = variants.find((one) => one.type === "integer");
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => `\`${value}\``).join(" \\| ");
  if (integer !== undefined) return `integer ${integer.minimum}–${integer.maximum}`;
  if (variants.some((one) => one.type === "boolean")) return "boolean";
  if (schema.secret === true) return "secret";
  if (schema.type === "array") return "list";
  if (schema.type === "object") return "object";
  throw new Error(`${row.key}: say its type in KEY_NOTES (tools/stackSchema.ts)`);
}

function defaultCell(row: KeyRow): string {
  const given = row.schema.default;
  if (given !== undefined) return `\`${typeof given === "string" ? given : JSON.stringify(given)}\``;
  return row.required ? "required" : "—";
}

function meaningCell(row: KeyRow): string {
  const description = String(row.schema.description ?? "");
  if (description === "") throw new Error(`${row.key}: no description in topology/schema.ts`);
  const rules = KEY_NOTES[row.key]?.rules;
  return (rules === undefined ? description : `${description} ${rules}`).replace(/(?<!\\)\|/g, "\\|");
}

/** The key table of docs/configuration.md: one row per key of the JSON Schema. */
export function configurationTable(): string {
  const rows = configKeyRows();
  const stale = Object.keys(KEY_NOTES).filter((key) => !rows.some((row) => row.key === key));
  if (stale.length > 0) throw new Error(`KEY_NOTES (tools/stackSchema.ts) names keys the schema does not have: ${stale.join(", ")}`);
  const lines = ["| key | type | default | meaning |", "|---|---|---|---|"];
  for (const row of rows) lines.push(`| \`${row.key}\` | ${typeCell(row)} | ${defaultCell(row)} | ${meaningCell(row)} |`);
  return `${lines.join("\n")}\n`;
}

export const TABLE_BEGIN = "<!-- BEGIN key table: generated by `npm run schema` from topology/schema.ts and tools/stackSchema.ts; do not edit by hand -->";
export const TABLE_END = "<!-- END key table -->";

/** The Markdown with the text between the table's markers replaced by `table`; throws without the markers. */
export function withConfigurationTable(markdown: string, table: string): string {
  const begin = markdown.indexOf(TABLE_BEGIN);
  const end = markdown.indexOf(TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`${CONFIGURATION_DOC}: no ${TABLE_BEGIN} ... ${TABLE_END} markers`);
  return `${markdown.slice(0, begin + TABLE_BEGIN.length)}\n\n${table}\n${markdown.slice(end)}`;
}

if (require.main === module) {
  const file = path.join(process.cwd(), SCHEMA_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, stackFileSchemaText());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
  const doc = path.join(process.cwd(), CONFIGURATION_DOC);
  fs.writeFileSync(doc, withConfigurationTable(fs.readFileSync(doc, "utf8"), configurationTable()));
  process.stdout.write(`wrote the key table of ${CONFIGURATION_DOC}\n`);
}
