// What the dev stack hands its host commands, under Pulumi's mocks: few lines, small commands, no
// function a script defines and never calls, no block held twice, one body per kind of script (only
// the header of values differs), and a change to one concern's argument that changes only its scripts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isSecretWrapper, type Evaluation } from "../../testing/programHarness";
import { DEV_STACK, evaluate, evaluateEditedDevStack, fakeProjectDir } from "../../testing/stackEvaluation";
import { callsFunction, codeOnly, definedFunctions } from "./scriptBuilder";

const COMMAND = "command:remote:Command";
/** Every input of a command that is script text. */
const SCRIPT_INPUTS = ["create", "update", "delete", "stdin"] as const;

/**
 * At most this many lines of script in all the dev stack's commands (split on newlines): 5,000 before
 * commit confirmed, which added a Confirm per host and, in each of the ten arming creates, the
 * functions that arm, file and run a revert (components/scripts/confirm.ts).
 */
const MAX_LINES = 5500;
/**
 * At most this many bytes in one command's script inputs (create + update + delete + stdin). Each
 * script carries every helper it calls, by decision (docs/design.md, "Every host script carries its
 * own helpers"): a VLAN link's create and delete are 18,367 bytes, 2.6 KiB of it commit confirmed's
 * arming functions. A bound, so the scripts do not grow back.
 */
const MAX_COMMAND_BYTES = 18 * 1024;
/** No script holds a block of this many lines twice. */
const REPEATED_BLOCK_LINES = 40;

type Scripts = Map<string, Partial<Record<(typeof SCRIPT_INPUTS)[number], string>>>;

function scriptsOf(evaluation: Evaluation): Scripts {
  assert.equal(evaluation.error, undefined);
  const scripts: Scripts = new Map();
  for (const resource of evaluation.resources.filter((r) => r.type === COMMAND)) {
    const inputs: Partial<Record<(typeof SCRIPT_INPUTS)[number], string>> = {};
    for (const input of SCRIPT_INPUTS) {
      const value = isSecretWrapper(resource.inputs[input]) ? resource.inputs[input].value : resource.inputs[input];
      if (typeof value === "string") inputs[input] = value;
    }
    scripts.set(resource.name, inputs);
  }
  return scripts;
}

let dev: Scripts | undefined;
function devScripts(): Scripts {
  dev ??= scriptsOf(evaluate({ stackFile: DEV_STACK }));
  return dev;
}

function everyText(scripts: Scripts): Array<[string, string]> {
  return [...scripts].flatMap(([name, inputs]) => Object.entries(inputs).map(([input, text]): [string, string] => [`${name} ${input}`, text]));
}

/** The header of quoted assignments (and shellcheck notes on them): every value a script takes. */
const HEADER_LINE = /^(?:# shellcheck disable=[^\n]*\n)?[A-Z][A-Z0-9_]*='(?:[^']|'\\'')*'\n/gm;

test("the dev stack's host commands hold 20 commands (3 of them Confirms) and at most 5,500 lines of script", () => {
  const scripts = devScripts();
  assert.equal(scripts.size, 20);
  const lines = everyText(scripts).reduce((sum, [, text]) => sum + text.split("\n").length, 0);
  assert.ok(lines <= MAX_LINES, `${lines} lines`);
});

/** Each command's script inputs in bytes, largest first. */
function commandSizes(): Array<[string, number]> {
  return [...devScripts()]
    .map(([name, inputs]): [string, number] => [name, Object.values(inputs).reduce((sum, text) => sum + Buffer.byteLength(text ?? ""), 0)])
    .sort((a, b) => b[1] - a[1]);
}

test("no command's script inputs (create + update + delete + stdin) are over 18 KiB", () => {
  const [name, bytes] = commandSizes()[0];
  assert.ok(bytes <= MAX_COMMAND_BYTES, `${name}: ${bytes} bytes`);
});

test("no script defines a shell function it does not call", () => {
  const unused = everyText(devScripts()).flatMap(([where, text]) => {
    const code = codeOnly(text);
    return definedFunctions(text)
      .filter((name) => !callsFunction(code, name))
      .map((name) => `${where}: ${name}`);
  });
  assert.deepEqual(unused, []);
});

test("every shell function a script calls is defined in that script", () => {
  const texts = everyText(devScripts());
  const known = new Set(texts.flatMap(([, text]) => definedFunctions(text)));
  assert.ok(known.size > 30, `${known.size} functions in all`);
  const missing = texts.flatMap(([where, text]) => {
    const code = codeOnly(text);
    const defined = new Set(definedFunctions(text));
    return [...known].filter((name) => callsFunction(code, name) && !defined.has(name)).map((name) => `${where}: ${name}`);
  });
  assert.deepEqual(missing, []);
});

test("no script holds the same 40-line block twice", () => {
  const repeated: string[] = [];
  for (const [where, text] of everyText(devScripts())) {
    const lines = text.split("\n");
    const seen = new Map<string, number>();
    for (let at = 0; at + REPEATED_BLOCK_LINES <= lines.length; at++) {
      const block = lines.slice(at, at + REPEATED_BLOCK_LINES).join("\n");
      const first = seen.get(block);
      if (first !== undefined && at >= first + REPEATED_BLOCK_LINES) {
        repeated.push(`${where}: lines ${first + 1} and ${at + 1}`);
        break;
      }
      if (first === undefined) seen.set(block, at);
    }
  }
  assert.deepEqual(repeated, []);
});

test("a kind of script has one body: host1's ens33.10 link and the router's ens33.20 differ only in their header", () => {
  const scripts = devScripts();
  for (const input of ["create", "delete"] as const) {
    const a = scripts.get("host1/vlan10/link/ens33.10")?.[input];
    const b = scripts.get("router/vlan20/link/ens33.20")?.[input];
    assert.ok(a !== undefined && b !== undefined, input);
    assert.notEqual(a, b, `${input}: the two links' values differ`);
    assert.equal(a.replace(HEADER_LINE, ""), b.replace(HEADER_LINE, ""), `${input}: the same text once the headers are gone`);
  }
  const promisc = ["host1", "host2", "router"].map((host) => scripts.get(`${host}/trunk/promisc/ens33`));
  assert.deepEqual(promisc.slice(1), [promisc[0], promisc[0]], "the same trunk on every host: the same scripts");
});

test("changing host1's VLAN 10 address changes only that link's scripts, and only their header (and host1's Confirm, which holds its fingerprint)", () => {
  const changed = scriptsOf(
    evaluateEditedDevStack(fakeProjectDir(), [['vlanAddresses: { "10": 192.168.22.10/24,', 'vlanAddresses: { "10": 192.168.22.99/24,']]),
  );
  const before = devScripts();
  assert.deepEqual([...changed.keys()].sort(), [...before.keys()].sort());
  const differing = [...before.keys()].filter((name) => JSON.stringify(before.get(name)) !== JSON.stringify(changed.get(name)));
  assert.deepEqual(differing, ["host1/vlan10/link/ens33.10", "host1/confirm"]);
  const [name] = differing;
  const create = [before.get(name)!.create!, changed.get(name)!.create!];
  assert.ok(create[1].includes("\nADDRESS='192.168.22.99/24'\n") && create[1].includes("\nIPADDR=192.168.22.99\n"), create[1]);
  assert.equal(create[0].replace(HEADER_LINE, ""), create[1].replace(HEADER_LINE, ""), "only the header differs");
  assert.equal(before.get(name)!.delete, changed.get(name)!.delete, "the delete takes no address");
});
