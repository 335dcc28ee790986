// The seed's verification: containers ping each other. Runs on a docker host, changes nothing,
// runs every probe, and exits 1 at the end if any result differs from what the topology expects.

import type { Probe } from "../../topology/probes";
import { joinScript, prelude, shellQuote } from "./shell";

export type { Probe };

export interface ConnectivityCheckArgs {
  readonly probes: readonly Probe[];
  /** Echo requests per probe (default 3). */
  readonly count?: number;
  /** Seconds ping waits for a reply (default 2). */
  readonly timeoutSeconds?: number;
}

export const DEFAULT_PING_COUNT = 3;
export const DEFAULT_PING_TIMEOUT_SECONDS = 2;

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

export function renderConnectivityCheck(args: ConnectivityCheckArgs): string {
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
    "differ=0",
    "# probe FROM TO TO_IP EXPECTED. A container that is not running, or a ping docker cannot start",
    "# (exit 126/127), is an error, never the expected result: `docker exec` on a missing container",
    "# exits 1 like a ping without reply, hence the inspect first.",
    "probe() {",
    "  if [ \"$(docker inspect -f '{{.State.Running}}' \"$1\" 2>/dev/null)\" != true ]; then",
    "    got=\"error (container $1 is not running)\"",
    "  else",
    "    status=0",
    "    docker exec \"$1\" ping -c \"$PING_COUNT\" -W \"$PING_TIMEOUT\" \"$3\" >/dev/null 2>&1 || status=$?",
    "    case $status in",
    "      0) got=reachable ;;",
    "      126 | 127) got=\"error (ping could not run in $1, exit $status)\" ;;",
    "      *) got=unreachable ;;",
    "    esac",
    "  fi",
    "  say \"probe $1 -> $2 ($3): expected $4, got $got\"",
    "  [ \"$got\" = \"$4\" ] || differ=$((differ + 1))",
    "}",
    ...args.probes.map((p) =>
      ["probe", p.from, p.to, p.toIp, p.expectReachable ? "reachable" : "unreachable"].map((w, i) => (i === 0 ? w : shellQuote(w))).join(" "),
    ),
    "if [ \"$differ\" -ne 0 ]; then",
    `  say "connectivity: $differ of ${args.probes.length} probes differ from the expectation"`,
    "  exit 1",
    "fi",
    `say "connectivity: all ${args.probes.length} probes as expected"`,
    "exit 0",
  ];
  return joinScript(lines);
}
