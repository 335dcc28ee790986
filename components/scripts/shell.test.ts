import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { commentText, joinScript, prelude, SCRIPT_PATH, shellQuote, STATE_DIR } from "./shell";

const nasty = ["a'b", "$(x)", "`id`", "two words", "line\nbreak", "", "-n", "\\", "'", "''", "*", "$HOME", "a\"b", "tab\there", "!x"];

test("shellQuote always quotes, even plain words", () => {
  assert.equal(shellQuote("ens33"), "'ens33'");
  assert.equal(shellQuote(""), "''");
  assert.equal(shellQuote("a'b"), "'a'\\''b'");
});

test("shellQuote round-trips nasty strings through sh -c 'printf %s \"$1\"' _ <quoted>", () => {
  for (const value of nasty) {
    const viaArgument = execFileSync("sh", ["-c", `sh -c 'printf %s "$1"' _ ${shellQuote(value)}`], { encoding: "utf8" });
    assert.equal(viaArgument, value, `argument form of ${JSON.stringify(value)}`);
    const inline = execFileSync("sh", ["-c", `printf %s ${shellQuote(value)}`], { encoding: "utf8" });
    assert.equal(inline, value, `inline form of ${JSON.stringify(value)}`);
  }
});

test("shellQuote round-trips through bash too (the usual root login shell)", () => {
  for (const value of nasty) {
    assert.equal(execFileSync("bash", ["-c", `printf %s ${shellQuote(value)}`], { encoding: "utf8" }), value);
  }
});

test("commentText cannot end a comment line early", () => {
  assert.equal(commentText("ens33\nrm -rf /"), "ens33?rm -rf /");
  assert.equal(commentText("a\rb\u0000c"), "a?b?c");
});

test("the prelude sets -eu, the fixed PATH and STATE_DIR", () => {
  const text = joinScript(prelude("x"));
  assert.ok(text.startsWith("#!/bin/sh\n"));
  assert.match(text, /^set -eu$/m);
  assert.ok(text.includes(`\nPATH=${SCRIPT_PATH}\nexport PATH\n`));
  assert.equal(SCRIPT_PATH, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  assert.ok(text.includes(`\nSTATE_DIR='${STATE_DIR}'\n`));
  assert.equal(STATE_DIR, "/var/lib/macvlan-overlay");
});
