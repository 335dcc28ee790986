import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hostKeyFromKnownHosts, knownHostsName } from "./hostKeys";
import { firstMissingCommand, skipBecause } from "../testing/prerequisites";

const ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv1Dk1n5cJ0c9kJ6oQm3W8TnY2l1p0m1s6Qd7hQ2y9a";
const ED2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2J2eR3w1Jk5bX8b4L9g7v4m0l2Yx8Kq2wW0f6e3T1c";
const RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDexample";

test("ssh names a non-22 port [address]:port", () => {
  assert.equal(knownHostsName("10.213.70.11", 22), "10.213.70.11");
  assert.equal(knownHostsName("10.213.70.11", 2222), "[10.213.70.11]:2222");
});

test("the ed25519 key is preferred over an rsa key listed first", () => {
  const text = `10.213.70.11 ${RSA}\n10.213.70.11 ${ED} comment\n`;
  assert.equal(hostKeyFromKnownHosts(text, "kh", "10.213.70.11", 22), ED);
});

test("an entry for port 22 does not match another port, and [host]:port does", () => {
  const text = `10.213.70.11 ${ED}\n[10.213.70.11]:2222 ${ED2}\n`;
  assert.equal(hostKeyFromKnownHosts(text, "kh", "10.213.70.11", 2222), ED2);
  assert.equal(hostKeyFromKnownHosts(text, "kh", "10.213.70.11", 22), ED);
});

test("patterns, comma lists and negations follow sshd's known_hosts rules", () => {
  const text = `# comment\nhost9,10.213.70.* ${ED}\n!10.213.70.13,10.213.70.1? ${ED2}\n`;
  assert.equal(hostKeyFromKnownHosts(text, "kh", "10.213.70.12", 22), ED);
  assert.throws(() => hostKeyFromKnownHosts(`!10.213.70.13,10.213.70.1? ${ED2}\n`, "kh", "10.213.70.13", 22), /no entry/);
});

test("a missing host names the file, the host and how to add it", () => {
  assert.throws(
    () => hostKeyFromKnownHosts(`10.213.70.11 ${ED}\n`, ".lab/known_hosts", "10.213.70.12", 2222),
    {
      message:
        "sshKnownHostsFile .lab/known_hosts: host [10.213.70.12]:2222: no entry for it (add one with: ssh-keyscan -p 2222 -t ed25519 10.213.70.12 >> .lab/known_hosts)",
    },
  );
});

test("a key marked @revoked is never used, and @cert-authority lines are not host keys", () => {
  const text = `@revoked 10.213.70.11 ${ED}\n10.213.70.11 ${ED}\n@cert-authority 10.213.70.11 ${ED2}\n10.213.70.11 ${RSA}\n`;
  assert.equal(hostKeyFromKnownHosts(text, "kh", "10.213.70.11", 22), RSA);
  assert.throws(() => hostKeyFromKnownHosts(`@revoked * ${ED}\n* ${ED}\n`, "kh", "h", 22), /only keys are marked @revoked/);
});

const noKeygen = skipBecause(firstMissingCommand(["ssh-keygen"]) === undefined ? undefined : "ssh-keygen is not installed (openssh-client)");

test("entries hashed by ssh-keygen -H (HashKnownHosts) are matched", { skip: noKeygen }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-kh-"));
  try {
    const file = path.join(dir, "known_hosts");
    fs.writeFileSync(file, `10.213.70.11 ${RSA}\n[10.213.70.12]:2222 ${ED}\n10.213.70.13 ${ED2}\n`);
    const hashed = spawnSync("ssh-keygen", ["-H", "-f", file], { encoding: "utf8" });
    assert.equal(hashed.status, 0, hashed.stderr);
    const text = fs.readFileSync(file, "utf8");
    assert.doesNotMatch(text, /10\.213\.70/, "every name is hashed");
    assert.equal(hostKeyFromKnownHosts(text, file, "10.213.70.12", 2222), ED);
    assert.equal(hostKeyFromKnownHosts(text, file, "10.213.70.13", 22), ED2);
    assert.throws(() => hostKeyFromKnownHosts(text, file, "10.213.70.12", 22), /no entry/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
