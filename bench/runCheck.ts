// `npm run bench:check`: the connectivity check at 20, 100 and 200 containers over two docker hosts
// and a router, on this kernel with the lab's Docker Engine 26 per host; prints the table and writes
// it to bench/RESULTS.md. `npm run bench:check -- --quick` runs 4 and 8 containers and writes nothing.
// Before it builds anything it checks root and its tools, and fetches the engine into .lab/cache
// once (lab/fetch-engine.sh, as `npm run lab:up` does); `-- --preflight` stops after that.

import * as fs from "node:fs";
import { requireNoBenchNamespaces } from "./benchNetns";
import { measureCheckAtScale, type CheckRun } from "./checkAtScale";
import { ENGINE_CACHE, engineAt, engineFetched, engineTools, engineVersions, ensureEngine, FETCH_TOOLS } from "./engine";
import { markdownTable } from "./markdownTable";
import { machineTable, writeSection } from "./resultsFile";
import { BenchSetupError, CHECK_TOOLS, requireRoot, requireTools } from "./tools";
import { DEFAULT_PARALLEL_SOURCES } from "../components/scripts/connectivityCheck";

const WHAT = "npm run bench:check";
const USAGE = `usage: ${WHAT} [-- --quick] [-- --parallel-sources=N] [-- --preflight]
  Runs the program's connectivity check at 20, 100 and 200 containers on two docker hosts and a router
  (ovb-* network namespaces, the lab's Docker Engine 26 from .lab/cache) and rewrites its section of
  bench/RESULTS.md. Needs root. bash lab/install-deps.sh installs the Debian packages it needs; the engine
  is fetched into .lab/cache on the first run (sh lab/fetch-engine.sh .lab/cache, a Debian mirror).
  --quick               4 and 8 containers, writes nothing
  --parallel-sources=N  the check's lanes (default ${DEFAULT_PARALLEL_SOURCES})
  --preflight           check root and tools, fetch the engine if needed, then stop
`;

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
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    process.stdout.write(USAGE);
    return;
  }
  // Everything it needs, before it builds anything.
  requireRoot(WHAT, "network namespaces, dockerd");
  const engine = engineAt(ENGINE_CACHE);
  requireTools(WHAT, [...CHECK_TOOLS, ...(engineFetched(engine) ? [] : FETCH_TOOLS)]);
  requireNoBenchNamespaces();
  ensureEngine(ENGINE_CACHE, log);
  requireTools(WHAT, engineTools(engine));
  const versions = engineVersions(fs.readFileSync(engine.versions, "utf8"));
  log(`Docker Engine: ${versions} (.lab/cache/engine)`);
  if (process.argv.includes("--preflight")) {
    log(`${WHAT}: root, tools and Docker Engine are there (--preflight: nothing run)`);
    return;
  }

  const started = Date.now();
  const machine = machineTable();
  log(machine);
  const { runs, server } = await measureCheckAtScale({ engine, sizes: SIZES, capSeconds: CAP_SECONDS, parallelSources: PARALLEL_SOURCES, log });
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
      `Took ${minutes} min. Two docker hosts and a router as \`ovb-*\` network namespaces on the host kernel (VLAN legs emulated with veths on per-VLAN bridges: no 802.1Q here), the lab's Docker Engine 26 in each docker host (dockerd ${server}, its own containerd; ${versions}: \`lab/fetch-engine.sh\`), busybox containers on macvlan networks split evenly over the hosts and two VLANs, each with its own per-network MAC, the router running the program's rendered NAT script. The program's rendered connectivity check (\`renderConnectivityCheck\` with \`connectivityProbes\`) runs in each docker host's namespaces against its dockerd, both hosts at once; the wall time is the slower host's. A check still running after ${CAP_SECONDS} s is stopped, and its whole time projected from the probes it finished. The check runs its default, linear plan (each container to its gateway, to one container of each other VLAN and to one on the next host: containers × (VLANs + 1) probes), one \`docker exec\` per source container, up to ${PARALLEL_SOURCES ?? DEFAULT_PARALLEL_SOURCES} source containers at once (${PARALLEL_SOURCES === undefined ? "its default lanes" : "`--parallel-sources`"}); "all pairs option" counts what \`allPairs\` would run instead.`,
      "",
      table,
    ].join("\n"),
  );
  log("bench/RESULTS.md written");
}

main().catch((error) => {
  // A missing tool or root is said in one message; anything else with its stack.
  process.stderr.write(`${error instanceof BenchSetupError ? error.message : ((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
