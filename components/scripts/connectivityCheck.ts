// The verification of docs/lab-note.md: containers ping each other. Runs on a docker host, changes nothing: one
// `docker exec` per source container runs that container's pings in parallel, and several source
// containers run at once (lanes, `parallelSources` of them); one tab-separated line per probe, in
// the order they finish, and exit 1 at the end if any result differs from what the topology
// expects or any probe gave no line.
// The script is long (it grows with the probes), so it travels on the command's stdin (`sh -s`),
// never as one argument.

import type { Probe, ProbeKind } from "../../topology/probes";
import { REVERT_DIR } from "./confirm";
import { joinScript, prelude, shellQuote } from "./shell";

export type { Probe, ProbeKind } from "../../topology/probes";

export interface ConnectivityCheckScriptArgs {
  readonly probes: readonly Probe[];
  /** Echo requests per probe (default 3). */
  readonly count?: number;
  /** Seconds ping waits for a reply (default 2). */
  readonly timeoutSeconds?: number;
  /** Source containers probing at once, each in its own `docker exec` (default 8). */
  readonly parallelSources?: number;
  /**
   * With commit confirmed on (components/scripts/confirm.ts): the stack's reapply number plus one. A
   * check that fails then says when its host reverts and what to do after fixing the cause. Default: off.
   */
  readonly nextReapply?: number;
}

/** A failing check's note on an armed host: no Confirm runs, when the host reverts, what to do after. */
function armedNote(nextReapply: number | undefined): { values: string[]; call: string[] } {
  if (nextReapply === undefined) return { values: [], call: [] };
  return {
    values: [
      `REVERT_DEADLINE=${shellQuote(`${REVERT_DIR}/deadline`)}`,
      `NEXT_REAPPLY=${shellQuote(String(nextReapply))}`,
      "armed_note() {",
      "  [ -f \"$REVERT_DEADLINE\" ] || return 0",
      "  echo \"commit confirmed: no Confirm runs after a failed check; this host, and each host this update armed, reverts at about $(date -u -d \"@$(cat \"$REVERT_DEADLINE\")\" +%FT%TZ). The stack's state holds the new inputs: after fixing the cause, run pulumi config set reapply $NEXT_REAPPLY, then pulumi up\" >&2",
      "}",
    ],
    call: ["    armed_note"],
  };
}

/** One probe's outcome, as the check reported it. */
export interface ProbeReport {
  readonly from: string;
  readonly to: string;
  readonly toIp: string;
  readonly kind: ProbeKind;
  readonly expected: "reachable" | "unreachable";
  /** "reachable", "unreachable" or "error (…)". */
  readonly result: string;
  /** Average round trip of the replies, when there were any. */
  readonly rttMs: number | null;
}

export const DEFAULT_PING_COUNT = 3;
export const DEFAULT_PING_TIMEOUT_SECONDS = 2;
/**
 * Source containers at once. One source costs about one ping run (count × 1 s when answered, up to
 * the timeout when not) whatever its probe count, so a host's check takes about
 * sources ÷ lanes × that; 8 keeps the docker daemon's exec load modest (see bench/RESULTS.md).
 */
export const DEFAULT_PARALLEL_SOURCES = 8;
/** The command that runs the script it reads on stdin. */
export const CONNECTIVITY_CHECK_COMMAND = "sh -s";

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

// Runs inside a container (busybox sh): `sh -c PINGS pings COUNT TIMEOUT IP...` pings every IP at
// once and prints "<index> <ping exit status> <average rtt or ->" per IP, in any order.
const PINGS_IN_CONTAINER = [
  "count=$1",
  "timeout=$2",
  "shift 2",
  "i=0",
  "for ip in \"$@\"; do",
  "  i=$((i + 1))",
  "  (",
  "    out=$(ping -c \"$count\" -W \"$timeout\" \"$ip\" 2>&1)",
  "    status=$?",
  "    rtt=$(printf '%s\\n' \"$out\" | sed -n 's|.* = [0-9.]*/\\([0-9.]*\\)/.*|\\1|p')",
  "    printf '%s %s %s\\n' \"$i\" \"$status\" \"${rtt:--}\"",
  "  ) &",
  "done",
  "wait",
].join("\n");

function groupBySource(probes: readonly Probe[]): Array<[string, Probe[]]> {
  const groups = new Map<string, Probe[]>();
  for (const probe of probes) {
    groups.set(probe.from, [...(groups.get(probe.from) ?? []), probe]);
  }
  return [...groups.entries()];
}

