// The keys that say how hosts are reached: pinned host keys and a bastion.
import assert from "node:assert/strict";
import test from "node:test";
import { problem, testRejected, topologyAfter } from "../testing/devStackConfig";

const ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBlRcz5oO0bMgCHg0yJ6fEQqTI0y5d8ePGsaGqkKlWm8";
const KEY_LINE = 'must be an OpenSSH public key line like "ssh-ed25519 AAAAC3Nza..." (the host\'s /etc/ssh/ssh_host_ed25519_key.pub)';
const PINNED = "is required when sshKnownHostsFile is not set (remote commands pin each host's SSH key; e.g. the line of /etc/ssh/ssh_host_ed25519_key.pub)";

test("a host's hostKey is kept as written, comment included", () => {
  const topology = topologyAfter((c) => (c.hosts[0].hostKey = `${ED} root@host1`));
  assert.equal(topology.hosts[0].hostKey, `${ED} root@host1`);
  assert.equal(topology.hosts[1].hostKey, undefined);
});

test("sshProxy takes port 22 and sshUser by default", () => {
  const topology = topologyAfter((c) => {
    c.sshUser = "deploy";
    c.sshProxy = { host: "10.213.70.13" };
  });
  assert.deepEqual(topology.ssh.proxy, { host: "10.213.70.13", port: 22, user: "deploy" });
});

test("sshProxy keeps its own port, user and host key", () => {
  const topology = topologyAfter((c) => (c.sshProxy = { host: "jump.example", port: "2222", user: "jump", hostKey: ED }));
  assert.deepEqual(topology.ssh.proxy, { host: "jump.example", port: 2222, user: "jump", hostKey: ED });
});

test("without sshKnownHostsFile, hosts that have their own hostKey need nothing more", () => {
  const topology = topologyAfter((c) => {
    delete c.sshKnownHostsFile;
    for (const host of c.hosts) host.hostKey = ED;
  });
  assert.equal(topology.ssh.knownHostsFile, undefined);
  assert.deepEqual(topology.hosts.map((host) => host.hostKey), [ED, ED, ED]);
});

testRejected([
  {
    behaviour: "a hostKey that is a fingerprint, not a key line, is refused naming it",
    change: (c) => (c.hosts[1].hostKey = "SHA256:abc"),
    problems: [problem("hosts[1].hostKey", "SHA256:abc", KEY_LINE)],
  },
  {
    behaviour: "a hostKey of an unknown type is refused",
    change: (c) => (c.hosts[0].hostKey = "ssh-dss AAAAB3NzaC1kc3M="),
    problems: [problem("hosts[0].hostKey", '"ssh-dss AAAAB3NzaC1kc3M="', KEY_LINE)],
  },
  {
    behaviour: "without sshKnownHostsFile every host without a hostKey is named",
    change: (c) => {
      delete c.sshKnownHostsFile;
      c.hosts[1].hostKey = ED;
    },
    problems: [problem("hosts[0].hostKey", "", PINNED), problem("hosts[2].hostKey", "", PINNED)],
  },
  {
    behaviour: "without sshKnownHostsFile the bastion needs its hostKey too",
    change: (c) => {
      delete c.sshKnownHostsFile;
      for (const host of c.hosts) host.hostKey = ED;
      c.sshProxy = { host: "10.213.70.13" };
    },
    problems: [problem("sshProxy.hostKey", "", "is required when sshKnownHostsFile is not set (remote commands pin each host's SSH key, the bastion's too)")],
  },
  {
    behaviour: "an sshProxy without host is refused",
    change: (c) => (c.sshProxy = { port: 22 }),
    problems: [problem("sshProxy.host", "", "is required")],
  },
  {
    behaviour: "an unknown key in sshProxy is named with the known ones",
    change: (c) => (c.sshProxy = { host: "10.213.70.13", jump: "yes" }),
    problems: [problem("sshProxy.jump", "yes", "is not a known key (known: host, port, user, hostKey)")],
  },
  {
    behaviour: "an sshProxy port out of range is refused",
    change: (c) => (c.sshProxy = { host: "10.213.70.13", port: 70000 }),
    problems: [problem("sshProxy.port", "70000", "must be an integer from 1 to 65535")],
  },
]);
