// The verification of docs/lab-note.md: containers ping each other. Runs on a docker host, changes nothing: one
// `docker exec` per source container runs that container's pings in parallel; one tab-separated
// line per probe, and exit 1 at the end if any result differs from what the topology expects.
// The script is long (it grows with the probes), so it travels on the command's stdin (`sh -s`),
// never as one argument.

import type { Probe, ProbeKind } from "../../topology/probes";
import { joinScript, prelude, shellQuote } from "./shell";

export type { Probe, ProbeKind } from "../../topology/probes";

export interface ConnectivityCheckScriptArgs {
  readonly probes: readonly Probe[];
  /** Echo requests per probe (default 3). */
  readonly count?: number;
  /** Seconds ping waits for a reply (default 2). */
  readonly timeoutSeconds?: number;
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
  const head = prelude("connectivity check between containers (changes nothing)", [], false);
  if (args.probes.length === 0) {
    return joinScript([...head, "say \"connectivity: no probes to run\"", "exit 0"]);
  }
  const lines = [
    ...head,
    `PING_COUNT=${shellQuote(String(count))}`,
    `PING_TIMEOUT=${shellQuote(String(timeout))}`,
    "# shellcheck disable=SC2016 # expanded inside the container, by its own shell",
    `PINGS=${shellQuote(PINGS_IN_CONTAINER)}`,
    "differ=0",
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
    "# report INDEX TO TO_IP KIND EXPECTED: one tab-separated line from the results of run_pings.",
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
    "  [ \"$got\" = \"$5\" ] || differ=$((differ + 1))",
    "}",
  ];
  for (const [from, probes] of groupBySource(args.probes)) {
    lines.push(`run_pings ${[from, ...probes.map((p) => p.toIp)].map(shellQuote).join(" ")}`);
    probes.forEach((p, i) => {
      const expected = p.expectReachable ? "reachable" : "unreachable";
      lines.push(`report ${[String(i + 1), p.to, p.toIp, p.kind, expected].map(shellQuote).join(" ")}`);
    });
  }
  lines.push(
    "if [ \"$differ\" -ne 0 ]; then",
    `  say "connectivity: $differ of ${args.probes.length} probes differ from the expectation"`,
    "  exit 1",
    "fi",
    `say "connectivity: all ${args.probes.length} probes as expected"`,
    "exit 0",
  );
  return joinScript(lines);
}

/** The check's output as one report per probe, in the order they ran; other lines are ignored. */
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
