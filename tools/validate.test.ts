import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { validateCommandLine, validateStackFile } from "./validate";

// Compiled to dist/tools/, two levels below the project root.
const DEV_STACK = path.join(__dirname, "..", "..", "Pulumi.dev.yaml");
const CLI = path.join(__dirname, "validate.js");

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "validate-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A copy of the dev stack with a container on the gateway, vlan id 5000 and an unknown key. */
function brokenStack(): string {
  const replacements: ReadonlyArray<readonly [string, string]> = [
    ["ip: 172.18.0.5", "ip: 172.18.0.1"],
    [
      "gateway: 172.19.0.1 }\n",
      "gateway: 172.19.0.1 }\n    - { id: 5000, network: mac-net30, subnet: 172.20.0.0/24, gateway: 172.20.0.1 }\n",
    ],
  ];
  let text = fs.readFileSync(DEV_STACK, "utf8");
  for (const [from, to] of replacements) {
    assert.ok(text.includes(from), `the dev stack no longer contains ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  const file = path.join(scratch, "Pulumi.broken.yaml");
  fs.writeFileSync(file, `${text}  macvlan-overlay:colour: blue\n`);
  return file;
}

test("the dev stack validates with its counts", () => {
  assert.deepEqual(validateStackFile(DEV_STACK), {
    exitCode: 0,
    output: `${DEV_STACK}: ok (3 hosts, 2 vlans, 4 containers)`,
  });
});

test("a broken stack names each bad key, then the count", () => {
  const file = brokenStack();
  assert.deepEqual(validateStackFile(file), {
    exitCode: 1,
    output: [
      "colour blue: is not a known key (known: trunkInterface, persistence, sshUser, sshPrivateKeyFile, sshPrivateKey, " +
        "sshKnownHostsFile, sshProxy, vlans, hosts, router, macvlanMode, verify, reapply)",
      "vlans[2].id 5000: must be an integer from 1 to 4094",
      "hosts[1].containers[0].ip 172.18.0.1: is the gateway of vlan 10",
      `${file}: 3 problems`,
    ].join("\n"),
  });
});

test("a file that is not YAML is one problem", () => {
  const file = path.join(scratch, "Pulumi.bad.yaml");
  fs.writeFileSync(file, "config: [\n");
  const report = validateStackFile(file);
  assert.equal(report.exitCode, 1);
  assert.match(report.output, new RegExp(`^${escape(file)}: not valid YAML: `));
  assert.match(report.output, new RegExp(`\n${escape(file)}: 1 problem$`));
});

test("a missing file or a wrong command line exits 2", () => {
  assert.deepEqual(validateStackFile("Pulumi.nothere.yaml"), { exitCode: 2, output: "Pulumi.nothere.yaml: no such file" });
  const usage = { exitCode: 2, output: "usage: npm run validate -- Pulumi.<stack>.yaml" };
  assert.deepEqual(validateCommandLine([]), usage);
  assert.deepEqual(validateCommandLine(["a.yaml", "b.yaml"]), usage);
  assert.deepEqual(validateCommandLine(["--stack"]), usage);
});

test("the compiled command exits 0, 1 and 2 and writes to stdout only on success", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });

  const good = run(DEV_STACK);
  assert.deepEqual([good.status, good.stdout, good.stderr], [0, `${DEV_STACK}: ok (3 hosts, 2 vlans, 4 containers)\n`, ""]);

  const file = brokenStack();
  const broken = run(file);
  assert.deepEqual([broken.status, broken.stdout], [1, ""]);
  assert.equal(broken.stderr.split("\n").at(-2), `${file}: 3 problems`);

  const missing = run("Pulumi.nothere.yaml");
  assert.deepEqual([missing.status, missing.stderr], [2, "Pulumi.nothere.yaml: no such file\n"]);

  const usage = run();
  assert.deepEqual([usage.status, usage.stderr], [2, "usage: npm run validate -- Pulumi.<stack>.yaml\n"]);
});

test("a port written with a leading 0 is refused by key, with the other problems", () => {
  const file = path.join(scratch, "Pulumi.octal.yaml");
  const text = fs.readFileSync(DEV_STACK, "utf8").replace("role: docker\n", "role: docker\n      port: 022\n");
  fs.writeFileSync(file, `${text}  macvlan-overlay:sshPrivatekey:\n    secure: v1:c2VjcmV0Cg==\n`);
  assert.deepEqual(validateStackFile(file), {
    exitCode: 1,
    output: [
      "hosts[0].port 022: a leading 0 makes it octal to the Pulumi CLI (YAML 1.1) and decimal to validate (YAML 1.2): drop the 0, or quote the text",
      "sshPrivatekey (secret): is not a known key (known: trunkInterface, persistence, sshUser, sshPrivateKeyFile, sshPrivateKey, " +
        "sshKnownHostsFile, sshProxy, vlans, hosts, router, macvlanMode, verify, reapply)",
      `${file}: 2 problems`,
    ].join("\n"),
  });
});

test("a vlan address over the management network is refused by key (SSH lockout)", () => {
  const file = path.join(scratch, "Pulumi.lockout.yaml");
  const text = fs.readFileSync(DEV_STACK, "utf8").replace('"10": 192.168.22.10/24', '"10": 10.213.70.10/25');
  fs.writeFileSync(file, text);
  assert.deepEqual(validateStackFile(file), {
    exitCode: 1,
    output: [
      "hosts[0].vlanAddresses.10 10.213.70.10/25: contains hosts[0].address 10.213.70.11: " +
        "the route it adds would take SSH to that host off its management network",
      `${file}: 1 problem`,
    ].join("\n"),
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
