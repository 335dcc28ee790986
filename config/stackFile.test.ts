import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseTopology } from "../topology";
import { StackFileError, readStackConfig } from "./stackFile";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

let written = 0;
function stackFile(text: string): string {
  const file = path.join(scratch, `Pulumi.test${++written}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

test("project keys lose their prefix, other projects' keys keep it, provider keys are dropped", () => {
  const file = stackFile(
    [
      "secretsprovider: passphrase",
      "encryptionsalt: v1:abc",
      "config:",
      "  macvlan-overlay:sshUser: admin",
      "  macvlan-overlay:sshPrivateKey:",
      "    secure: v1:c2VjcmV0",
      "  macvlan-overlay:vlans:",
      "    - { id: 10, network: mac-net10, subnet: 172.18.0.0/24, gateway: 172.18.0.1 }",
      "  trunkInterface: eth0",
      "  otherproj:foo: bar",
      "  docker:host: ssh://root@10.0.0.1",
      "  command:anything: 1",
      "  random:seed: 2",
      "  pulumi:template: x",
      "",
    ].join("\n"),
  );
  assert.deepEqual(readStackConfig(file), {
    project: "macvlan-overlay",
    raw: {
      sshUser: "admin",
      sshPrivateKey: { secure: "v1:c2VjcmV0" },
      vlans: [{ id: 10, network: "mac-net10", subnet: "172.18.0.0/24", gateway: "172.18.0.1" }],
      trunkInterface: "eth0",
      "otherproj:foo": "bar",
    },
    literalProblems: [],
    environments: [],
  });
});

test("another project's key is reported as unknown under its full name", () => {
  const file = stackFile("config:\n  otherproj:foo: bar\n");
  const result = parseTopology(readStackConfig(file).raw);
  assert.equal(result.ok, false);
  assert.deepEqual(result.ok ? undefined : result.problems[0], {
    path: "otherproj:foo",
    value: "bar",
    message:
      "is not a known key (known: trunkInterface, persistence, sshUser, sshPrivateKeyFile, sshPrivateKey, " +
      "sshKnownHostsFile, sshProxy, vlans, hosts, router, macvlanMode, verify, reapply, confirmWithinSeconds)",
  });
});

test("vlanAddresses keys written as numbers in YAML arrive as the strings of the ids", () => {
  const file = stackFile('config:\n  macvlan-overlay:hosts:\n    - { vlanAddresses: { 10: 192.168.22.10/24, "20": 192.168.23.10/24 } }\n');
  assert.deepEqual(readStackConfig(file).raw.hosts, [{ vlanAddresses: { "10": "192.168.22.10/24", "20": "192.168.23.10/24" } }]);
});

test("a stack file without config, or an empty one, gives no keys", () => {
  assert.deepEqual(readStackConfig(stackFile("encryptionsalt: v1:abc\n")).raw, {});
  assert.deepEqual(readStackConfig(stackFile("")).raw, {});
});

test("YAML that does not parse is an error naming the file", () => {
  const file = stackFile("config:\n  macvlan-overlay:vlans: [\n");
  assert.throws(
    () => readStackConfig(file),
    (error: unknown) =>
      error instanceof StackFileError && error.reason === "invalid" && error.message.startsWith(`${file}: not valid YAML: `),
  );
});

test("a key given twice is an error naming the file", () => {
  const file = stackFile("config:\n  macvlan-overlay:sshUser: a\n  macvlan-overlay:sshUser: b\n");
  assert.throws(
    () => readStackConfig(file),
    (error: unknown) => error instanceof StackFileError && error.reason === "invalid" && error.message.startsWith(`${file}: not valid YAML: `),
  );
});

test("a stack file whose config is not a mapping is an error naming the file", () => {
  const file = stackFile("config: [1, 2]\n");
  assert.throws(() => readStackConfig(file), {
    name: "StackFileError",
    message: `${file}: config: must be a mapping of keys to values`,
  });
  const list = stackFile("- 1\n");
  assert.throws(() => readStackConfig(list), { message: `${list}: must be a YAML mapping with a config: key` });
});

test("a file that cannot be read is an unreadable error naming the file", () => {
  const file = path.join(os.tmpdir(), "no-such-dir-for-stack-file", "Pulumi.x.yaml");
  assert.throws(
    () => readStackConfig(file),
    (error: unknown) =>
      error instanceof StackFileError && error.reason === "unreadable" && error.message.startsWith(`${file}: cannot read: ENOENT`),
  );
});

test("numbers written with a leading 0, an _ or 0b are named by key path, quoted text and other providers are not", () => {
  const file = stackFile(
    [
      "config:",
      "  macvlan-overlay:vlans:",
      "    - { id: 010, network: mac-net10, subnet: 172.18.0.0/24, gateway: 172.18.0.1 }",
      "  macvlan-overlay:hosts:",
      '    - { port: 022, vlanAddresses: { 010: 192.168.22.10/24, "020": 192.168.23.10/24 } }',
      "    - { port: 2_222, name: \"0022\" }",
      "    - { port: 0b10110 }",
      "  verify: 00",
      "  docker:port: 022",
      "  macvlan-overlay:ok: [0, 10, 0.5, -1, 0x1F, 1e3]",
      "",
    ].join("\n"),
  );
  const octal = "a leading 0 makes it octal to the Pulumi CLI (YAML 1.1) and decimal to validate (YAML 1.2): drop the 0, or quote the text";
  assert.deepEqual(readStackConfig(file).literalProblems, [
    { path: "vlans[0].id", value: "010", message: octal },
    { path: "hosts[0].port", value: "022", message: octal },
    { path: "hosts[0].vlanAddresses.010", value: "010", message: octal },
    {
      path: "hosts[1].port",
      value: "2_222",
      message: "the Pulumi CLI (YAML 1.1) reads digits with _ as a number, validate (YAML 1.2) as text: write the digits without _",
    },
    {
      path: "hosts[2].port",
      value: "0b10110",
      message: "the Pulumi CLI (YAML 1.1) reads 0b as a binary number, validate (YAML 1.2) as text: write it in decimal",
    },
    { path: "verify", value: "00", message: octal },
  ]);
});
