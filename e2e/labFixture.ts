// Test code: the local lab as the e2e tests see it — its hosts and the dev stack's containers, how to
// reach them, a host's state as destroy must restore it, and the ping matrix run from inside containers.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { firstMissingCommand, skipBecause } from "../testing/prerequisites";
import { DOCKER_CLI, LAB_DIR, PROJECT_ROOT, sshMust, type SshTarget } from "./labAccess";

export const DEV_STACK = path.join(PROJECT_ROOT, "Pulumi.dev.yaml");
export const HOSTS = { host1: "10.213.70.11", host2: "10.213.70.12", router: "10.213.70.13" } as const;
export type HostName = keyof typeof HOSTS;
export const DOCKER_HOSTS: HostName[] = ["host1", "host2"];
export const CONTAINERS = {
  bbox10: { host: "host1", ip: "172.18.0.2", vlan: 10 },
  bbox20: { host: "host1", ip: "172.19.0.3", vlan: 20 },
  bbox30: { host: "host2", ip: "172.18.0.5", vlan: 10 },
  bbox40: { host: "host2", ip: "172.19.0.4", vlan: 20 },
} as const;
export type ContainerName = keyof typeof CONTAINERS;

/** Why the e2e test cannot run here, or undefined when it can. */
function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (a network namespace, links, User-Mode Linux guests)";
  const tool = firstMissingCommand(["ip", "nsenter", "linux.uml", "uml_switch", "uml_mconsole", "mkfs.ext4", "sshd", "ssh", "ssh-keygen", "busybox", "apt-get", "dpkg-deb"]);
  if (tool !== undefined) return `needs ${tool} (bash lab/install-deps.sh installs the Debian packages)`;
  if (spawnSync(DOCKER_CLI, ["--version"]).status !== 0) return "needs a docker CLI (API 1.44 or later)";
  return undefined;
}

// MACVLAN_OVERLAY_E2E=0 skips it; =required (CI) fails instead of skipping.
export const missing = process.env.MACVLAN_OVERLAY_E2E === "0" ? "MACVLAN_OVERLAY_E2E=0" : skipBecause(missingPrerequisite());

export const target = (host: HostName): SshTarget => ({
  host: HOSTS[host],
  port: 22,
  user: "root",
  keyFile: path.join(LAB_DIR, "id_ed25519"),
});
export const onHost = (host: HostName, script: string) => sshMust(target(host), script);

/** Everything destroy must put back: links and addresses, firewall, sysctl, our files, Docker objects. */
export function snapshot(host: HostName): string {
  const docker = DOCKER_HOSTS.includes(host)
    ? "echo '## docker'; docker ps -a --format '{{.Names}}' | sort; docker network ls --format '{{.Name}} {{.Driver}}' | sort"
    : "";
  return onHost(
    host,
    [
      "set -eu",
      // The kernel gives a link a default qdisc the first time it goes up and never puts back
      // "noop": that is history, not configuration, so it is left out of the comparison.
      "echo '## ip -d addr'; ip -d addr | sed 's/ qdisc [a-z_]* / /'",
      "echo '## iptables-save'; iptables-save | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]/[-]/'",
      "echo '## ip_forward'; sysctl -n net.ipv4.ip_forward",
      "echo '## files'; for f in $(find /etc/sysconfig /etc/sysctl.d /var/lib/macvlan-overlay -print 2>/dev/null | sort); do echo \"$f\"; if [ -f \"$f\" ]; then cat \"$f\"; fi; done",
      // The boot unit's files; of systemd's folder only the names (the machine's own units sit there too).
      "echo '## units'; find /etc/systemd/system /etc/macvlan-overlay -print 2>/dev/null | sort",
      docker,
    ].join("\n"),
  );
}

export function snapshotAll(): Record<HostName, string> {
  return { host1: snapshot("host1"), host2: snapshot("host2"), router: snapshot("router") };
}

export interface MatrixRow { from: ContainerName; to: ContainerName; expected: boolean; result: boolean }

export function pingMatrix(label: string, pairs: [ContainerName, ContainerName, boolean][]): MatrixRow[] {
  // Each docker host's pings at once, in one ssh session (runProbes): the same ping, not one after another.
  const results = new Map<string, string>();
  for (const host of DOCKER_HOSTS) {
    const probes = pairs.filter(([from]) => CONTAINERS[from].host === host).map(([from, to]) => ({ from, toIp: CONTAINERS[to].ip, reported: "" }));
    if (probes.length > 0) for (const [key, value] of runProbes(HOSTS[host], probes)) results.set(key, value);
  }
  const rows = pairs.map(([from, to, expected]) => {
    const result = results.get(`${from} ${CONTAINERS[to].ip}`);
    if (result === undefined) throw new Error(`ping ${from} -> ${to}: no result from its host`);
    return { from, to, expected, result: result === "reachable" };
  });
  const word = (b: boolean) => (b ? "reachable" : "unreachable");
  console.log(`ping matrix (${label}):`);
  console.log(`  ${"source".padEnd(8)} ${"destination".padEnd(22)} ${"expected".padEnd(12)} result`);
  for (const row of rows) {
    const dest = `${row.to} (${CONTAINERS[row.to].ip})`;
    console.log(`  ${row.from.padEnd(8)} ${dest.padEnd(22)} ${word(row.expected).padEnd(12)} ${word(row.result)}${row.expected === row.result ? "" : "   <-- MISMATCH"}`);
  }
  return rows;
}

