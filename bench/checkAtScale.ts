// The connectivity check at scale on this machine's kernel: two docker hosts and a router as `ovb-*`
// network namespaces, the lab's Docker Engine 26 (bench/engine.ts: containerd, then dockerd) in each
// docker host, busybox containers on macvlan networks, each with its own per-network MAC as the
// program gives them, and the program's rendered check script run in each docker host's namespaces
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
import { shellQuote } from "../components/scripts/shell";
import { assertUnrouted, BenchNamespaces, privateMountNamespace, run, spawnLogged, waitFor } from "./benchNetns";
import type { Engine } from "./engine";

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
  /** The Docker Engine each docker host runs (bench/engine.ts). */
  engine: Engine;
  sizes: readonly number[];
  capSeconds: number;
  /** Source containers probing at once (the check's parallelSources); default the check's own. */
  parallelSources?: number;
  log: (line: string) => void;
}

export interface CheckResult {
  runs: CheckRun[];
  /** What the docker hosts' daemons answered: "26.1.5 (API 1.45)". */
  server: string;
}

interface DockerHost {
  ns: string;
  /** dockerd's pid: its network and private mount namespaces are the docker host's. */
  pid: number;
  socket: string;
  docker(...args: string[]): string;
}

/** A locally administered unicast MAC for a container, from its IP (unique as the IPs are): 02:0b:<IP in hex>. */
export function benchMac(ip: string): string {
  const value = parseIpv4(ip);
  if (value === undefined) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return ["02", "0b", ...[24, 16, 8, 0].map((shift) => ((value >>> shift) & 0xff).toString(16).padStart(2, "0"))].join(":");
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

/** containerd's configuration: its state in the docker host's data dir and private /run, nothing on the machine. */
export function containerdConfig(data: string): string {
  const q = (value: string) => JSON.stringify(value);
  return [
    "version = 2",
    `root = ${q(path.join(data, "containerd"))}`,
    `state = ${q("/run/containerd")}`,
    // No Kubernetes CRI: it would look for CNI plugins and start streaming servers.
    `disabled_plugins = [${q("io.containerd.grpc.v1.cri")}]`,
    "[grpc]",
    `  address = ${q("/run/containerd/containerd.sock")}`,
    // Its default is /opt/containerd, which it would create on the machine.
    `[plugins.${q("io.containerd.internal.v1.opt")}]`,
    `  path = ${q(path.join(data, "opt"))}`,
    "",
  ].join("\n");
}

/**
 * The shell a docker host's daemons run under, in the host's netns and a private mount namespace:
 * empty tmpfs over /run, the data dir, /etc/docker (when the machine has it) and /usr/local/sbin,
 * where `docker` is the engine's CLI (the rendered check sets its own PATH, /usr/local/sbin first);
 * then containerd as its own daemon (as lab/guest-init.sh starts it: dockerd gives up on a containerd
 * it starts itself after a fixed wait, which a loaded machine exceeds) and dockerd on its socket.
 * The engine's sbin comes first on PATH: Debian 12's runc (Debian 13's needs glibc 2.38).
 */
export function dockerHostScript(args: { engine: Engine; dir: string; data: string; socket: string; cgroup: string }): string {
  const { engine, dir, data, socket, cgroup } = args;
  const q = shellQuote;
  return [
    "set -eu",
    `[ -d /usr/local/sbin ] || { echo 'no /usr/local/sbin on this machine (the docker CLI of the check goes there)' >&2; exit 1; }`,
    `for d in /run ${q(data)} /usr/local/sbin; do mount -t tmpfs ovb-docker "$d"; done`,
    "if [ -d /etc/docker ]; then mount -t tmpfs ovb-docker /etc/docker; fi",
    `ln -s ${q(engine.docker)} /usr/local/sbin/docker`,
    `PATH=${q(engine.binPath)}:$PATH`,
    "export PATH",
    `containerd --config ${q(path.join(dir, "containerd.toml"))} </dev/null >${q(path.join(dir, "containerd.log"))} 2>&1 &`,
    "containerd_pid=$!",
    `echo "$containerd_pid" >${q(path.join(dir, "containerd.pid"))}`,
    "waited=0",
    "until [ -S /run/containerd/containerd.sock ]; do",
    `  kill -0 "$containerd_pid" 2>/dev/null || { echo "containerd exited: $(tail -n 20 ${q(path.join(dir, "containerd.log"))})" >&2; exit 1; }`,
    "  waited=$((waited + 1))",
    "  [ \"$waited\" -le 300 ] || { echo 'containerd: no socket after 60 s' >&2; exit 1; }",
    "  sleep 0.2",
    "done",
    `exec dockerd --containerd /run/containerd/containerd.sock --config-file ${q(path.join(dir, "daemon.json"))} --data-root ${q(data)} \\`,
    `  --exec-root /run/docker --pidfile /run/docker.pid -H ${q(`unix://${socket}`)} --cgroup-parent ${q(cgroup)} \\`,
    "  --bridge none --iptables=false --ip-forward=false --ip-masq=false --userland-proxy=false --shutdown-timeout 2",
    "",
  ].join("\n");
}

/** The engine's containerd and dockerd in the host's netns and a private mount ns (see dockerHostScript). */
async function startDockerd(lab: BenchNamespaces, scratch: string, host: string, engine: Engine): Promise<DockerHost & { server: string }> {
  const ns = `ovb-c${host}`;
  const dir = path.join(scratch, host);
  const data = path.join(dir, "data");
  fs.mkdirSync(data, { recursive: true });
  fs.writeFileSync(path.join(dir, "daemon.json"), "{}\n");
  fs.writeFileSync(path.join(dir, "containerd.toml"), containerdConfig(data));
  const socket = path.join(dir, "docker.sock");
  const cgroup = `/ovb-${host}`;
  const daemon = lab.track(
    spawnLogged("nsenter", [`--net=/run/netns/${ns}`, "--", "unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
      dockerHostScript({ engine, dir, data, socket, cgroup })], path.join(dir, "dockerd.log")),
  );
  const docker = (...args: string[]) => run(engine.docker, ["-H", `unix://${socket}`, ...args]);
  lab.onClose(() => stopDockerd(daemon, docker, cgroup, path.join(dir, "containerd.pid")));
  await waitFor(`${host} dockerd`, 60, () => {
    if (daemon.exitCode !== null) {
      throw new Error(`${host} dockerd exited: ${fs.readFileSync(path.join(dir, "dockerd.log"), "utf8").slice(-1500)}`);
    }
    return spawnSync(engine.docker, ["-H", `unix://${socket}`, "version"], { stdio: "ignore" }).status === 0;
  });
  const server = docker("version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})").trim();
  const api = /\(API (\d+)\.(\d+)\)/.exec(server);
  if (!api || Number(api[1]) * 1000 + Number(api[2]) < 1044) {
    throw new Error(`${host} dockerd answers ${server}: the per-network MAC needs API 1.44 or later`);
  }
  return { ns, pid: daemon.pid!, socket, docker, server };
}

/** Sends SIGTERM, waits up to 5 s, then SIGKILL. Synchronous: cleanup also runs from the exit handler, where no timer fires. */
function stopProcess(pid: number): void {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return; // already gone
  }
  for (let i = 0; i < 25 && spawnSync("kill", ["-0", String(pid)]).status === 0; i++) {
    spawnSync("sleep", ["0.2"]);
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function stopDockerd(daemon: ChildProcess, docker: (...args: string[]) => string, cgroup: string, containerdPidFile: string): void {
  try {
    const ids = docker("ps", "-aq").split("\n").filter(Boolean);
    if (ids.length > 0) {
      docker("rm", "-f", ...ids);
    }
  } catch (error) {
    process.stderr.write(`cleanup: removing containers: ${(error as Error).message}\n`);
  }
  // dockerd, then its containerd. Their state is on tmpfs in their own mount namespace, so a kill
  // loses nothing; whatever else runs in the host's netns (shims) is swept when the namespace goes.
  if (daemon.exitCode === null && daemon.pid !== undefined) {
    stopProcess(daemon.pid);
  }
  // The pid its shell wrote, while that pid is still a containerd (not a reused pid).
  const containerdPid = fs.existsSync(containerdPidFile) ? Number(fs.readFileSync(containerdPidFile, "utf8").trim()) : NaN;
  const comm = (pid: number) => {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
      return undefined;
    }
  };
  if (Number.isInteger(containerdPid) && containerdPid > 1 && comm(containerdPid) === "containerd") {
    stopProcess(containerdPid);
  }
  // Whatever is left in its cgroups (container processes after a crash), then the cgroups.
  spawnSync("sh", ["-c", `for f in /sys/fs/cgroup/*${cgroup}/cgroup.procs /sys/fs/cgroup/*${cgroup}/*/cgroup.procs; do [ -f "$f" ] && xargs -r kill -9 <"$f"; done; sleep 0.5
    find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d -name '${cgroup.slice(1)}' -exec sh -c 'find "$1" -depth -type d -exec rmdir {} \\;' _ {} \\; 2>/dev/null; true`]);
}

/** busybox:latest from Debian's busybox-static: the binary and its applet links, imported offline. */
function importBusybox(scratch: string, hosts: readonly DockerHost[], dockerCli: string): void {
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
    run("sh", ["-c", `${shellQuote(dockerCli)} -H 'unix://${host.socket}' import -c 'CMD ["sh"]' - busybox:latest <'${tarball}'`]);
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

/**
 * Starts the containers of `hostName` not yet running, 4 at a time, each with its IP and its own MAC
 * on its network (the program's per-network MAC: API 1.44), and routes the other VLANs via the router.
 */
function createContainers(host: DockerHost, topology: Topology, hostName: string, dockerCli: string): Promise<void> {
  const existing = new Set(host.docker("ps", "-aq", "--format", "{{.Names}}").split("\n").filter(Boolean));
  const wanted = topology.hosts.find((h) => h.name === hostName)!.containers.filter((c) => !existing.has(c.name));
  const lines = wanted.map((c) => {
    const vlan = topology.vlans.find((v) => v.id === c.vlan)!;
    return `${c.name} ${vlan.network} ${c.ip} ${benchMac(c.ip)}`;
  });
  const script = `set -eu
docker_cmd() { ${shellQuote(dockerCli)} -H 'unix://${host.socket}' "$@"; }
start() { docker_cmd run -itd --name "$1" --hostname "$1" --network "$2" --ip "$3" --mac-address "$4" --restart no busybox:latest >/dev/null; }
n=0
while read -r name net ip mac; do
  start "$name" "$net" "$ip" "$mac" &
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

/** Routes each new container's other VLANs via the router, after checking it got the MAC it was given. */
function routeOtherVlans(host: DockerHost, topology: Topology, names: readonly string[]): void {
  if (names.length === 0) {
    return;
  }
  const pids = host.docker("inspect", "-f", "{{.Name}} {{.State.Pid}} {{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}", ...names).split("\n").filter(Boolean);
  const commands: string[] = [];
  for (const line of pids) {
    const [slashName, pid, mac] = line.split(" ");
    const container = topology.hosts.flatMap((h) => h.containers).find((c) => c.name === slashName.replace(/^\//, ""))!;
    if (mac !== benchMac(container.ip)) {
      throw new Error(`${container.name}: its network has MAC ${mac || "(none)"}, not the ${benchMac(container.ip)} it was created with`);
    }
    const own = topology.vlans.find((v) => v.id === container.vlan)!;
    for (const other of topology.vlans.filter((v) => v.id !== container.vlan)) {
      commands.push(`nsenter --net=/proc/${pid}/ns/net ip route replace ${other.subnet.cidr} via ${own.gateway}`);
    }
  }
  run("sh", ["-ec", commands.join("\n")]);
}

/**
 * Runs the rendered check (from a file: at 200 containers it is megabytes) in one docker host's
 * network and mount namespaces (where `docker` is the engine's CLI); kills it at the cap.
 */
function runCheck(host: DockerHost, scriptFile: string, capSeconds: number): Promise<{ stdout: string; stderr: string; seconds: number; capped: boolean }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const proc = spawn("nsenter", ["--target", String(host.pid), "--net", "--mount", "--", "env", `DOCKER_HOST=unix://${host.socket}`, "sh", scriptFile], {
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

export async function measureCheckAtScale(options: CheckOptions): Promise<CheckResult> {
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
    const servers = new Set<string>();
    for (const name of DOCKER_HOSTS) {
      const host = await startDockerd(lab, scratch, name, options.engine);
      hosts.set(name, host);
      servers.add(host.server);
    }
    const server = [...servers].join(", ");
    importBusybox(scratch, [...hosts.values()], options.engine.docker);
    for (const [name, host] of hosts) {
      createNetworks(host, largest, name);
    }
    options.log(`check at scale: dockerd ${server} up in ${[...hosts.values()].map((h) => h.ns).join(", ")}; router NAT script applied`);

    const runs: CheckRun[] = [];
    for (const size of options.sizes) {
      const topology = parsed(checkConfig(size));
      const creating = performance.now();
      await Promise.all([...hosts].map(([name, host]) => createContainers(host, topology, name, options.engine.docker)));
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
    return { runs, server };
  } finally {
    lab.close();
  }
}
