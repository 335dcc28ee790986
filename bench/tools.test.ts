// The benchmarks' preflight, pure: which tools are missing (through a fake PATH lookup) and the exact
// message that names them with what installs them; the Docker Engine 26 each bench docker host runs
// (where it is, how its daemons start); and that nothing of the benchmarks can meet the lab's names
// or subnets.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { overlaps, parseIpv4Prefix } from "../topology/ipv4";
import { shellcheckUnavailableReason } from "../testing/prerequisites";
import { shellcheck } from "../testing/shellcheck";
import { NAMESPACE_PREFIX } from "./benchNetns";
import { benchMac, CHECK_BLOCK, checkConfig, containerdConfig, dockerHostScript } from "./checkAtScale";
import { DATA_PLANE_BLOCK, SCENARIOS } from "./dataPlane";
import { engineAt, engineFetched, engineTools, engineVersions, FETCH_TOOLS } from "./engine";
import {
  BenchSetupError,
  CHECK_TOOLS,
  DATA_PLANE_TOOLS,
  isStaticElf,
  machineLookup,
  missingTools,
  missingToolsMessage,
  requireTools,
  type ToolLookup,
} from "./tools";

/** A machine whose PATH holds `commands` (absolute paths: those files), all static unless listed in `dynamic`. */
function fakeLookup(commands: readonly string[], dynamic: readonly string[] = []): ToolLookup {
  return {
    which: (command) => (commands.includes(command) ? (command.startsWith("/") ? command : `/usr/bin/${command}`) : undefined),
    isStatic: (file) => !dynamic.includes(file),
  };
}

const commandsOf = (tools: readonly { command: string }[]) => tools.map((t) => t.command);
const allBut = (tools: readonly { command: string }[], ...absent: string[]) => commandsOf(tools).filter((c) => !absent.includes(c));

test("a fresh machine after lab/install-deps.sh of old lacks only iperf3: npm run bench names it and what installs it", () => {
  const lookup = fakeLookup(allBut(DATA_PLANE_TOOLS, "iperf3"));
  assert.deepEqual(commandsOf(missingTools(DATA_PLANE_TOOLS, lookup)), ["iperf3"]);
  assert.equal(
    missingToolsMessage("npm run bench", missingTools(DATA_PLANE_TOOLS, lookup)),
    "npm run bench needs iperf3: bash lab/install-deps.sh installs it (Debian package iperf3)",
  );
  assert.throws(
    () => requireTools("npm run bench", DATA_PLANE_TOOLS, lookup),
    (error: unknown) => error instanceof BenchSetupError && error.message === "npm run bench needs iperf3: bash lab/install-deps.sh installs it (Debian package iperf3)",
  );
});

test("several missing tools of one installer are named together, each package once, in the order the bench lists them", () => {
  const lookup = fakeLookup(allBut(DATA_PLANE_TOOLS, "ss", "iperf3", "ip", "ping"));
  assert.equal(
    missingToolsMessage("npm run bench", missingTools(DATA_PLANE_TOOLS, lookup)),
    "npm run bench needs ip, ss, iperf3, ping: bash lab/install-deps.sh installs them (Debian packages iproute2, iperf3, iputils-ping)",
  );
});

test("nothing missing: no message, and requireTools returns", () => {
  const lookup = fakeLookup([...commandsOf(DATA_PLANE_TOOLS), ...commandsOf(CHECK_TOOLS)]);
  assert.deepEqual(missingTools([...DATA_PLANE_TOOLS, ...CHECK_TOOLS], lookup), []);
  assert.equal(missingToolsMessage("npm run bench", []), undefined);
  assert.doesNotThrow(() => requireTools("npm run bench:check", CHECK_TOOLS, lookup));
});

test("bench:check wants a statically linked /bin/busybox (the whole busybox:latest image), and names a tool listed twice once", () => {
  const lookup = fakeLookup(commandsOf(CHECK_TOOLS), ["/bin/busybox"]);
  assert.equal(
    missingToolsMessage("npm run bench:check", missingTools([...CHECK_TOOLS, ...CHECK_TOOLS], lookup)),
    "npm run bench:check needs /bin/busybox (statically linked): bash lab/install-deps.sh installs it (Debian package busybox-static)",
  );
});

test("bench:check without the engine and without what fetches it: one line per remedy", () => {
  const cache = "/p/.lab/cache";
  const engine = engineAt(cache);
  const tools = [...CHECK_TOOLS, ...FETCH_TOOLS, ...engineTools(engine, "/p", cache)];
  const lookup = fakeLookup([...allBut(CHECK_TOOLS, "iptables"), "apt-get", "dpkg-deb", engine.dockerd, engine.runc, engine.docker]);
  assert.equal(
    missingToolsMessage("npm run bench:check", missingTools(tools, lookup)),
    [
      "npm run bench:check needs:",
      "  iptables, /usr/share/keyrings/debian-archive-keyring.gpg: bash lab/install-deps.sh installs them (Debian packages iptables, debian-archive-keyring)",
      "  .lab/cache/engine/root/usr/bin/containerd, .lab/cache/engine/root/usr/bin/containerd-shim-runc-v2: rm -rf .lab/cache/engine && sh lab/fetch-engine.sh .lab/cache fetches them",
    ].join("\n"),
  );
});

