// How long parseTopology takes on a large config, and the heap it leaves; reports only, asserts nothing.

import { performance } from "perf_hooks";
import { formatIpv4 } from "../topology/ipv4";
import { formatProblems, parseTopology } from "../topology";

const DOCKER_HOSTS = 199;
const VLANS = 100;
const CONTAINERS = 4000;
const RUNS = 5;

/** One router and 199 docker hosts on 100 vlans (10.<k>.0.0/16), each docker host addressed on every vlan. */
function largeConfig(): Record<string, unknown> {
  const vlans = Array.from({ length: VLANS }, (_, k) => ({
    id: 100 + k,
    network: `mac-net${100 + k}`,
    subnet: `10.${k}.0.0/16`,
    gateway: `10.${k}.0.1`,
  }));
  const hosts: Record<string, unknown>[] = Array.from({ length: DOCKER_HOSTS }, (_, h) => ({
    name: `host${h}`,
    address: formatIpv4(((192 << 24) | (168 << 16) | h) >>> 0),
    role: "docker",
    vlanAddresses: Object.fromEntries(vlans.map((vlan, k) => [String(vlan.id), `10.${k}.2.${h + 1}/16`])),
    containers: [] as Record<string, unknown>[],
  }));
  for (let c = 0; c < CONTAINERS; c++) {
    const k = c % VLANS;
    const slot = Math.floor(c / VLANS);
    (hosts[c % DOCKER_HOSTS].containers as Record<string, unknown>[]).push({
      name: `c${c}`,
      vlan: 100 + k,
      ip: `10.${k}.1.${slot + 2}`,
    });
  }
  hosts.push({
    name: "router",
    address: "192.168.255.1",
    role: "router",
    vlanAddresses: Object.fromEntries(vlans.map((vlan) => [String(vlan.id), `${vlan.gateway}/16`])),
  });
  return { sshPrivateKeyFile: "id_ed25519", sshKnownHostsFile: "known_hosts", vlans, hosts, router: { masquerade: true } };
}

function main(): void {
  const config = largeConfig();
  console.log(`parseTopology: ${DOCKER_HOSTS + 1} hosts, ${VLANS} vlans, ${CONTAINERS} containers, ${RUNS} runs`);
  for (let run = 1; run <= RUNS; run++) {
    const started = performance.now();
    const result = parseTopology(config);
    const elapsed = performance.now() - started;
    if (!result.ok) {
      // A benchmark of the failure path would measure the wrong thing: stop and show why.
      console.error(formatProblems(result.problems.slice(0, 10)));
      process.exitCode = 1;
      return;
    }
    const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;
    console.log(`run ${run}: ${elapsed.toFixed(1)} ms, heap used ${heapMiB.toFixed(1)} MiB`);
  }
}

main();
