// The connectivity check at scale on this machine's kernel: two docker hosts and a router as `ovb-*`
// network namespaces, a real dockerd (Debian docker.io) in each docker host, busybox containers on
// macvlan networks, and the program's rendered check script run in each docker host's namespace
// against its dockerd, both hosts at once. VLANs are emulated as in the data-plane benchmark (no
// 802.1Q on this kernel): each host's `ens33.<id>` is a veth on a per-VLAN bridge.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { renderConnectivityCheck, renderNatRouter } from "../components/scripts";
import { formatProblems, parseTopology, type Topology } from "../topology";
import { formatIpv4, parseIpv4 } from "../topology/ipv4";
import { connectivityProbes } from "../topology/probes";
import { parseConnectivityReport } from "../components/scripts/connectivityCheck";
import { assertUnrouted, BenchNamespaces, privateMountNamespace, run, spawnLogged, waitFor } from "./benchNetns";

/** Every address of this benchmark, checked against the machine's routes first. */
export const CHECK_BLOCK = "10.252.0.0/16";
const VLANS = [
  { id: 10, base: "10.252.16.0", legs: "10.252.110" },
  { id: 20, base: "10.252.32.0", legs: "10.252.120" },
] as const;
const DOCKER_HOSTS = ["host1", "host2"] as const;

/** A stack config of 2 docker hosts and a router; container i of a host keeps its name and IP at every size. */
export function checkConfig(containers: number): Record<string, unknown> {
  const perHost = Math.ceil(containers / DOCKER_HOSTS.length);
  const vlans = VLANS.map((v) => ({ id: v.id, network: `mac-net${v.id}`, subnet: `${v.base}/20`, gateway: formatIpv4(parseIpv4(v.base)! + 1) }));
  const hosts: Record<string, unknown>[] = DOCKER_HOSTS.map((name, h) => ({
    name,
    address: `10.252.250.${11 + h}`,
    role: "docker",
    vlanAddresses: Object.fromEntries(VLANS.map((v) => [String(v.id), `${v.legs}.${11 + h}/24`])),
    containers: Array.from({ length: Math.min(perHost, containers - h * perHost) }, (_, i) => {
      const v = VLANS[i % VLANS.length];
      return { name: `h${h + 1}c${i}`, vlan: v.id, ip: formatIpv4(parseIpv4(v.base)! + 256 * (h + 1) + 10 + Math.floor(i / VLANS.length)) };
    }),
  }));
  hosts.push({
    name: "router",
    address: "10.252.250.13",
    role: "router",
    vlanAddresses: Object.fromEntries(vlans.map((v) => [String(v.id), `${v.gateway}/20`])),
  });
  return { sshPrivateKeyFile: "id_ed25519", sshKnownHostsFile: "known_hosts", vlans, hosts, router: { masquerade: true } };
}

/** Probes of the check's default plan: each container to its gateway, one container per other VLAN, the next host's on its own VLAN. */
export function linearPlanProbes(containers: number, vlans: number): number {
  return containers * (vlans + 1);
}

export interface CheckRun {
  containers: number;
  /** Probes the check ran (its default, linear plan). */
  probes: number;
  /** What the all-pairs option would run. */
  allPairsProbes: number;
  /** Probes finished before the cap (all of them when not capped). */
  finished: number;
  differing: number;
  wallSeconds: number;
  capped: boolean;
  /** Wall time the whole check would take at the pace measured (same as wallSeconds when not capped). */
  projectedSeconds: number;
}

export interface CheckOptions {
  sizes: readonly number[];
  capSeconds: number;
  /** Source containers probing at once (the check's parallelSources); default the check's own. */
  parallelSources?: number;
  log: (line: string) => void;
}

interface DockerHost {
  ns: string;
  socket: string;
  docker(...args: string[]): string;
}

function parsed(config: Record<string, unknown>): Topology {
  const result = parseTopology(config);
  if (!result.ok) {
    throw new Error(`check topology is invalid:\n${formatProblems(result.problems.slice(0, 10))}`);
  }
  return result.topology;
}

function buildSwitchAndLegs(lab: BenchNamespaces, topology: Topology): void {
  lab.add("ovb-csw");
  for (const v of VLANS) {
    lab.ip("ovb-csw", "link", "add", `br${v.id}`, "type", "bridge");
    lab.ip("ovb-csw", "link", "set", `br${v.id}`, "up");
  }
  for (const [index, host] of topology.hosts.entries()) {
    const ns = lab.add(`ovb-c${host.name}`);
    for (const sub of host.subinterfaces) {
      const peer = `p${index}v${sub.vlan}`;
      lab.veth(ns, sub.device, "ovb-csw", peer);
      lab.ip("ovb-csw", "link", "set", peer, "master", `br${sub.vlan}`);
      lab.ip(ns, "link", "set", sub.device, "promisc", "on");
      lab.ip(ns, "addr", "add", sub.address!.cidr, "dev", sub.device);
    }
  }
}