test("the engine lives where lab.sh keeps it, and counts as fetched exactly when lab/fetch-engine.sh would skip fetching", () => {
  const engine = engineAt("/p/.lab/cache");
  assert.deepEqual(engine, {
    root: "/p/.lab/cache/engine/root",
    dockerd: "/p/.lab/cache/engine/root/usr/sbin/dockerd",
    containerd: "/p/.lab/cache/engine/root/usr/bin/containerd",
    shim: "/p/.lab/cache/engine/root/usr/bin/containerd-shim-runc-v2",
    runc: "/p/.lab/cache/engine/root/usr/sbin/runc",
    docker: "/p/.lab/cache/engine/root/usr/bin/docker",
    versions: "/p/.lab/cache/engine/VERSIONS",
    binPath: "/p/.lab/cache/engine/root/usr/sbin:/p/.lab/cache/engine/root/usr/bin",
  });
  const has = (...files: string[]) => (file: string) => files.includes(file);
  assert.equal(engineFetched(engine, has(engine.dockerd, engine.runc, engine.versions)), true);
  assert.equal(engineFetched(engine, has(engine.dockerd, engine.runc)), false);
  assert.equal(engineFetched(engine, has(engine.dockerd, engine.versions)), false);
  assert.equal(
    engineVersions("containerd 1.7.24~ds1-6+deb13u1\ndocker-cli 26.1.5+dfsg1-9+deb13u1+b1\ndocker.io 26.1.5+dfsg1-9+deb13u1+b1\nrunc 1.1.5+ds1-1+deb12u1\n"),
    "containerd 1.7.24~ds1-6+deb13u1, docker-cli 26.1.5+dfsg1-9+deb13u1+b1, docker.io 26.1.5+dfsg1-9+deb13u1+b1, runc 1.1.5+ds1-1+deb12u1",
  );
});

/** The smallest ELF64 little-endian header with `headers` program headers of the given types. */
function elf(types: readonly number[]): Buffer {
  const bytes = Buffer.alloc(64 + 56 * types.length);
  bytes.writeUInt32BE(0x7f454c46, 0);
  bytes[4] = 2; // 64-bit
  bytes[5] = 1; // little-endian
  bytes.writeBigUInt64LE(64n, 0x20);
  bytes.writeUInt16LE(56, 0x36);
  bytes.writeUInt16LE(types.length, 0x38);
  types.forEach((type, i) => bytes.writeUInt32LE(type, 64 + 56 * i));
  return bytes;
}

test("a static ELF has no program interpreter (PT_INTERP); scripts and dynamic binaries are not static", () => {
  assert.equal(isStaticElf(elf([6, 1, 1, 4])), true);
  assert.equal(isStaticElf(elf([6, 3, 1, 1])), false);
  assert.equal(isStaticElf(Buffer.from("#!/bin/sh\necho hi\n".padEnd(80, " "))), false);
  assert.equal(isStaticElf(elf([1]).subarray(0, 40)), false);
});

