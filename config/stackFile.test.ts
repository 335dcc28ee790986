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
      "sshKnownHostsFile, vlans, hosts, router, macvlanMode, verify)",
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
