// Data plane on this machine's kernel, in `ovb-*` network namespaces: iperf3 throughput and ping
// RTT for a raw veth pair, host to host over the VLAN legs, container to container over macvlan on
// the same VLAN, and across VLANs through a router namespace running the program's own NAT script
// (with and without MASQUERADE). Scenarios are interleaved so drift on a shared machine hits all alike.
//
// This kernel has no 802.1Q, so each VLAN is emulated: a host's `ens33.<id>` is a veth whose peer
// sits on a per-VLAN bridge in a switch namespace (the same emulation the local lab uses).

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { renderNatRouter } from "../components/scripts";
import { assertUnrouted, BenchNamespaces, privateMountNamespace, run, waitFor } from "./benchNetns";
import { median, spread } from "./stats";

/** Every address below lives in this block, checked against the machine's routes before use. */
export const DATA_PLANE_BLOCK = "10.251.0.0/16";

export type ScenarioId = "a0" | "a" | "b" | "c" | "d";

export interface Scenario {
  id: ScenarioId;
  title: string;
  client: string;
  server: string;
  target: string;
  masquerade?: boolean;
}

export const SCENARIOS: readonly Scenario[] = [
  { id: "a0", title: "raw veth pair", client: "ovb-a0x", server: "ovb-a0y", target: "10.251.1.2" },
  { id: "a", title: "host to host, same VLAN leg (no macvlan)", client: "ovb-h1", server: "ovb-h2", target: "10.251.110.11" },
  { id: "b", title: "container to container, same VLAN across hosts (macvlan)", client: "ovb-c10", server: "ovb-c30", target: "10.251.10.5" },
  { id: "c", title: "across VLANs through the router, MASQUERADE", client: "ovb-c10", server: "ovb-c40", target: "10.251.20.4", masquerade: true },
  { id: "d", title: "across VLANs through the router, no masquerade", client: "ovb-c10", server: "ovb-c40", target: "10.251.20.4", masquerade: false },
];

export interface ScenarioResult {
  scenario: Scenario;
  gbits: number[];
  rttMs: number[];
  /** Through the router: packets its MASQUERADE rules matched during each repetition (proof the NAT ran, or did not). */
  masqueradedPackets: number[];
}

/** Sum of the packet counters of MASQUERADE rules in `iptables -t nat -L POSTROUTING -vnx` output. */
export function masqueradePackets(listing: string): number {
  return listing
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((words) => words[2] === "MASQUERADE")
    .reduce((sum, words) => sum + Number(words[0]), 0);
}

export interface DataPlaneOptions {
  repetitions: number;
  seconds: number;
  log: (line: string) => void;
}

const VLANS = [10, 20] as const;
const ROUTER_LEGS = VLANS.map((id) => `ens33.${id}`);

/** Builds the namespaces: a raw pair; hosts h1, h2 and router r on bridges br10/br20 in ovb-sw; three containers. */
function build(lab: BenchNamespaces): void {
  lab.add("ovb-a0x");
  lab.add("ovb-a0y");
  lab.veth("ovb-a0x", "eth0", "ovb-a0y", "eth0");
  lab.ip("ovb-a0x", "addr", "add", "10.251.1.1/24", "dev", "eth0");
  lab.ip("ovb-a0y", "addr", "add", "10.251.1.2/24", "dev", "eth0");

  lab.add("ovb-sw");
  for (const id of VLANS) {
    lab.ip("ovb-sw", "link", "add", `br${id}`, "type", "bridge");
    lab.ip("ovb-sw", "link", "set", `br${id}`, "up");
  }
  const hostIndex: Record<string, number> = { h1: 10, h2: 11 };
  for (const host of ["h1", "h2", "r"]) {
    const ns = lab.add(`ovb-${host}`);
    for (const id of VLANS) {
      lab.veth(ns, `ens33.${id}`, "ovb-sw", `${host}v${id}`);
      lab.ip("ovb-sw", "link", "set", `${host}v${id}`, "master", `br${id}`);
      // What the program's PromiscuousMode does to the trunk; here each leg is its own link.
      lab.ip(ns, "link", "set", `ens33.${id}`, "promisc", "on");
      if (host !== "r") {
        lab.ip(ns, "addr", "add", `10.251.${100 + id}.${hostIndex[host]}/24`, "dev", `ens33.${id}`);
      }
    }
  }
  // The router's legs hold both VLANs' gateways, as the program's router host does.
  lab.ip("ovb-r", "addr", "add", "10.251.10.1/24", "dev", "ens33.10");
  lab.ip("ovb-r", "addr", "add", "10.251.20.1/24", "dev", "ens33.20");

  const containers = [
    { ns: "ovb-c10", host: "ovb-h1", vlan: 10, ip: "10.251.10.2", other: "10.251.20.0/24", gateway: "10.251.10.1" },
    { ns: "ovb-c30", host: "ovb-h2", vlan: 10, ip: "10.251.10.5", other: "10.251.20.0/24", gateway: "10.251.10.1" },
    { ns: "ovb-c40", host: "ovb-h2", vlan: 20, ip: "10.251.20.4", other: "10.251.10.0/24", gateway: "10.251.20.1" },
  ];
  for (const c of containers) {
    lab.add(c.ns);
    // What Docker's macvlan driver does: a bridge-mode macvlan on the parent, moved into the container.
    lab.ip(c.host, "link", "add", "mv0", "link", `ens33.${c.vlan}`, "type", "macvlan", "mode", "bridge");
    lab.ip(c.host, "link", "set", "mv0", "netns", c.ns);
    lab.ip(c.ns, "link", "set", "mv0", "name", "eth0");
    lab.ip(c.ns, "addr", "add", `${c.ip}/24`, "dev", "eth0");
    lab.ip(c.ns, "link", "set", "eth0", "up");
    // Only the other VLAN goes through the router: no default route anywhere.
    lab.ip(c.ns, "route", "add", c.other, "via", c.gateway);
  }
}

