import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FAKE_HOST_KEY, fakeProjectDir } from "../testing/stackEvaluation";
import { validateCommandLine, validateStackFile } from "./validate";

// Compiled to dist/tools/, two levels below the project root.
const ROOT = path.join(__dirname, "..", "..");
const DEV_STACK = path.join(ROOT, "Pulumi.dev.yaml");
const CLI = path.join(__dirname, "validate.js");
const USAGE_LINE = "usage: npm run validate -- -s <stack>";
const PASTED = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";

/** host2's containers in the dev stack: without them it is a docker host with nothing on it. */
const HOST2_CONTAINERS = "      containers:\n        - { name: bbox30, vlan: 10, ip: 172.18.0.5 }\n        - { name: bbox40, vlan: 20, ip: 172.19.0.4 }\n";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "validate-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** The dev stack, edited, as Pulumi.<stack>.yaml in a project folder holding the fake key and known_hosts files. */
function devProject(stack: string, edits: ReadonlyArray<readonly [string, string]> = [], append = ""): { dir: string; file: string } {
  const dir = fakeProjectDir();
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  let text = fs.readFileSync(DEV_STACK, "utf8");
  for (const [from, to] of edits) {
    assert.ok(text.includes(from), `the dev stack no longer contains ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  fs.writeFileSync(file, text + append);
  return { dir, file };
}

/** A copy of the dev stack with a container on the gateway, vlan id 5000 and an unknown key. */
function brokenStack(): string {
  const { file } = devProject(
    "broken",
    [
      ["ip: 172.18.0.5", "ip: 172.18.0.1"],
      [
        "gateway: 172.19.0.1 }\n",
        "gateway: 172.19.0.1 }\n    - { id: 5000, network: mac-net30, subnet: 172.20.0.0/24, gateway: 172.20.0.1 }\n",
      ],
    ],
    "  macvlan-overlay:colour: blue\n",
  );
  return file;
}

test("the dev stack, with its key file and known_hosts, validates with its counts", () => {
  const { file } = devProject("dev");
  assert.deepEqual(validateStackFile(file), { exitCode: 0, output: `${file}: ok (3 hosts, 2 vlans, 4 containers)`, notes: [] });
});

test("a broken stack names each bad key, then the count", () => {
  const file = brokenStack();
  assert.deepEqual(validateStackFile(file), {
    exitCode: 1,
    output: [
      "colour blue: is not a known key (known: trunkInterface, persistence, sshUser, sshPrivateKeyFile, sshPrivateKey, " +
        "sshKnownHostsFile, sshProxy, vlans, hosts, router, macvlanMode, verify, reapply, confirmWithinSeconds)",
      "vlans[2].id 5000: must be an integer from 1 to 4094",
      "hosts[1].containers[0].ip 172.18.0.1: is the gateway of vlan 10",
      `${file}: 3 problems`,
    ].join("\n"),
    notes: [],
  });
});

test("a misspelt key is answered with the key it most likely meant", () => {
  const { file } = devProject("misspelt", [["vlanAddresses: { \"10\": 192.168.22.11/24", "vlanAdresses: { \"10\": 192.168.22.11/24"]]);
  const report = validateStackFile(file);
  assert.equal(report.exitCode, 1);
  assert.equal(
    report.output.split("\n")[0],
    'hosts[1].vlanAdresses {"10":"192.168.22.11/24","20":"192.168.23.11/24"}: is not a known key: did you mean `vlanAddresses`? ' +
      "(known: name, address, port, role, trunkInterface, vlanAddresses, containers, hostShim, hostKey)",
  );
});

test("the key file and each host's known_hosts entry are read as the program reads them, each problem named", () => {
  const { dir, file } = devProject("files");
  fs.rmSync(path.join(dir, ".lab", "id_ed25519"));
  fs.writeFileSync(path.join(dir, ".lab", "known_hosts"), `10.213.70.11 ${FAKE_HOST_KEY}\n`);
  const keyFile = path.join(dir, ".lab", "id_ed25519");
  assert.deepEqual(validateStackFile(file), {
    exitCode: 1,
    output: [
      `sshPrivateKeyFile .lab/id_ed25519: cannot read ${keyFile}: ENOENT: no such file or directory, open '${keyFile}'`,
      "sshKnownHostsFile .lab/known_hosts: host 10.213.70.12: no entry for it (add one with: ssh-keyscan -p 22 -t ed25519 10.213.70.12 >> .lab/known_hosts)",
      "sshKnownHostsFile .lab/known_hosts: host 10.213.70.13: no entry for it (add one with: ssh-keyscan -p 22 -t ed25519 10.213.70.13 >> .lab/known_hosts)",
      `${file}: 3 problems`,
    ].join("\n"),
    notes: [],
  });
});

test("the bastion needs its known_hosts entry too", () => {
  const { file } = devProject("bastion", [], "  macvlan-overlay:sshProxy: { host: 192.0.2.200, user: jump }\n");
  const report = validateStackFile(file);
  assert.equal(report.exitCode, 1);
  assert.equal(
    report.output,
    "sshKnownHostsFile .lab/known_hosts: host 192.0.2.200: no entry for it (add one with: ssh-keyscan -p 22 -t ed25519 192.0.2.200 >> .lab/known_hosts)\n" +
      `${file}: 1 problem`,
  );
});

test("a docker host with nothing on it is a warning: exit 0", () => {
  const { file } = devProject("empty", [[HOST2_CONTAINERS, ""]]);
  assert.deepEqual(validateStackFile(file), {
    exitCode: 0,
    output: `${file}: ok (3 hosts, 2 vlans, 2 containers)`,
    notes: ["warning: hosts[1] host2: a docker host with nothing on it (no containers): it gets only its VLAN links and networks"],
  });
});

test("a private key pasted under a key is named with how to set it as a secret, and not one character of it is shown", () => {
  const indented = PASTED.trimEnd().split("\n").map((line) => `    ${line}`).join("\n");
  const { file } = devProject("pasted", [["  macvlan-overlay:sshPrivateKeyFile: .lab/id_ed25519\n", `  macvlan-overlay:sshKey: |\n${indented}\n`]]);
  const report = validateStackFile(file);
  assert.deepEqual(report, {
    exitCode: 1,
    output: [
      "sshKey (private key, not shown): holds a private key, which never belongs in the stack file as text: " +
        "set it as a secret: pulumi config set --secret sshPrivateKey < key, and remove it from here",
      "sshPrivateKeyFile: is required, or else the secret sshPrivateKey",
      `${file}: 2 problems`,
    ].join("\n"),
    notes: [],
  });
  // Not even a YAML error quotes the lines around it when the file holds a key.
  const broken = path.join(path.dirname(file), "Pulumi.pastedbad.yaml");
  fs.writeFileSync(broken, `config:\n  macvlan-overlay:sshKey: ${PASTED.split("\n")[0]}\n  oops: [\n${PASTED.split("\n")[1]}\n`);
  const yaml = validateStackFile(broken);
  assert.equal(yaml.exitCode, 1);
  assert.match(yaml.output, /: not valid YAML: [A-Z_]+ at line \d+, column \d+ \(the file holds a private key: the lines around the error are not shown\)\n/);
  for (const report of [yaml]) assert.ok(!/b3Bl|BEGIN/.test(report.output), report.output);
});

test("keys an ESC environment may set are named as not checked here, not as missing", () => {
  const dir = fakeProjectDir();
  const file = path.join(dir, "Pulumi.esc.yaml");
  fs.writeFileSync(
    file,
    [
      "environment:",
      "  - myorg/lab-network",
      "config:",
      "  macvlan-overlay:sshPrivateKeyFile: .lab/id_ed25519",
      "  macvlan-overlay:hosts:",
      "    - { name: host1, address: 10.213.70.11, role: docker, containers: [ { name: bbox10, vlan: 10, ip: 172.18.0.2 } ] }",
      "",
    ].join("\n"),
  );
  const source = "ESC environment myorg/lab-network";
  assert.deepEqual(validateStackFile(file), {
    exitCode: 0,
    output: `${file}: no problem in what the file holds (the rest comes from ESC)`,
    notes: [
      `note: the stack imports ${source}: validate cannot read ESC, so the keys it sets are checked by pulumi up, not here`,
      `note: vlans: not in the stack file: it may come from ${source}, not checked here`,
      `note: sshKnownHostsFile: not in the stack file: it may come from ${source}, not checked here`,
    ],
  });
  // What the file itself gets wrong is still a problem.
  fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("ip: 172.18.0.2", "ip: 172.18.0.300"));
  const report = validateStackFile(file);
  assert.equal(report.exitCode, 1);
  assert.equal(report.output, `hosts[0].containers[0].ip 172.18.0.300: must be an IPv4 address like 172.18.0.2\n${file}: 1 problem`);
});

test("a file that is not YAML is one problem", () => {
  const file = path.join(scratch, "Pulumi.bad.yaml");
  fs.writeFileSync(file, "config: [\n");
  const report = validateStackFile(file);
  assert.equal(report.exitCode, 1);
  assert.match(report.output, new RegExp(`^${escape(file)}: not valid YAML: `));
  assert.match(report.output, new RegExp(`\n${escape(file)}: 1 problem$`));
});

test("-s <stack> reads Pulumi.<stack>.yaml beside the nearest Pulumi.yaml, in its stackConfigDir, as Pulumi does", () => {
  const { dir, file } = devProject("dev");
  const subfolder = path.join(dir, "docs", "deep");
  fs.mkdirSync(subfolder, { recursive: true });
  const shown = asTyped(file);
  const ok = { exitCode: 0, output: `${shown}: ok (3 hosts, 2 vlans, 4 containers)`, notes: [] };
  assert.deepEqual(validateCommandLine(["-s", "dev"], dir), ok);
  assert.deepEqual(validateCommandLine(["--stack", "myorg/macvlan-overlay/dev"], subfolder), ok);
  assert.deepEqual(validateCommandLine(["--stack=dev"], dir), ok);

  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `${fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")}stackConfigDir: stacks\n`);
  fs.mkdirSync(path.join(dir, "stacks"));
  fs.renameSync(file, path.join(dir, "stacks", "Pulumi.dev.yaml"));
  const moved = asTyped(path.join(dir, "stacks", "Pulumi.dev.yaml"));
  assert.deepEqual(validateCommandLine(["-s", "dev"], dir), { ...ok, output: `${moved}: ok (3 hosts, 2 vlans, 4 containers)` });

  const nowhere = fs.mkdtempSync(path.join(os.tmpdir(), "validate-noproject-"));
  assert.deepEqual(validateCommandLine(["-s", "dev"], nowhere), {
    exitCode: 2,
    output: `-s dev: no Pulumi.yaml in ${nowhere} or any folder above it`,
    notes: [],
  });
});

test("--help exits 0 with the usage; a missing file or a wrong command line exits 2", () => {
  const help = validateCommandLine(["--help"]);
  assert.equal(help.exitCode, 0);
  assert.equal(help.output.split("\n")[0], USAGE_LINE);
  assert.match(help.output, /^exit: 0 valid \(warnings on stderr\), 1 problems, 2 usage error/m);
  assert.deepEqual(validateStackFile("Pulumi.nothere.yaml"), { exitCode: 2, output: "Pulumi.nothere.yaml: no such file", notes: [] });
  for (const args of [[], ["a.yaml", "b.yaml"], ["--stack"], ["-s"], ["-s", "dev", "extra"], ["--frobnicate"]]) {
    const usage = validateCommandLine(args);
    assert.equal(usage.exitCode, 2, args.join(" "));
    assert.equal(usage.output.split("\n")[0], USAGE_LINE, args.join(" "));
  }
});

test("the compiled command exits 0, 1 and 2, writes the verdict to stdout only on success, and warnings to stderr", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });

  const { file: good } = devProject("dev");
  const ok = run(good);
  assert.deepEqual([ok.status, ok.stdout, ok.stderr], [0, `${good}: ok (3 hosts, 2 vlans, 4 containers)\n`, ""]);

  const { file: empty } = devProject("bare", [[HOST2_CONTAINERS, ""]]);
  const warned = run(empty);
  assert.deepEqual(
    [warned.status, warned.stdout, warned.stderr],
    [
      0,
      `${empty}: ok (3 hosts, 2 vlans, 2 containers)\n`,
      "warning: hosts[1] host2: a docker host with nothing on it (no containers): it gets only its VLAN links and networks\n",
    ],
  );

  const file = brokenStack();
  const broken = run(file);
  assert.deepEqual([broken.status, broken.stdout], [1, ""]);
  assert.equal(broken.stderr.split("\n").at(-2), `${file}: 3 problems`);

  const missing = run("Pulumi.nothere.yaml");
  assert.deepEqual([missing.status, missing.stderr], [2, "Pulumi.nothere.yaml: no such file\n"]);

  const usage = run();
  assert.deepEqual([usage.status, usage.stdout, usage.stderr.split("\n")[0]], [2, "", USAGE_LINE]);

  const help = run("-h");
  assert.deepEqual([help.status, help.stdout.split("\n")[0], help.stderr], [0, USAGE_LINE, ""]);
});