export function assertMatrix(rows: MatrixRow[]): void {
  assert.deepEqual(
    rows.filter((r) => r.expected !== r.result).map((r) => `${r.from}->${r.to} expected ${r.expected}`),
    [],
  );
}

/** Packet counts of our router rules: "table chain in out target" → packets. */
export function routerCounters(): Map<string, number> {
  const counters = new Map<string, number>();
  for (const table of ["nat", "filter"]) {
    const chain = table === "nat" ? "POSTROUTING" : "FORWARD";
    const out = onHost("router", `iptables -w -t ${table} -L ${chain} -v -n -x`);
    for (const line of out.split("\n")) {
      if (!line.includes("macvlan-overlay")) continue;
      const fields = line.trim().split(/\s+/);
      // pkts bytes target prot opt in out source destination ...
      const key = `${table} ${chain} ${fields[5]} ${fields[6]} ${fields[2]}${line.includes("RELATED,ESTABLISHED") ? " ctstate" : ""}`;
      counters.set(key, Number(fields[0]));
    }
  }
  return counters;
}

export const SAME_VLAN: [ContainerName, ContainerName, boolean][] = [
  ["bbox10", "bbox30", true], ["bbox30", "bbox10", true],
  ["bbox20", "bbox40", true], ["bbox40", "bbox20", true],
];
export const CROSS_VLAN = (expected: boolean): [ContainerName, ContainerName, boolean][] => [
  ["bbox10", "bbox40", expected], ["bbox30", "bbox20", expected],
  ["bbox40", "bbox10", expected], ["bbox20", "bbox30", expected],
];


/** A deployed container as the stack's state records it. */
export interface DeployedContainer {
  name: string;
  /** The management address of its docker host. */
  hostAddress: string;
  ip: string;
  /** Its own MAC on a macvlan network; null on ipvlan, where it has its parent's. */
  mac: string | null;
  /** The parent link of its network (ens33.20): on ipvlan, the MAC it must show. */
  parent: string;
}

/** The docker host's management address from a provider URL (`ssh://root@10.213.70.11:22`). */
export function addressOfDockerUrl(hostUrl: string): string {
  const match = /^ssh:\/\/[^@]+@([0-9.]+)(?::\d+)?$/.exec(hostUrl);
  if (match === null) throw new Error(`not an ssh:// docker host: ${hostUrl}`);
  return match[1];
}

/** Root on the lab host with this management address, on port 22 (every lab sshd listens there). */
export const targetAt = (address: string): SshTarget => ({ host: address, port: 22, user: "root", keyFile: path.join(LAB_DIR, "id_ed25519") });

/** Every container has its interface with the declared IP and MAC, seen from inside it (one ssh session per host). */
export function assertContainerIdentities(containers: readonly DeployedContainer[]): void {
  for (const address of new Set(containers.map((container) => container.hostAddress))) {
    const onThisHost = containers.filter((container) => container.hostAddress === address);
    const script = onThisHost.map(
      (container) => `echo "== ${container.name}"; docker exec '${container.name}' ip -o -4 addr show dev eth0; echo "parent $(cat '/sys/class/net/${container.parent}/address')"; docker exec '${container.name}' cat /sys/class/net/eth0/address`,
    );
    const seen = sshMust(targetAt(address), script.join("\n"));
    for (const container of onThisHost) {
      const part = seen.split(`== ${container.name}\n`)[1]?.split("\n== ")[0] ?? "";
      assert.match(part, new RegExp(`inet ${container.ip.replace(/\./g, "\\.")}/24 `), `${container.name} IP`);
      const parentMac = /^parent (\S+)$/m.exec(part)?.[1];
      assert.ok(parentMac !== undefined && parentMac !== "", `${container.name}: the MAC of its parent ${container.parent}`);
      // macvlan: the MAC the program set, never the parent's; ipvlan: the parent's.
      assert.equal(part.trim().split("\n").pop(), container.mac ?? parentMac, `${container.name} MAC`);
      if (container.mac !== null) assert.notEqual(container.mac, parentMac, `${container.name} has its own MAC`);
    }
  }
}

export interface ProbeToRun {
  from: string;
  toIp: string;
  /** What the program's check reported for it. */
  reported: string;
}

/**
 * Runs probes from inside the containers of one docker host, in parallel, in one ssh session:
 * source container and destination IP → "reachable" or "unreachable".
 */
export function runProbes(hostAddress: string, probes: readonly ProbeToRun[]): Map<string, string> {
  const lines = probes.map(
    (probe) => `( if docker exec '${probe.from}' ping -c 2 -W 2 '${probe.toIp}' >/dev/null 2>&1; then r=reachable; else r=unreachable; fi; echo "${probe.from} ${probe.toIp} $r" ) &`,
  );
  const out = sshMust(targetAt(hostAddress), ["set -u", ...lines, "wait"].join("\n"));
  const results = new Map<string, string>();
  for (const line of out.trim().split("\n")) {
    const [from, toIp, result] = line.split(" ");
    results.set(`${from} ${toIp}`, result);
  }
  return results;
}
