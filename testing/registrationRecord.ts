// Test code, not part of the program: what a compiled program registers for a stack, in the terms the
// engine reads (URN, type, parent, provider, inputs, recorded dependencies, aliases), for comparing two
// builds of the program. Host script texts are left out of the strict view; the symbolic view instead
// replaces every script renderer's result with a record of the call (renderer and arguments), so two
// builds compare by what they ask the renderers for, whatever text the renderers give back.
// Usage (one evaluation per process, as Pulumi's runtime is per process):
//   node dist/testing/registrationRecord.js <programDir> <variant> strict|symbolic
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { evaluateProgram } from "./programHarness";
import { ADDRESS, CONTAINER_CHANGES, MASQUERADE_OFF, SSH_PORT, VLAN_20_TO_30, VLAN_30_ADDED, VLAN20_IPVLAN } from "./stackEdits";
import { DEV_STACK, fakeProjectDir, PROJECT_ROOT } from "./stackEvaluation";

/** One custom resource as the engine sees its registration. */
export interface RegisteredResource {
  readonly urn: string;
  readonly parent: string;
  readonly provider?: string;
  readonly inputs: Record<string, unknown>;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Record<string, readonly string[]>;
  readonly aliases: readonly string[];
  /** The aliases the engine adds from the parent's (absent in records made before the component had any). */
  readonly inheritedAliases?: readonly string[];
  readonly deleteBeforeReplace: boolean;
  readonly ignoreChanges: readonly string[];
}

export type ViewKind = "strict" | "symbolic";

/** A stack edit (as in testing/stackEdits.ts) whose `from` may also be a pattern. */
type Edit = readonly [string | RegExp, string];

/** A stack the tests evaluate: the dev stack edited, or another stack file, with config overrides. */
export interface StackVariant {
  readonly name: string;
  /** A stack file relative to the project root; default the dev stack. */
  readonly stackFile?: string;
  readonly edits?: readonly Edit[];
  readonly config?: Record<string, string | null>;
  readonly secretKeys?: readonly string[];
}