/** Debian's dockerd in the host's netns and a private mount ns (tmpfs /run, /etc/docker, data root). */
async function startDockerd(lab: BenchNamespaces, scratch: string, host: string): Promise<DockerHost> {
  const ns = `ovb-c${host}`;
  const dir = path.join(scratch, host);
  const data = path.join(dir, "data");
  fs.mkdirSync(data, { recursive: true });
  fs.writeFileSync(path.join(dir, "daemon.json"), "{}\n");
  const socket = path.join(dir, "docker.sock");
  const cgroup = `/ovb-${host}`;
  const daemon = lab.track(
    spawnLogged("nsenter", [`--net=/run/netns/${ns}`, "--", "unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
      `set -e; for d in /run /etc/docker '${data}'; do mount -t tmpfs ovb-docker "$d"; done
      exec dockerd --config-file '${dir}/daemon.json' --data-root '${data}' --exec-root /run/docker --pidfile /run/docker.pid \
        -H 'unix://${socket}' --cgroup-parent '${cgroup}' --bridge none --iptables=false --ip-forward=false --ip-masq=false \
        --userland-proxy=false --shutdown-timeout 2`], path.join(dir, "dockerd.log")),
  );
  const docker = (...args: string[]) => run("/usr/bin/docker", ["-H", `unix://${socket}`, ...args]);
  lab.onClose(() => stopDockerd(daemon, docker, cgroup));
  await waitFor(`${host} dockerd`, 60, () => {
    if (daemon.exitCode !== null) {
      throw new Error(`${host} dockerd exited: ${fs.readFileSync(path.join(dir, "dockerd.log"), "utf8").slice(-1500)}`);
    }
    return spawnSync("/usr/bin/docker", ["-H", `unix://${socket}`, "version"], { stdio: "ignore" }).status === 0;
  });
  return { ns, socket, docker };
}