test("the machine's lookup searches PATH in order for executables, takes absolute paths as they are, and reads files by R_OK", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-tools-"));
  try {
    const [a, b] = ["a", "b"].map((d) => path.join(dir, d));
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    fs.writeFileSync(path.join(a, "tool"), "not executable\n", { mode: 0o644 });
    fs.writeFileSync(path.join(b, "tool"), "#!/bin/sh\n", { mode: 0o755 });
    fs.mkdirSync(path.join(a, "dirtool"));
    const lookup = machineLookup(`${a}::${b}`);
    assert.equal(lookup.which("tool", false), path.join(b, "tool"));
    assert.equal(lookup.which("dirtool", false), undefined);
    assert.equal(lookup.which("absent", false), undefined);
    assert.equal(lookup.which(path.join(b, "tool"), false), path.join(b, "tool"));
    assert.equal(lookup.which(path.join(a, "tool"), true), path.join(a, "tool"));
    assert.equal(lookup.isStatic(path.join(b, "tool")), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("containerd keeps its state in the host's data dir and private /run, with no CRI and no /opt/containerd", () => {
  assert.equal(
    containerdConfig("/tmp/ovb-check-x/host1/data"),
    [
      "version = 2",
      'root = "/tmp/ovb-check-x/host1/data/containerd"',
      'state = "/run/containerd"',
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      "[grpc]",
      '  address = "/run/containerd/containerd.sock"',
      '[plugins."io.containerd.internal.v1.opt"]',
      '  path = "/tmp/ovb-check-x/host1/data/opt"',
      "",
    ].join("\n"),
  );
});

test("a bench docker host runs the engine's containerd, then its dockerd on it, with the engine's runc first on PATH and its CLI as `docker`", () => {
  const engine = engineAt("/p/.lab/cache");
  const script = dockerHostScript({ engine, dir: "/tmp/ovb-check-x/host1", data: "/tmp/ovb-check-x/host1/data", socket: "/tmp/ovb-check-x/host1/docker.sock", cgroup: "/ovb-host1" });
  const lines = script.split("\n");
  assert.ok(lines.includes("for d in /run '/tmp/ovb-check-x/host1/data' /usr/local/sbin; do mount -t tmpfs ovb-docker \"$d\"; done"));
  assert.ok(lines.includes("if [ -d /etc/docker ]; then mount -t tmpfs ovb-docker /etc/docker; fi"));
  assert.ok(lines.includes("ln -s '/p/.lab/cache/engine/root/usr/bin/docker' /usr/local/sbin/docker"));
  assert.ok(lines.includes("PATH='/p/.lab/cache/engine/root/usr/sbin:/p/.lab/cache/engine/root/usr/bin':$PATH"));
  assert.ok(lines.includes("containerd --config '/tmp/ovb-check-x/host1/containerd.toml' </dev/null >'/tmp/ovb-check-x/host1/containerd.log' 2>&1 &"));
  const dockerd = lines.findIndex((line) => line.startsWith("exec dockerd --containerd /run/containerd/containerd.sock "));
  assert.ok(dockerd > lines.indexOf("until [ -S /run/containerd/containerd.sock ]; do"));
  assert.equal(
    lines.slice(dockerd).join("\n"),
    [
      "exec dockerd --containerd /run/containerd/containerd.sock --config-file '/tmp/ovb-check-x/host1/daemon.json' --data-root '/tmp/ovb-check-x/host1/data' \\",
      "  --exec-root /run/docker --pidfile /run/docker.pid -H 'unix:///tmp/ovb-check-x/host1/docker.sock' --cgroup-parent '/ovb-host1' \\",
      "  --bridge none --iptables=false --ip-forward=false --ip-masq=false --userland-proxy=false --shutdown-timeout 2",
      "",
    ].join("\n"),
  );
  // Nothing is mounted on or written to outside the tmpfs mounts and the scratch dir.
  const mounts = lines.filter((line) => /\bmount\b/.test(line));
  assert.equal(mounts.length, 2);
  assert.equal(spawnSync("sh", ["-n"], { input: script }).status, 0);
});

test("the docker host script passes shellcheck", { skip: shellcheckUnavailableReason() }, () => {
  const engine = engineAt("/p/.lab/cache");
  const result = shellcheck(dockerHostScript({ engine, dir: "/tmp/d/host1", data: "/tmp/d/host1/data", socket: "/tmp/d/host1/docker.sock", cgroup: "/ovb-host1" }));
  assert.ok(result.clean, result.output);
});

test("each bench container gets a locally administered unicast MAC from its IP, distinct for every container of the largest size", () => {
  assert.equal(benchMac("10.252.17.10"), "02:0b:0a:fc:11:0a");
  assert.equal(benchMac("10.252.32.255"), "02:0b:0a:fc:20:ff");
  assert.throws(() => benchMac("10.252.17"), /not an IPv4 address/);
  const hosts = checkConfig(200).hosts as { containers?: { ip: string }[] }[];
  const macs = hosts.flatMap((h) => (h.containers ?? []).map((c) => benchMac(c.ip)));
  assert.equal(macs.length, 200);
  assert.equal(new Set(macs).size, 200);
});

function readLabEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(path.resolve(__dirname, "..", "..", "lab", "lab.env"), "utf8").split("\n")) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|(\S*))\s*$/.exec(line);
    if (match) env[match[1]] = match[2] ?? match[3];
  }
  return env;
}

test("the benchmarks' namespaces and subnets cannot meet the lab's (lab/lab.env), nor the machine's 192.0.2.0/24", () => {
  const lab = readLabEnv();
  const labSubnets = [lab.LAB_MGMT_SUBNET, ...lab.LAB_OTHER_SUBNETS.split(" "), "192.0.2.0/24"];
  assert.equal(labSubnets.length, 8);
  for (const bench of [DATA_PLANE_BLOCK, CHECK_BLOCK]) {
    for (const other of labSubnets) {
      assert.equal(overlaps(parseIpv4Prefix(bench)!, parseIpv4Prefix(other)!), false, `${bench} and ${other}`);
    }
  }
  assert.equal(NAMESPACE_PREFIX, "ovb-");
  assert.equal(lab.LAB_SWITCH_NETNS.startsWith(NAMESPACE_PREFIX), false);
  assert.equal(lab.LAB_ROOT_LINK.startsWith(NAMESPACE_PREFIX), false);
  assert.equal(lab.LAB_RUN_DIR, "/run/ovl-lab");
  const names = [...new Set(SCENARIOS.flatMap((s) => [s.client, s.server]))];
  assert.ok(names.every((name) => name.startsWith(NAMESPACE_PREFIX)), names.join(" "));
  // Every address the check's stack config uses, management included, lies in its block.
  const config = checkConfig(200) as { hosts: { address: string }[]; vlans: { subnet: string }[] };
  for (const text of [...config.hosts.map((h) => `${h.address}/32`), ...config.vlans.map((v) => v.subnet)]) {
    assert.ok(overlaps(parseIpv4Prefix(text)!, parseIpv4Prefix(CHECK_BLOCK)!), text);
  }
});