const HOST1_SHIM: Edit[] = [[/(      role: docker\n      vlanAddresses: \{ "10": 192\.168\.22\.10\/24[^\n]*\n)/, '$1      hostShim: { "10": 172.18.0.250, "20": 172.19.0.250 }\n']];
const TWO_MORE_DOCKER_HOSTS: Edit[] = [
  [
    "    - name: router\n",
    [
      "    - name: host3",
      "      address: 10.213.70.14",
      "      role: docker",
      '      vlanAddresses: { "10": 192.168.22.12/24, "20": 192.168.23.12/24 }',
      "      containers:",
      "        - { name: bbox50, vlan: 10, ip: 172.18.0.6 }",
      "        - { name: bbox60, vlan: 20, ip: 172.19.0.6 }",
      "    - name: host4",
      "      address: 10.213.70.15",
      "      role: docker",
      '      vlanAddresses: { "10": 192.168.22.13/24, "20": 192.168.23.13/24 }',
      "      containers:",
      "        - { name: bbox70, vlan: 10, ip: 172.18.0.7 }",
      "        - { name: bbox80, vlan: 20, ip: 172.19.0.7 }",
      "    - name: router",
      "",
    ].join("\n"),
  ],
];
const ROUTER_PORT: Edit[] = [["address: 10.213.70.13\n", "address: 10.213.70.13\n      port: 2222\n"]];
/** Containers listed out of VLAN order, one host without VLAN addresses, no persistence, private mode. */
const MIXED: Edit[] = [
  ["macvlan-overlay:persistence: network-scripts", "macvlan-overlay:persistence: none\n  macvlan-overlay:macvlanMode: private"],
  ["        - { name: bbox10, vlan: 10, ip: 172.18.0.2 }\n        - { name: bbox20, vlan: 20, ip: 172.19.0.3 }\n", "        - { name: bbox20, vlan: 20, ip: 172.19.0.3 }\n        - { name: bbox10, vlan: 10, ip: 172.18.0.2 }\n"],
  ['      vlanAddresses: { "10": 192.168.22.11/24, "20": 192.168.23.11/24 }\n', '      hostShim: { "20": 172.19.0.251 }\n'],
];

/** Every stack the program's tests evaluate (testing/, components/, the engine model, the e2e's day-two configs), and a few more. */
export const STACK_VARIANTS: readonly StackVariant[] = [
  { name: "dev" },
  { name: "persistence none", edits: [["macvlan-overlay:persistence: network-scripts", "macvlan-overlay:persistence: none"]] },
  { name: "sudo user", config: { "macvlan-overlay:sshUser": "deploy" } },
  { name: "bastion", config: { "macvlan-overlay:sshProxy": JSON.stringify({ host: "10.213.70.13", user: "jump" }) } },
  {
    name: "key from secret config",
    config: { "macvlan-overlay:sshPrivateKeyFile": null, "macvlan-overlay:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END OPENSSH PRIVATE KEY-----\n" },
    secretKeys: ["macvlan-overlay:sshPrivateKey"],
  },
  { name: "host shims", edits: HOST1_SHIM },
  { name: "vlan 20 on ipvlan", edits: VLAN20_IPVLAN },
  { name: "reapply 3", edits: [["macvlan-overlay:router: { masquerade: true }", "macvlan-overlay:router: { masquerade: true }\n  macvlan-overlay:reapply: 3"]] },
  { name: "no check", config: { "macvlan-overlay:verify": "false" } },
  { name: "router on port 2222", edits: ROUTER_PORT },
  { name: "vlan 20 becomes 30", edits: VLAN_20_TO_30 },
  { name: "container renamed with its key", edits: [["{ name: bbox30, vlan: 10", "{ name: bbox31, key: bbox30, vlan: 10"]] },
  { name: "four docker hosts", edits: TWO_MORE_DOCKER_HOSTS },
  { name: "day two: masquerade off", edits: [...ADDRESS, ...MASQUERADE_OFF] },
  { name: "day two: vlan 30 added", edits: [...ADDRESS, ...VLAN_30_ADDED] },
  { name: "day two: containers changed, ssh port", edits: [...ADDRESS, ...CONTAINER_CHANGES, ...SSH_PORT] },
  { name: "mixed", edits: MIXED, config: { "macvlan-overlay:sshUser": "deploy" } },
  ...["ok-bastion", "ok-empty-docker-host", "ok-host-keys", "ok-minimal", "ok-without-namespace"].map((name) => ({
    name,
    stackFile: path.join("testing", "stackCorpus", `${name}.yaml`),
  })),
];

// The renderers whose text becomes a command's input: in the symbolic view each returns a token
// naming its call instead of text.
const SCRIPT_RENDERERS = new Set([
  "renderBootUnit",
  "renderPromiscuousMode",
  "renderVlanSubinterface",
  "renderHostShim",
  "renderNatRouter",
  "renderDockerEngineCheck",
  "renderConnectivityCheck",
  "withReapply",
  "runAsRoot",
  "stdinScriptAsRoot",
]);

export interface RendererCall {
  readonly renderer: string;
  readonly args: unknown[];
}

const TOKEN = /^⟦([0-9a-f]{16})(?:\.(\w+))?⟧$/;

/** JSON with sorted keys; Pulumi Outputs and resources (nothing a pure renderer reads) left out. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    const object = value as Record<string, unknown>;
    if (object.__pulumiOutput === true || object.__pulumiResource === true) return "<pulumi value>";
    return Object.fromEntries(
      Object.keys(object)
        .sort()
        .filter((key) => object[key] !== undefined && !isPulumiValue(object[key]))
        .map((key) => [key, canonical(object[key])]),
    );
  }
  return value;
}

function isPulumiValue(value: unknown): boolean {
  return value !== null && typeof value === "object" && ((value as any).__pulumiOutput === true || (value as any).__pulumiResource === true);
}

/** Replaces the script renderers of a compiled program with ones that return tokens and log their calls. */
function makeRenderersSymbolic(programDir: string, calls: Map<string, RendererCall>): void {
  const scriptsDir = path.join(programDir, "components", "scripts");
  const files = fs.readdirSync(scriptsDir, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".js") && !file.endsWith(".test.js"));
  for (const file of files) {
    const module = require(path.join(scriptsDir, file)) as Record<string, unknown>;
    for (const name of Object.keys(module)) {
      const descriptor = Object.getOwnPropertyDescriptor(module, name);
      if (!SCRIPT_RENDERERS.has(name) || descriptor === undefined || !("value" in descriptor) || typeof descriptor.value !== "function") continue;
      const real = descriptor.value as (...args: unknown[]) => unknown;
      module[name] = (...args: unknown[]) => {
        const result = real(...args);
        const call: RendererCall = { renderer: name, args: canonical(args) as unknown[] };
        const id = createHash("sha256").update(JSON.stringify(call)).digest("hex").slice(0, 16);
        calls.set(id, call);
        if (typeof result === "string") return `⟦${id}⟧`;
        return Object.fromEntries(Object.keys(result as object).map((key) => [key, `⟦${id}.${key}⟧`]));
      };
    }
  }
}

/** A token replaced by the call it stands for (recursively), for reading a difference. */
export function expandTokens(value: unknown, calls: Readonly<Record<string, RendererCall>>): unknown {
  if (typeof value === "string") {
    const match = TOKEN.exec(value);
    if (match === null) return value;
    const call = calls[match[1]];
    if (call === undefined) throw new Error(`a token with no call: ${value}`);
    return { renderer: call.renderer, args: expandTokens(call.args, calls), ...(match[2] === undefined ? {} : { field: match[2] }) };
  }
  if (Array.isArray(value)) return value.map((item) => expandTokens(item, calls));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandTokens(item, calls)]));
  }
  return value;
}

/** Script texts (and the check's fingerprint of them) differ with the renderers' text: the strict view names only that they are there. */
const SCRIPT_INPUTS = new Set(["create", "delete", "update", "stdin", "triggers"]);

