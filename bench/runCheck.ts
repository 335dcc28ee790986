// `npm run bench:check`: the connectivity check at 20, 100 and 200 containers over two docker hosts
// and a router, on this kernel with a real dockerd per host; prints the table and writes it to
// bench/RESULTS.md. `npm run bench:check -- --quick` runs 4 and 8 containers and writes nothing.

import { measureCheckAtScale, type CheckRun } from "./checkAtScale";
import { markdownTable } from "./markdownTable";
import { machineTable, writeSection } from "./resultsFile";
import { DEFAULT_PARALLEL_SOURCES } from "../components/scripts/connectivityCheck";

const quick = process.argv.includes("--quick");
const SIZES = quick ? [4, 8] : [20, 100, 200];
/** Each size's check is stopped after this long; a capped run is projected from its pace. */
const CAP_SECONDS = quick ? 30 : 90;
/** `-- --parallel-sources=N` runs the check with N lanes instead of its default. */
const lanesArgument = process.argv.find((a) => a.startsWith("--parallel-sources="));
const PARALLEL_SOURCES = lanesArgument === undefined ? undefined : Number(lanesArgument.slice("--parallel-sources=".length));
const TARGET_SECONDS = 60;

const log = (line: string) => process.stdout.write(`${line}\n`);

function checkTable(runs: CheckRun[]): string {
  return markdownTable(
    ["containers", "probes (linear plan, run)", "probes (all pairs option)", "probes run", "differing", "wall s", "whole check s", `under ${TARGET_SECONDS} s`],
    runs.map((r) => [
      r.containers,
      r.probes,
      r.allPairsProbes,
      r.finished,
      r.differing,
      r.wallSeconds.toFixed(1),
      r.capped ? `${r.projectedSeconds.toFixed(0)} (projected)` : r.projectedSeconds.toFixed(1),
      r.projectedSeconds < TARGET_SECONDS ? "yes" : "**no**",
    ]),
  );
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error("npm run bench:check needs root (network namespaces, dockerd)");
  }
  const started = Date.now();
  const machine = machineTable();
  log(machine);
  const runs = await measureCheckAtScale({ sizes: SIZES, capSeconds: CAP_SECONDS, parallelSources: PARALLEL_SOURCES, log });
  const table = checkTable(runs);
  log(table);
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  log(`npm run bench:check took ${minutes} min`);
  if (quick) {
    log("(--quick: RESULTS.md not written)");
    return;
  }
  writeSection(
    "bench-check",
    [
      "## `npm run bench:check`",
      "",
      machine,
      "",
      `Took ${minutes} min. Two docker hosts and a router as \`ovb-*\` network namespaces on the host kernel (VLAN legs emulated with veths on per-VLAN bridges: no 802.1Q here), Debian's dockerd 20.10 in each docker host, busybox containers on macvlan networks split evenly over the hosts and two VLANs, the router running the program's rendered NAT script. The program's rendered connectivity check (\`renderConnectivityCheck\` with \`connectivityProbes\`) runs in each docker host's namespace against its dockerd, both hosts at once; the wall time is the slower host's. A check still running after ${CAP_SECONDS} s is stopped, and its whole time projected from the probes it finished. The check runs its default, linear plan (each container to its gateway, to one container of each other VLAN and to one on the next host: containers × (VLANs + 1) probes), one \`docker exec\` per source container, up to ${PARALLEL_SOURCES ?? DEFAULT_PARALLEL_SOURCES} source containers at once (${PARALLEL_SOURCES === undefined ? "its default lanes" : "`--parallel-sources`"}); "all pairs option" counts what \`allPairs\` would run instead.`,
      "",
      table,
    ].join("\n"),
  );
  log("bench/RESULTS.md written");
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