export function renderConnectivityCheck(args: ConnectivityCheckScriptArgs): string {
  const count = positiveInteger("count", args.count ?? DEFAULT_PING_COUNT);
  const timeout = positiveInteger("timeoutSeconds", args.timeoutSeconds ?? DEFAULT_PING_TIMEOUT_SECONDS);
  const lanes = positiveInteger("parallelSources", args.parallelSources ?? DEFAULT_PARALLEL_SOURCES);
  const head = prelude("connectivity check between containers (changes nothing)", [], false);
  if (args.probes.length === 0) {
    return joinScript([...head, "say \"connectivity: no probes to run\"", "exit 0"]);
  }
  const note = armedNote(args.nextReapply);
  const lines = [
    ...head,
    ...note.values,
    `PING_COUNT=${shellQuote(String(count))}`,
    `PING_TIMEOUT=${shellQuote(String(timeout))}`,
    `PROBES=${shellQuote(String(args.probes.length))}`,
    "# shellcheck disable=SC2016 # expanded inside the container, by its own shell",
    `PINGS=${shellQuote(PINGS_IN_CONTAINER)}`,
    "# run_pings FROM IP...: every ping of one source container in one docker exec. A container that is",
    "# not running, or a shell docker cannot start (exit 126/127), makes every probe of it an error,",
    "# never the expected result. stdin stays with this script (it is read from stdin).",
    "run_pings() {",
    "  from=$1",
    "  shift",
    "  results=",
    "  source_error=",
    "  if [ \"$(docker inspect -f '{{.State.Running}}' \"$from\" 2>/dev/null </dev/null)\" != true ]; then",
    "    source_error=\"error (container $from is not running)\"",
    "    return 0",
    "  fi",
    "  exec_status=0",
    "  results=$(docker exec \"$from\" sh -c \"$PINGS\" pings \"$PING_COUNT\" \"$PING_TIMEOUT\" \"$@\" </dev/null 2>/dev/null) || exec_status=$?",
    "  case $exec_status in",
    "    126 | 127) source_error=\"error (no shell could run in $from, exit $exec_status)\" ;;",
    "  esac",
    "}",
    "# report INDEX TO TO_IP KIND EXPECTED: one tab-separated line (a single write, so lines from",
    "# lanes running at once never mix) from the results of run_pings.",
    "report() {",
    "  got=$source_error",
    "  rtt=-",
    "  if [ -z \"$got\" ]; then",
    "    found=$(printf '%s\\n' \"$results\" | sed -n \"s/^$1 //p\")",
    "    status=${found%% *}",
    "    case $status in",
    "      0) got=reachable; rtt=${found#* } ;;",
    "      126 | 127) got=\"error (ping could not run in $from, exit $status)\" ;;",
    "      '') got=\"error (no result from $from)\" ;;",
    "      *) got=unreachable ;;",
    "    esac",
    "  fi",
    "  printf 'probe\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' \"$from\" \"$2\" \"$3\" \"$4\" \"$5\" \"$got\" \"$rtt\"",
    "}",
    "# summarize: passes every line through, counts the probes and those whose result differs.",
    "summarize() {",
    "  tab=$(printf '\\t')",
    "  total=0",
    "  differ=0",
    "  while IFS= read -r line; do",
    "    printf '%s\\n' \"$line\"",
    "    case $line in",
    "      \"probe$tab\"*)",
    "        total=$((total + 1))",
    "        old_ifs=$IFS",
    "        set -f",
    "        IFS=$tab",
    "        # shellcheck disable=SC2086 # split on tabs only, no globbing",
    "        set -- $line",
    "        IFS=$old_ifs",
    "        set +f",
    "        [ \"$6\" = \"$7\" ] || differ=$((differ + 1))",
    "        ;;",
    "    esac",
    "  done",
    "  if [ \"$total\" -ne \"$PROBES\" ]; then",
    "    say \"connectivity: $((PROBES - total)) of $PROBES probes gave no result\"",
    ...note.call,
    "    exit 1",
    "  fi",
    "  if [ \"$differ\" -ne 0 ]; then",
    "    say \"connectivity: $differ of $PROBES probes differ from the expectation\"",
    ...note.call,
    "    exit 1",
    "  fi",
    "  say \"connectivity: all $PROBES probes as expected\"",
    "}",
    "# Each lane runs its source containers one after another; the lanes run at once.",
    "probe_all() {",
  ];
  const sources = groupBySource(args.probes);
  const laneCount = Math.min(lanes, sources.length);
  for (let lane = 0; lane < laneCount; lane++) {
    lines.push("  {");
    sources.forEach(([from, probes], index) => {
      if (index % laneCount !== lane) {
        return;
      }
      lines.push(`    run_pings ${[from, ...probes.map((p) => p.toIp)].map(shellQuote).join(" ")}`);
      probes.forEach((p, i) => {
        const expected = p.expectReachable ? "reachable" : "unreachable";
        lines.push(`    report ${[String(i + 1), p.to, p.toIp, p.kind, expected].map(shellQuote).join(" ")}`);
      });
    });
    lines.push("  } &");
  }
  lines.push("  wait", "}", "probe_all | summarize");
  return joinScript(lines);
}

/**
 * Reports in the probe plan's order (the check prints them as its lanes finish); reports of probes
 * not in the plan go last, in the order they came.
 */
export function inPlanOrder(reports: readonly ProbeReport[], probes: readonly Probe[]): ProbeReport[] {
  const rank = new Map(probes.map((probe, index) => [`${probe.from}\t${probe.to}\t${probe.toIp}`, index]));
  const rankOf = (report: ProbeReport) => rank.get(`${report.from}\t${report.to}\t${report.toIp}`) ?? probes.length;
  return reports.map((report, index) => ({ report, index })).sort((a, b) => rankOf(a.report) - rankOf(b.report) || a.index - b.index).map((entry) => entry.report);
}

/** The check's output as one report per probe, in the order they finished; other lines are ignored. */
export function parseConnectivityReport(stdout: string): ProbeReport[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("probe\t"))
    .map((line) => {
      const [, from, to, toIp, kind, expected, result, rtt] = line.split("\t");
      const rttMs = rtt === undefined || rtt === "-" || rtt === "" ? null : Number(rtt);
      return {
        from,
        to,
        toIp,
        kind: kind as ProbeKind,
        expected: expected as ProbeReport["expected"],
        result,
        rttMs: rttMs === null || Number.isNaN(rttMs) ? null : rttMs,
      };
    });
}