function withoutProjectDir(value: unknown, dir: string): unknown {
  if (typeof value === "string") return value.split(dir).join("<project>");
  if (Array.isArray(value)) return value.map((item) => withoutProjectDir(item, dir));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withoutProjectDir(item, dir)]));
  }
  return value;
}

/** What one evaluation registered; in the symbolic view, `calls` holds the renderer call of each token. */
export interface Registrations {
  readonly resources: readonly RegisteredResource[];
  readonly calls: Record<string, RendererCall>;
}

/** Evaluates one stack with a compiled program in this process and returns its custom resources. */
export async function recordVariant(programDir: string, variant: StackVariant, view: ViewKind): Promise<Registrations> {
  const calls = new Map<string, RendererCall>();
  if (view === "symbolic") makeRenderersSymbolic(programDir, calls);
  const cwd = fakeProjectDir();
  let stackFile = path.join(PROJECT_ROOT, variant.stackFile ?? path.relative(PROJECT_ROOT, DEV_STACK));
  if (variant.edits !== undefined) {
    let text = fs.readFileSync(stackFile, "utf8");
    for (const [from, to] of variant.edits) {
      const next = text.replace(from, to);
      if (next === text) throw new Error(`${variant.name}: the stack has no ${String(from)}`);
      text = next;
    }
    stackFile = path.join(cwd, path.basename(stackFile));
    fs.writeFileSync(stackFile, text);
  }
  const evaluation = await evaluateProgram({ stackFile, cwd, programDir, config: variant.config, secretKeys: [...(variant.secretKeys ?? [])] });
  if (evaluation.error !== undefined) throw new Error(`${variant.name}: ${evaluation.error}`);
  const resources = evaluation.resources
    .filter((resource) => resource.custom)
    .map((resource): RegisteredResource => {
      const registration = resource.registration!;
      const inputs = Object.fromEntries(
        Object.entries(resource.inputs).map(([key, value]) => [
          key,
          SCRIPT_INPUTS.has(key) && view === "strict" ? `<${typeof value}>` : value,
        ]),
      );
      return {
        urn: registration.urn,
        parent: registration.parent,
        ...(resource.provider === undefined ? {} : { provider: resource.provider }),
        inputs,
        dependencies: [...registration.dependencies].sort(),
        propertyDependencies: Object.fromEntries(
          Object.entries(registration.propertyDependencies).sort(([a], [b]) => a.localeCompare(b)).map(([key, urns]) => [key, [...urns].sort()]),
        ),
        // As the registration carried them: what its parent's aliases give it is the engine's doing.
        aliases: [...registration.ownAliases].sort(),
        inheritedAliases: registration.aliases.filter((alias) => !registration.ownAliases.includes(alias)).sort(),
        deleteBeforeReplace: registration.deleteBeforeReplace,
        ignoreChanges: [...registration.ignoreChanges].sort(),
      };
    })
    .sort((a, b) => a.urn.localeCompare(b.urn));
  return { resources: withoutProjectDir(resources, cwd) as RegisteredResource[], calls: usedCalls(resources, calls) };
}

/** The calls the resources' tokens name, directly or through another call, by token id. */
function usedCalls(value: unknown, calls: ReadonlyMap<string, RendererCall>, used: Record<string, RendererCall> = {}): Record<string, RendererCall> {
  if (typeof value === "string") {
    const id = TOKEN.exec(value)?.[1];
    if (id !== undefined && used[id] === undefined) {
      const call = calls.get(id);
      if (call === undefined) throw new Error(`a token with no call: ${value}`);
      used[id] = call;
      usedCalls(call.args, calls, used);
    }
  } else if (Array.isArray(value)) {
    value.forEach((item) => usedCalls(item, calls, used));
  } else if (value !== null && typeof value === "object") {
    Object.values(value).forEach((item) => usedCalls(item, calls, used));
  }
  return Object.fromEntries(Object.entries(used).sort(([a], [b]) => a.localeCompare(b)));
}

/** Records a variant with a compiled program in a fresh process. */
export function recordInFreshProcess(programDir: string, variant: string, view: ViewKind, moreConfig: Record<string, string> = {}): Registrations {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovl-registrations-")), "record.json");
  execFileSync(process.execPath, [__filename, programDir, variant, view, out, JSON.stringify(moreConfig)], { stdio: ["ignore", "ignore", "inherit"] });
  const text = fs.readFileSync(out, "utf8");
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return JSON.parse(text) as Registrations;
}

if (require.main === module) {
  const [programDir, variantName, view, out, moreConfig] = process.argv.slice(2);
  const named = STACK_VARIANTS.find((candidate) => candidate.name === variantName);
  const variant = named === undefined ? undefined : { ...named, config: { ...named.config, ...(JSON.parse(moreConfig ?? "{}") as Record<string, string>) } };
  if (variant === undefined || (view !== "strict" && view !== "symbolic") || out === undefined) {
    process.stderr.write("usage: registrationRecord <programDir> <variant> strict|symbolic <out.json>\n");
    process.exit(2);
  }
  recordVariant(path.resolve(programDir), variant, view).then(
    (resources) => {
      fs.writeFileSync(out, JSON.stringify(resources));
      process.exit(0);
    },
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    },
  );
}