function stopDockerd(daemon: ChildProcess, docker: (...args: string[]) => string, cgroup: string): void {
  try {
    const ids = docker("ps", "-aq").split("\n").filter(Boolean);
    if (ids.length > 0) {
      docker("rm", "-f", ...ids);
    }
  } catch (error) {
    process.stderr.write(`cleanup: removing containers: ${(error as Error).message}\n`);
  }
  if (daemon.exitCode === null && daemon.pid !== undefined) {
    process.kill(daemon.pid, "SIGTERM");
    // Synchronous wait: cleanup also runs from the exit handler, where no timer fires. dockerd 20.10
    // takes ~40 s to shut down here; its state is on tmpfs in its own mount namespace, so after a
    // few seconds it is killed, and containerd with it when the namespace's processes are swept.
    for (let i = 0; i < 25 && spawnSync("kill", ["-0", String(daemon.pid)]).status === 0; i++) {
      spawnSync("sleep", ["0.2"]);
    }
    try {
      process.kill(daemon.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  // Whatever is left in its cgroups (shims, container processes after a crash), then the cgroups.
  spawnSync("sh", ["-c", `for f in /sys/fs/cgroup/*${cgroup}/cgroup.procs /sys/fs/cgroup/*${cgroup}/*/cgroup.procs; do [ -f "$f" ] && xargs -r kill -9 <"$f"; done; sleep 0.5
    find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d -name '${cgroup.slice(1)}' -exec sh -c 'find "$1" -depth -type d -exec rmdir {} \\;' _ {} \\; 2>/dev/null; true`]);
}

/** busybox:latest from Debian's busybox-static: the binary and its applet links, imported offline. */
function importBusybox(scratch: string, hosts: readonly DockerHost[]): void {
  const root = path.join(scratch, "busybox-root");
  fs.mkdirSync(path.join(root, "bin"), { recursive: true });
  fs.copyFileSync("/bin/busybox", path.join(root, "bin/busybox"));
  fs.chmodSync(path.join(root, "bin/busybox"), 0o755);
  for (const applet of run("/bin/busybox", ["--list"]).split("\n").filter(Boolean)) {
    if (applet !== "busybox") {
      fs.symlinkSync("busybox", path.join(root, "bin", applet));
    }
  }
  const tarball = path.join(scratch, "busybox.tar");
  run("tar", ["-C", root, "-cf", tarball, "."]);
  for (const host of hosts) {
    run("sh", ["-c", `/usr/bin/docker -H 'unix://${host.socket}' import -c 'CMD ["sh"]' - busybox:latest <'${tarball}'`]);
  }
}

function createNetworks(host: DockerHost, topology: Topology, hostName: string): void {
  const spec = topology.hosts.find((h) => h.name === hostName)!;
  for (const sub of spec.subinterfaces) {
    const vlan = topology.vlans.find((v) => v.id === sub.vlan)!;
    // --internal: no default route in the containers; the other VLAN gets an explicit route below.
    host.docker("network", "create", "-d", "macvlan", "--internal", "--subnet", vlan.subnet.cidr, "--gateway", vlan.gateway,
      "-o", `parent=${sub.device}`, "-o", "macvlan_mode=bridge", vlan.network);
  }
}

/** Starts the containers of `hostName` not yet running, 4 at a time, and routes the other VLANs via the router. */
function createContainers(host: DockerHost, topology: Topology, hostName: string): Promise<void> {
  const existing = new Set(host.docker("ps", "-aq", "--format", "{{.Names}}").split("\n").filter(Boolean));
  const wanted = topology.hosts.find((h) => h.name === hostName)!.containers.filter((c) => !existing.has(c.name));
  const lines = wanted.map((c) => {
    const vlan = topology.vlans.find((v) => v.id === c.vlan)!;
    return `${c.name} ${vlan.network} ${c.ip}`;
  });
  const script = `set -eu
docker_cmd() { /usr/bin/docker -H 'unix://${host.socket}' "$@"; }
start() { docker_cmd run -itd --name "$1" --hostname "$1" --network "$2" --ip "$3" --restart no busybox:latest >/dev/null; }
n=0
while read -r name net ip; do
  start "$name" "$net" "$ip" &
  n=$((n + 1))
  if [ $((n % 4)) -eq 0 ]; then wait; fi
done
wait
`;
  return new Promise((resolve, reject) => {
    const proc = spawn("sh", ["-c", script], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr.on("data", (chunk) => (stderr += chunk));
    proc.stdin.end(lines.join("\n") + "\n");
    proc.on("close", (code) => {
      // What counts is which containers run: stderr holds dockerd's ip_forward warning from every
      // run (macvlan does not need forwarding on the host), and the runs going at once interleave
      // its lines, so it cannot be read line by line.
      const running = new Set(host.docker("ps", "--filter", "status=running", "--format", "{{.Names}}").split("\n").filter(Boolean));
      const missing = wanted.filter((c) => !running.has(c.name)).map((c) => c.name);
      if (code !== 0 || missing.length > 0) {
        reject(new Error(`${hostName}: creating containers failed (exit ${code}; not running: ${missing.join(" ") || "none"}): ${stderr.slice(-1500)}`));
        return;
      }
      try {
        routeOtherVlans(host, topology, wanted.map((c) => c.name));
        resolve();
      } catch (error) {
        reject(error);
      }
    });
  });
}

function routeOtherVlans(host: DockerHost, topology: Topology, names: readonly string[]): void {
  if (names.length === 0) {
    return;
  }
  const pids = host.docker("inspect", "-f", "{{.Name}} {{.State.Pid}}", ...names).split("\n").filter(Boolean);
  const commands: string[] = [];
  for (const line of pids) {
    const [slashName, pid] = line.split(" ");
    const container = topology.hosts.flatMap((h) => h.containers).find((c) => c.name === slashName.replace(/^\//, ""))!;
    const own = topology.vlans.find((v) => v.id === container.vlan)!;
    for (const other of topology.vlans.filter((v) => v.id !== container.vlan)) {
      commands.push(`nsenter --net=/proc/${pid}/ns/net ip route replace ${other.subnet.cidr} via ${own.gateway}`);
    }
  }
  run("sh", ["-ec", commands.join("\n")]);
}

/** Runs the rendered check (from a file: at 200 containers it is megabytes) in one docker host's namespace; kills it at the cap. */
function runCheck(host: DockerHost, scriptFile: string, capSeconds: number): Promise<{ stdout: string; stderr: string; seconds: number; capped: boolean }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const proc = spawn("nsenter", [`--net=/run/netns/${host.ns}`, "--", "env", `DOCKER_HOST=unix://${host.socket}`, "sh", scriptFile], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    let capped = false;
    proc.stdout.on("data", (chunk) => (stdout += chunk));
    proc.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      capped = true;
      // The script and the docker execs it started: its own process group.
      process.kill(-proc.pid!, "SIGKILL");
    }, capSeconds * 1000);
    proc.on("close", () => {
      clearTimeout(timer);
      resolve({ stdout, stderr, seconds: (performance.now() - started) / 1000, capped });
    });
  });
}

export async function measureCheckAtScale(options: CheckOptions): Promise<CheckRun[]> {
  assertUnrouted([CHECK_BLOCK]);
  const largest = parsed(checkConfig(Math.max(...options.sizes)));
  const lab = new BenchNamespaces();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ovb-check-"));
  lab.onClose(() => fs.rmSync(scratch, { recursive: true, force: true }));
  try {
    buildSwitchAndLegs(lab, largest);
    const routerHost = largest.hosts.find((h) => h.role === "router")!;
    const router = await privateMountNamespace(lab, `ovb-c${routerHost.name}`, ["/etc/sysctl.d", "/var/lib", "/run"]);
    const nat = renderNatRouter({ interfaces: routerHost.subinterfaces.map((s) => s.device), masquerade: largest.router!.masquerade });
    router.runScript(nat.create);
    lab.onClose(() => router.runScript(nat.delete));

    const hosts = new Map<string, DockerHost>();
    for (const name of DOCKER_HOSTS) {
      hosts.set(name, await startDockerd(lab, scratch, name));
    }
    importBusybox(scratch, [...hosts.values()]);
    for (const [name, host] of hosts) {
      createNetworks(host, largest, name);
    }
    options.log(`check at scale: dockerd 20.10 up in ${[...hosts.values()].map((h) => h.ns).join(", ")}; router NAT script applied`);

    const runs: CheckRun[] = [];
    for (const size of options.sizes) {
      const topology = parsed(checkConfig(size));
      const creating = performance.now();
      await Promise.all([...hosts].map(([name, host]) => createContainers(host, topology, name)));
      options.log(`check at scale: ${size} containers running (${((performance.now() - creating) / 1000).toFixed(0)} s to create the new ones)`);
      const perHost = [...hosts].map(([name, host]) => {
        const probes = connectivityProbes(topology, name);
        const scriptFile = path.join(scratch, `check-${name}-${size}.sh`);
        fs.writeFileSync(scriptFile, renderConnectivityCheck({ probes, parallelSources: options.parallelSources }));
        const allPairs = connectivityProbes(topology, name, { allPairs: true }).length;
        return { host, probes: probes.length, allPairs, scriptFile };
      });
      const results = await Promise.all(perHost.map((p) => runCheck(p.host, p.scriptFile, options.capSeconds)));
      for (const r of results.filter((q) => !q.capped && q.stdout.trim() === "")) {
        options.log(`  a check printed nothing; its stderr: ${r.stderr.slice(-500)}`);
      }
      const reports = results.flatMap((r) => parseConnectivityReport(r.stdout));
      const differing = reports.filter((report) => report.result !== report.expected);
      const probes = perHost.reduce((sum, p) => sum + p.probes, 0);
      const wallSeconds = Math.max(...results.map((r) => r.seconds));
      const capped = results.some((r) => r.capped);
      // Hosts run in parallel: the slowest host's pace decides the projected wall time.
      const projectedSeconds = capped
        ? Math.max(...results.map((r, i) => {
            const done = parseConnectivityReport(r.stdout).length;
            return done === 0 ? Infinity : (r.seconds * perHost[i].probes) / done;
          }))
        : wallSeconds;
      const checkRun: CheckRun = {
        containers: size,
        probes,
        allPairsProbes: perHost.reduce((sum, p) => sum + p.allPairs, 0),
        finished: reports.length,
        differing: differing.length,
        wallSeconds,
        capped,
        projectedSeconds,
      };
      runs.push(checkRun);
      options.log(`check at scale: ${size} containers, ${probes} probes, ${reports.length} done in ${wallSeconds.toFixed(1)} s${capped ? ` (capped; projected ${projectedSeconds.toFixed(0)} s)` : ""}, ${differing.length} differ from the expectation`);
      if (differing.length > 0) {
        options.log(`  first differing: ${differing.slice(0, 3).map((r) => `${r.from} -> ${r.to} (${r.toIp}): expected ${r.expected}, got ${r.result}`).join(" | ")}`);
      }
    }
    return runs;
  } finally {
    lab.close();
  }
}
