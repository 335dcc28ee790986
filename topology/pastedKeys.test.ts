// A private key pasted under any key: named by its key with how to set it as a secret, and not one
// character of it in any message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { devStackConfig, problemsAfter, type RawConfig } from "../testing/devStackConfig";
import { formatProblems, parseTopology } from "./parse";
import { renderValue } from "./problems";

// Every line is key material: no message may hold any of it, not even the armour's body.
const BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW";
const PASTED = `-----BEGIN OPENSSH PRIVATE KEY-----\n${BODY}\n-----END OPENSSH PRIVATE KEY-----\n`;
const AS_SECRET = "set it as a secret: pulumi config set --secret sshPrivateKey < key";

function assertNotShown(problems: ReturnType<typeof problemsAfter>): void {
  const text = formatProblems(problems);
  for (const part of [BODY.slice(0, 8), "BEGIN", "OPENSSH", "-----"]) assert.ok(!text.includes(part), `a message shows ${part}:\n${text}`);
}

test("a private key pasted under sshPrivateKeyFile is named with how to set it as a secret, and nothing else is said of that key", () => {
  const problems = problemsAfter((c) => (c.sshPrivateKeyFile = PASTED));
  assert.deepEqual(problems, [
    {
      path: "sshPrivateKeyFile",
      value: "(private key, not shown)",
      message: `holds a private key, not a path to one: ${AS_SECRET} (and remove sshPrivateKeyFile), or write the key file's path here`,
    },
  ]);
  assertNotShown(problems);
});

test("a private key under a misspelt key, deep in a host, or on one line is found at each key path", () => {
  const problems = problemsAfter((c: RawConfig) => {
    c.sshKey = PASTED;
    c.hosts[0].containers[0].key = PASTED.replace(/\n/g, " ");
    c.hosts[1].notes = { login: ["root", PASTED] };
  });
  const pasted = `holds a private key, which never belongs in the stack file as text: ${AS_SECRET}, and remove it from here`;
  assert.deepEqual(problems, [
    // In the order of the keys as written: sshKey was added last.
    { path: "hosts[0].containers[0].key", value: "(private key, not shown)", message: pasted },
    { path: "hosts[1].notes.login[1]", value: "(private key, not shown)", message: pasted },
    { path: "sshKey", value: "(private key, not shown)", message: pasted },
    // The unknown key holding it is still named, its value without the key text.
    {
      path: "hosts[1].notes",
      value: '{"login":["root","(private key, not shown)"]}',
      message: "is not a known key (known: name, address, port, role, trunkInterface, vlanAddresses, containers, hostShim, hostKey)",
    },
  ]);
  assertNotShown(problems);
});

test("a plaintext sshPrivateKey keeps its own message, without its text", () => {
  const raw = devStackConfig();
  delete raw.sshPrivateKeyFile;
  raw.sshPrivateKey = PASTED;
  const result = parseTopology(raw);
  assert.equal(result.ok, false);
  assert.deepEqual(result.ok ? [] : result.problems, [
    { path: "sshPrivateKey", value: "(plaintext, not shown)", message: "must be set as a secret: pulumi config set --secret sshPrivateKey < key" },
  ]);
});

test("a rendered value never shows private key text, at any depth", () => {
  assert.equal(renderValue(PASTED), "(private key, not shown)");
  assert.equal(renderValue({ a: [PASTED] }), '{"a":["(private key, not shown)"]}');
  assert.equal(renderValue("-----BEGIN RSA PRIVATE KEY-----MIIEpAIBAAKCAQEA"), "(private key, not shown)");
});