function startServer(lab: BenchNamespaces, scenario: Scenario, servers: Map<string, ChildProcess>): Promise<void> {
  const key = `${scenario.server} ${scenario.target}`;
  if (servers.has(key)) {
    return Promise.resolve();
  }
  const server = lab.track(spawn("ip", ["netns", "exec", scenario.server, "iperf3", "-s", "-B", scenario.target], { stdio: ["ignore", "ignore", "pipe"] }));
  let stderr = "";
  server.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  servers.set(key, server);
  return waitFor(`iperf3 server in ${scenario.server}`, 10, () => {
    if (server.exitCode !== null) {
      throw new Error(`iperf3 server in ${scenario.server} exited (${server.exitCode}): ${stderr.trim().slice(-500)}`);
    }
    return run("ip", ["netns", "exec", scenario.server, "ss", "-Hltn", "sport = :5201"]).trim() !== "";
  });
}

function iperf(scenario: Scenario, seconds: number): number {
  const out = run("ip", ["netns", "exec", scenario.client, "iperf3", "-c", scenario.target, "-t", String(seconds), "-J"]);
  const report = JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } };
  return report.end.sum_received.bits_per_second / 1e9;
}

/** Median of ten echo replies' times, in ms. */
function rtt(scenario: Scenario): number {
  const result = spawnSync("ip", ["netns", "exec", scenario.client, "ping", "-n", "-c", "10", "-i", "0.2", "-W", "1", scenario.target], { encoding: "utf8" });
  const times = [...result.stdout.matchAll(/time=([0-9.]+) ms/g)].map((m) => Number(m[1]));
  if (times.length === 0) {
    throw new Error(`ping ${scenario.target} from ${scenario.client}: no reply\n${result.stdout}${result.stderr}`);
  }
  return median(times);
}

export async function measureDataPlane(options: DataPlaneOptions): Promise<ScenarioResult[]> {
  assertUnrouted([DATA_PLANE_BLOCK]);
  const lab = new BenchNamespaces();
  try {
    build(lab);
    const router = await privateMountNamespace(lab, "ovb-r", ["/etc/sysctl.d", "/var/lib", "/run"]);
    const natScripts = new Map(
      [true, false].map((masquerade) => [masquerade, renderNatRouter({ interfaces: ROUTER_LEGS, masquerade })] as const),
    );
    let routerMode: boolean | undefined;
    const setRouter = (masquerade: boolean) => {
      if (routerMode === masquerade) {
        return;
      }
      if (routerMode !== undefined) {
        router.runScript(natScripts.get(routerMode)!.delete);
      }
      router.runScript(natScripts.get(masquerade)!.create);
      routerMode = masquerade;
    };
    const servers = new Map<string, ChildProcess>();
    const results: ScenarioResult[] = SCENARIOS.map((scenario) => ({ scenario, gbits: [], rttMs: [], masqueradedPackets: [] }));
    for (let rep = 1; rep <= options.repetitions; rep++) {
      for (const result of results) {
        const { scenario } = result;
        if (scenario.masquerade !== undefined) {
          setRouter(scenario.masquerade);
        }
        await startServer(lab, scenario, servers);
        result.gbits.push(iperf(scenario, options.seconds));
        result.rttMs.push(rtt(scenario));
        if (scenario.masquerade !== undefined) {
          result.masqueradedPackets.push(masqueradePackets(router.runScript("iptables -w -t nat -L POSTROUTING -vnx")));
        }
        options.log(`data plane rep ${rep} (${scenario.id}) ${scenario.title}: ${result.gbits.at(-1)!.toFixed(2)} Gbit/s, rtt ${result.rttMs.at(-1)!.toFixed(3)} ms`);
      }
    }
    if (routerMode !== undefined) {
      router.runScript(natScripts.get(routerMode)!.delete);
    }
    return results;
  } finally {
    lab.close();
  }
}

export function summarize(result: ScenarioResult): { gbits: number; min: number; max: number; rttMs: number } {
  const { min, max } = spread(result.gbits);
  return { gbits: median(result.gbits), min, max, rttMs: median(result.rttMs) };
}
