// The script builder: a script holds its header, exactly the functions its body needs (transitively,
// callees first, each once), then the body; declarations that do not match the text are refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildScript, callsFunction, codeOnly, definedFunctions, functionClosure, shellFunction } from "./scriptBuilder";
import { SCRIPT_PATH } from "./shellText";

const leaf = shellFunction("t_leaf", ["t_leaf() { echo leaf; }"], { values: [["T_CONSTANT", "it's fixed"]] });
const middle = shellFunction("t_middle", ["t_middle() { t_leaf; }"], { calls: [leaf] });
const other = shellFunction("t_other", ["t_other() { t_leaf; echo other; }"], { calls: [leaf] });
const unused = shellFunction("t_unused", ["t_unused() { :; }"]);

test("a script holds the functions its body calls and theirs, callees first, each once; then the body", () => {
  const text = buildScript({ title: "t", values: [["T_VALUE", "a b"]], uses: [middle, other], body: ["t_middle", "t_other"] });
  assert.equal(
    text,
    [
      "#!/bin/sh",
      "# macvlan-overlay: t",
      "set -eu",
      `PATH=${SCRIPT_PATH}`,
      "export PATH",
      "umask 022",
      "T_VALUE='a b'",
      "T_CONSTANT='it'\\''s fixed'",
      "t_leaf() { echo leaf; }",
      "t_middle() { t_leaf; }",
      "t_other() { t_leaf; echo other; }",
      "t_middle",
      "t_other",
      "",
    ].join("\n"),
  );
  assert.deepEqual(definedFunctions(text), ["t_leaf", "t_middle", "t_other"]);
  assert.deepEqual(functionClosure([other, middle]).map((fn) => fn.name), ["t_leaf", "t_other", "t_middle"]);
});

test("a function the body declares but never calls is refused, and so is one it calls undeclared", () => {
  assert.throws(() => buildScript({ title: "t", values: [], uses: [middle, unused], body: ["t_middle"] }), /the body declares t_unused but never calls it/);
  assert.throws(() => buildScript({ title: "t", values: [], uses: [middle], body: ["t_middle", "t_unused"] }), /the body calls t_unused without declaring it/);
  // Named in a message or a comment is not called.
  assert.throws(() => buildScript({ title: "t", values: [], uses: [middle, unused], body: ["t_middle", "echo 't_unused'", "# t_unused"] }), /never calls it/);
});

test("a function text must declare what it calls", () => {
  const sloppy = shellFunction("t_sloppy", ["t_sloppy() { t_leaf; t_middle; }"], { calls: [leaf] });
  assert.throws(() => buildScript({ title: "t", values: [], uses: [sloppy], body: ["t_sloppy"] }), /t_sloppy calls t_middle without declaring it/);
});

test("a header value has one value; another definition of a function can replace it by name", () => {
  assert.throws(() => buildScript({ title: "t", values: [["T_CONSTANT", "else"]], uses: [leaf], body: ["t_leaf"] }), /T_CONSTANT given twice/);
  const quiet = shellFunction("t_leaf", ["t_leaf() { :; }"]);
  const text = buildScript({ title: "t", values: [], uses: [middle], body: ["t_middle"], replacing: [quiet] });
  assert.ok(text.includes("\nt_leaf() { :; }\n") && !text.includes("echo leaf"), text);
  assert.ok(!text.includes("T_CONSTANT"), "the replaced definition's values go with it");
});

test("values holding shell text get a shellcheck note; rendering is deterministic", () => {
  const spec = { title: "t", values: [["T_TEXT", "echo $HOME \\n"]] as const, uses: [leaf], body: ["t_leaf"] };
  const text = buildScript(spec);
  assert.ok(text.includes("\n# shellcheck disable=SC2016,SC1003 # a value: its $ and \\ are text here\nT_TEXT='echo $HOME \\n'\n"), text);
  assert.equal(buildScript(spec), text);
});

test("codeOnly keeps what runs: command substitutions inside quotes, not their literal text or comments", () => {
  const code = codeOnly(`say "a t_leaf $(t_middle "x") b" # t_other\necho 't_unused' \${x:-y}\n`);
  assert.ok(callsFunction(code, "t_middle"));
  assert.ok(!callsFunction(code, "t_leaf"));
  assert.ok(!callsFunction(code, "t_other"));
  assert.ok(!callsFunction(code, "t_unused"));
  assert.ok(callsFunction(codeOnly("trap on_exit EXIT\nundo_line=undo_run\nundo_push remove_made_dirs x\n"), "remove_made_dirs"));
  assert.ok(callsFunction(codeOnly("undo_line=undo_run\n"), "undo_run"));
});
