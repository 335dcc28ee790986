// The script builder. A host script is: its first lines (shell options, PATH), a header holding every
// value it takes as quoted assignments, the shell functions its body calls (and, transitively, the ones
// those call), then the body. Nothing else: a script defines no function it never calls, and the body
// of a kind of script (a VLAN link's create, say) is the same text for every host and VLAN; only the
// header differs. Pure: the same input gives byte-identical text.

import { commentText, joinScript, SCRIPT_PATH, shellQuote } from "./shellText";

/** A named shell function: its text, the functions that text calls, and the header values it reads. */
export interface ShellFunction {
  readonly name: string;
  /** The definition, after any line that sets the variable it keeps its state in ("UNDO="). */
  readonly text: readonly string[];
  readonly calls: readonly ShellFunction[];
  /** Header values the function reads, NAME → value (e.g. STATE_DIR). */
  readonly values: ReadonlyArray<readonly [string, string]>;
}

/** Every function name the builder knows: a body or function calling one it did not declare is an error. */
const knownNames = new Set<string>();

export function shellFunction(
  name: string,
  text: readonly string[],
  options: { readonly calls?: readonly ShellFunction[]; readonly values?: ReadonlyArray<readonly [string, string]> } = {},
): ShellFunction {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`shell function name ${JSON.stringify(name)}`);
  if (!text.some((line) => line.startsWith(`${name}() {`))) throw new Error(`${name}: its text does not define it`);
  knownNames.add(name);
  return { name, text, calls: options.calls ?? [], values: options.values ?? [] };
}

/** Body lines and the functions they call: a piece several scripts share (taking the host lock, say). */
export interface ScriptStep {
  readonly lines: readonly string[];
  readonly uses: readonly ShellFunction[];
}

export interface ScriptSpec {
  /** After "# macvlan-overlay: " on the second line. Values belong in `values`, not here. */
  readonly title: string;
  /** Further comment lines before `set -eu`. */
  readonly comments?: readonly string[];
  /** The script changes the host: `umask 022`. Default true. */
  readonly changesHost?: boolean;
  /** The header: every value the script takes, NAME → value, in this order (quoted here). */
  readonly values: ReadonlyArray<readonly [string, string]>;
  /** The functions the body calls (each must be called there). */
  readonly uses: readonly ShellFunction[];
  readonly body: readonly string[];
  /** Definitions used instead of those of the same name (a delete keeps no undo journal). */
  readonly replacing?: readonly ShellFunction[];
  /** A boot fragment's text: no `#!` line (the marker line comes first; the boot runner runs it with sh). Default false. */
  readonly fragment?: boolean;
}

/**
 * Shell text with comments and the literal contents of quotes blanked out (command substitutions
 * inside double quotes stay): what is left is what the shell runs as words. Newlines are kept.
 */
