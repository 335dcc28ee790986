import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import type { EvaluateOptions, Evaluation } from "../testing/programHarness";
import { FAKE_KNOWN_HOSTS } from "../testing/stackEvaluation";

// Compiled to dist/config/; the program runs in a child process, as `pulumi up` would run it.
const DEV_STACK = path.join(__dirname, "..", "..", "Pulumi.dev.yaml");
const CLI = path.join(__dirname, "..", "testing", "evaluateCli.js");
const KEY_TEXT = "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END OPENSSH PRIVATE KEY-----\n";

function evaluate(options: EvaluateOptions): Evaluation {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovl-config-")), "options.json");
  fs.writeFileSync(file, JSON.stringify(options));
  return JSON.parse(execFileSync(process.execPath, [CLI, file], { encoding: "utf8", maxBuffer: 64 << 20 })) as Evaluation;
}

/** A project folder with the dev stack, changed by `edit`, as Pulumi.<stack>.yaml, and a fake key file. */
function project(stack: string, edit: (text: string) => string): { cwd: string; stackFile: string } {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-project-"));
  fs.mkdirSync(path.join(cwd, ".lab"));
  fs.writeFileSync(path.join(cwd, ".lab", "id_ed25519"), KEY_TEXT, { mode: 0o600 });
  fs.writeFileSync(path.join(cwd, ".lab", "known_hosts"), FAKE_KNOWN_HOSTS);
  const stackFile = path.join(cwd, `Pulumi.${stack}.yaml`);
  fs.writeFileSync(stackFile, edit(fs.readFileSync(DEV_STACK, "utf8")));
  return { cwd, stackFile };
}

test("the program refuses a vlan id written 010, naming the key, before any resource", () => {
  const { cwd, stackFile } = project("octal", (text) => text.replace("{ id: 10, network", "{ id: 010, network"));
  const result = evaluate({ stackFile, cwd });
  assert.equal(
    result.error,
    "invalid stack configuration:\n" +
      "vlans[0].id 010: a leading 0 makes it octal to the Pulumi CLI (YAML 1.1) and decimal to validate (YAML 1.2): drop the 0, or quote the text",
  );
  assert.deepEqual(result.resources, []);
});

test("a secret under a misspelt key is named but never shown", () => {
  const { cwd, stackFile } = project("misspelt", (text) => text);
  const result = evaluate({
    stackFile,
    cwd,
    config: { "macvlan-overlay:sshPrivatekey": KEY_TEXT },
    secretKeys: ["macvlan-overlay:sshPrivatekey"],
  });
  assert.equal(
    result.error,
    "invalid stack configuration:\nsshPrivatekey (secret): is not a known key: did you mean `sshPrivateKey`? (known: trunkInterface, persistence, sshUser, " +
      "sshPrivateKeyFile, sshPrivateKey, sshKnownHostsFile, sshProxy, vlans, hosts, router, macvlanMode, verify, reapply, confirmWithinSeconds)",
  );
  assert.ok(!result.error?.includes("c2VjcmV0"), "the key text appears in the error");
  assert.deepEqual(result.resources, []);
});

test("a secret value in a known key that is not secret in the schema is not shown either", () => {
  const { cwd, stackFile } = project("secretuser", (text) => text);
  const result = evaluate({ stackFile, cwd, config: { "macvlan-overlay:sshUser": "Bad User" }, secretKeys: ["macvlan-overlay:sshUser"] });
  assert.equal(result.error, "invalid stack configuration:\nsshUser (secret): must be a Linux user name: a-z or _, then up to 31 of a-z 0-9 _ -");
  assert.deepEqual(result.resources, []);
});

test("the program refuses the SSH lockout and a one-character container name before any resource", () => {
  const { cwd, stackFile } = project("lockout", (text) =>
    text.replace('"10": 192.168.22.10/24', '"10": 10.213.70.10/25').replace("name: bbox40", "name: b"),
  );
  const result = evaluate({ stackFile, cwd });
  assert.equal(
    result.error,
    "invalid stack configuration:\n" +
      "hosts[1].containers[1].name b: must be a Docker name of at least 2 characters\n" +
      "hosts[0].vlanAddresses.10 10.213.70.10/25: contains hosts[0].address 10.213.70.11: " +
      "the route it adds would take SSH to that host off its management network",
  );
  assert.deepEqual(result.resources, []);
});