test("a port written with a leading 0 is refused by key, with the other problems", () => {
  const { file } = devProject("octal", [["role: docker\n", "role: docker\n      port: 022\n"]], "  macvlan-overlay:sshPrivatekey:\n    secure: v1:c2VjcmV0Cg==\n");
  assert.deepEqual(validateStackFile(file), {
    exitCode: 1,
    output: [
      "hosts[0].port 022: a leading 0 makes it octal to the Pulumi CLI (YAML 1.1) and decimal to validate (YAML 1.2): drop the 0, or quote the text",
      "sshPrivatekey (secret): is not a known key: did you mean `sshPrivateKey`? (known: trunkInterface, persistence, sshUser, sshPrivateKeyFile, sshPrivateKey, " +
        "sshKnownHostsFile, sshProxy, vlans, hosts, router, macvlanMode, verify, reapply, confirmWithinSeconds)",
      `${file}: 2 problems`,
    ].join("\n"),
    notes: [],
  });
});

test("a vlan address over the management network is refused by key (SSH lockout)", () => {
  const { file } = devProject("lockout", [['"10": 192.168.22.10/24', '"10": 10.213.70.10/25']]);
  assert.deepEqual(validateStackFile(file), {
    exitCode: 1,
    output: [
      "hosts[0].vlanAddresses.10 10.213.70.10/25: contains hosts[0].address 10.213.70.11: " +
        "the route it adds would take SSH to that host off its management network",
      `${file}: 1 problem`,
    ].join("\n"),
    notes: [],
  });
});

/** A stack file named as a user here would type it: relative below this folder, absolute elsewhere. */
function asTyped(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") ? file : relative;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