export function codeOnly(text: string): string {
  const out: string[] = [];
  // "c" code, "p" a parenthesis in code, "b" ${...}, "s" single quotes, "d" double quotes; $( opens "c".
  const stack: string[] = ["c"];
  const keep = (s: string) => {
    out.push(s);
  };
  const blank = (s: string) => {
    for (let k = 0; k < s.length; k++) out.push(s[k] === "\n" ? "\n" : " ");
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const top = stack[stack.length - 1];
    if (top === "s") {
      if (ch === "'") stack.pop();
      (ch === "'" ? keep : blank)(ch);
    } else if (ch === "\\") {
      blank(text.slice(i, i + 2));
      i++;
    } else if (ch === "$" && (text[i + 1] === "(" || text[i + 1] === "{")) {
      stack.push(text[i + 1] === "(" ? "c" : "b");
      keep(text.slice(i, i + 2));
      i++;
    } else if (top === "d") {
      if (ch === '"') stack.pop();
      (ch === '"' ? keep : blank)(ch);
    } else if (ch === "'" || ch === '"') {
      stack.push(ch === "'" ? "s" : "d");
      keep(ch);
    } else if (top === "b" && ch === "}") {
      stack.pop();
      keep(ch);
    } else if (ch === "(") {
      stack.push("p");
      keep(ch);
    } else if (ch === ")") {
      // A `case` pattern's ) closes nothing.
      if (stack.length > 1 && (top === "p" || top === "c")) stack.pop();
      keep(ch);
    } else if (ch === "#" && (i === 0 || /[\s;&|(]/.test(text[i - 1]))) {
      const end = text.indexOf("\n", i);
      const cut = end === -1 ? text.length : end;
      blank(text.slice(i, cut));
      i = cut - 1;
    } else {
      keep(ch);
    }
  }
  return out.join("");
}

/** Whether shell text runs `name`: as a command, a trap, an undo_push argument or a journal entry. */
export function callsFunction(code: string, name: string): boolean {
  let pattern = callPatterns.get(name);
  if (pattern === undefined) {
    pattern = new RegExp(`(^|[\\s;&|!({\`=])${name}(?=$|[\\s;&|)])`, "m");
    callPatterns.set(name, pattern);
  }
  return pattern.test(code);
}

/** The compiled pattern of each name callsFunction was asked about (names are few; scripts are many). */
const callPatterns = new Map<string, RegExp>();

/** A function's text as codeOnly leaves it: computed once, as the same functions go into many scripts. */
const functionCodes = new WeakMap<ShellFunction, string>();
function functionCode(fn: ShellFunction): string {
  let code = functionCodes.get(fn);
  if (code === undefined) {
    code = codeOnly(fn.text.join("\n"));
    functionCodes.set(fn, code);
  }
  return code;
}

/** The names of the functions shell text defines, in order. */
export function definedFunctions(text: string): string[] {
  return [...codeOnly(text).matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\(\)\s*\{/gm)].map((match) => match[1]);
}

/** The functions `uses` needs, callees before their callers, each once; `replacing` swaps definitions by name. */
export function functionClosure(uses: readonly ShellFunction[], replacing: readonly ShellFunction[] = []): ShellFunction[] {
  const byName = new Map(replacing.map((fn) => [fn.name, fn]));
  const ordered: ShellFunction[] = [];
  const seen = new Set<string>();
  const visit = (fn: ShellFunction) => {
    const chosen = byName.get(fn.name) ?? fn;
    if (seen.has(chosen.name)) return;
    seen.add(chosen.name);
    chosen.calls.forEach(visit);
    ordered.push(chosen);
  };
  uses.forEach(visit);
  return ordered;
}

function checkCalls(where: string, code: string, declared: readonly ShellFunction[], included: ReadonlySet<string>): void {
  for (const fn of declared) {
    if (!callsFunction(code, fn.name)) throw new Error(`${where} declares ${fn.name} but never calls it`);
  }
  for (const name of knownNames) {
    if (callsFunction(code, name) && !included.has(name) && !declared.some((fn) => fn.name === name)) {
      throw new Error(`${where} calls ${name} without declaring it`);
    }
  }
}

/** The header values: the script's own, then the constants its functions read; a name has one value. */
function headerValues(spec: ScriptSpec, functions: readonly ShellFunction[]): Array<readonly [string, string]> {
  const values = new Map<string, string>();
  for (const [name, value] of [...spec.values, ...functions.flatMap((fn) => fn.values)]) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`header value name ${JSON.stringify(name)}`);
    const earlier = values.get(name);
    if (earlier !== undefined && earlier !== value) throw new Error(`header value ${name} given twice: ${earlier} and ${value}`);
    values.set(name, value);
  }
  return [...values.entries()];
}

/** A value holding shell text (a file's content, a fragment) stays text: shellcheck is told so. */
function shellcheckNote(value: string): string[] {
  const codes = [...(/[$`]/.test(value) ? ["SC2016"] : []), ...(value.includes("\\") ? ["SC1003"] : [])];
  return codes.length === 0 ? [] : [`# shellcheck disable=${codes.join(",")} # a value: its $ and \\ are text here`];
}

/** The first lines of every script: comments, shell options, PATH. */
export function scriptStart(title: string, comments: readonly string[] = [], changesHost = true, shebang = true): string[] {
  return [
    ...(shebang ? ["#!/bin/sh"] : []),
    `# macvlan-overlay: ${commentText(title)}`,
    ...comments.map((line) => `# ${commentText(line)}`),
    "set -eu",
    `PATH=${SCRIPT_PATH}`,
    "export PATH",
    ...(changesHost ? ["umask 022"] : []),
  ];
}

/** The script: start, header, functions (callees first), body. Throws on an undeclared or unused function. */
export function buildScript(spec: ScriptSpec): string {
  const functions = functionClosure(spec.uses, spec.replacing);
  const included = new Set(functions.map((fn) => fn.name));
  const bodyCode = codeOnly(spec.body.join("\n"));
  checkCalls("the body", bodyCode, spec.uses, included);
  for (const fn of functions) {
    checkCalls(fn.name, functionCode(fn), fn.calls, included);
    const called = callsFunction(bodyCode, fn.name) || functions.some((other) => other !== fn && callsFunction(functionCode(other), fn.name));
    if (!called) throw new Error(`${fn.name} is included but never called`);
  }
  return joinScript([
    ...scriptStart(spec.title, spec.comments, spec.changesHost ?? true, spec.fragment !== true),
    ...headerValues(spec, functions).flatMap(([name, value]) => [...shellcheckNote(value), `${name}=${shellQuote(value)}`]),
    ...functions.flatMap((fn) => fn.text),
    ...spec.body,
  ]);
}

/** Joins steps and plain lines into one body with the functions it uses. */
export function steps(...parts: ReadonlyArray<string | ScriptStep | readonly string[]>): ScriptStep {
  const lines: string[] = [];
  const uses: ShellFunction[] = [];
  for (const part of parts) {
    if (typeof part === "string") lines.push(part);
    else if ("lines" in part) {
      lines.push(...part.lines);
      uses.push(...part.uses);
    } else lines.push(...part);
  }
  return { lines, uses };
}
