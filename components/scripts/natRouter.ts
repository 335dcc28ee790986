// The router between the VLANs (host 3 of docs/lab-note.md): ip_forward=1 and its iptables rules,
// each tagged with a comment so they are findable as ours. Delete removes exactly those rules and
// restores ip_forward to the value the first create found.

import { bootFragment, bootFragmentCommands } from "./bootUnit";
import { routerPreflightLines } from "./routerPreflight";
import { dropFileCommands, managedFileFunctions, putFileCommands, refuseForeignCommands } from "./managedFile";
import { ipForwardSysctlFile } from "./persistence";
import {
  holdHostLock,
  type HostScript,
  joinScript,
  prelude,
  shellQuote,
  STATE_DIR,
  stateFile,
  stateFunctions,
  transactionTrap,
} from "./shell";

/** The comment on every rule this project adds. */
export const RULE_COMMENT = "macvlan-overlay";

export interface RouterRule {
  readonly table: "nat" | "filter";
  readonly chain: "POSTROUTING" | "FORWARD";
  /** Everything after `-A <chain>`, one argument per element. */
  readonly spec: readonly string[];
}

export interface NatRouterScriptArgs {
  readonly interfaces: readonly string[];
  readonly masquerade: boolean;
  /** Write the boot fragment that brings the rules back at boot (the host has the boot unit). Default false. */
  readonly boot?: boolean;
}

const TAG = ["-m", "comment", "--comment", RULE_COMMENT] as const;

/**
 * The lab note's rules in its order (docs/lab-note.md): MASQUERADE out of each interface (when masquerade), then
 * RELATED,ESTABLISHED for every ordered pair of distinct interfaces, then ACCEPT for every pair.
 */
export function routerRules(args: NatRouterScriptArgs): RouterRule[] {
  if (new Set(args.interfaces).size !== args.interfaces.length) {
    throw new Error(`router interfaces must be distinct: ${args.interfaces.join(", ")}`);
  }
  const pairs = args.interfaces.flatMap((from) =>
    args.interfaces.filter((to) => to !== from).map((to) => [from, to] as const),
  );
  const masquerade: RouterRule[] = args.masquerade
    ? args.interfaces.map((out) => ({ table: "nat", chain: "POSTROUTING", spec: ["-o", out, ...TAG, "-j", "MASQUERADE"] }))
    : [];
  const established: RouterRule[] = pairs.map(([from, to]) => ({
    table: "filter",
    chain: "FORWARD",
    spec: ["-i", from, "-o", to, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", ...TAG, "-j", "ACCEPT"],
  }));
  const accept: RouterRule[] = pairs.map(([from, to]) => ({
    table: "filter",
    chain: "FORWARD",
    spec: ["-i", from, "-o", to, ...TAG, "-j", "ACCEPT"],
  }));
  return [...masquerade, ...established, ...accept];
}

/** The rule as iptables arguments for a human: "-t nat -A POSTROUTING -o ens33.10 ... -j MASQUERADE". */
export function describeRule(rule: RouterRule): string {
  return `-t ${rule.table} -A ${rule.chain} ${rule.spec.join(" ")}`;
}

/** The rule as `iptables -S` prints it ("-A FORWARD -i ens33.10 ... -j ACCEPT"): how an update recognises it. */
export function listedRule(rule: RouterRule): string {
  return `-A ${rule.chain} ${rule.spec.join(" ")}`;
}

/** The chains our rules live in, per table. */
const RULE_CHAINS: ReadonlyArray<readonly [RouterRule["table"], RouterRule["chain"]]> = [
  ["nat", "POSTROUTING"],
  ["filter", "FORWARD"],
];

/** The record of ip_forward before the first create: one line, `ip_forward=<value>`. */
export const NAT_ROUTER_STATE_FILE = `${STATE_DIR}/nat-router.before`;
const STATE_NAME = "nat-router.before";
/** Who owns the router's records of directories it made. */
const RECORD_OWNER = "nat-router";

function ruleArguments(rule: RouterRule): string {
  return [rule.table, rule.chain, ...rule.spec].map(shellQuote).join(" ");
}

function common(action: "create or update" | "delete" | "boot", boot: boolean): string[] {
  return [
    ...prelude(`NAT router between the VLANs (${action})`, [
      boot
        ? "Brought back at boot by macvlan-overlay.service (its boot fragment is this script's converge part); ip_forward by sysctl.d."
        : "Not persisted across reboots: iptables rules are not saved in this version (ip_forward is, in sysctl.d).",
    ]),
    `BEFORE=${stateFile(STATE_NAME)}`,
    ...stateFunctions(),
    ...managedFileFunctions(),
    "ip_forward() { cat /proc/sys/net/ipv4/ip_forward; }",
    "# sysctl where it works; otherwise /proc directly (minimal images lack procps).",
    "set_ip_forward() {",
    "  if command -v sysctl >/dev/null 2>&1 && sysctl -w \"net.ipv4.ip_forward=$1\" >/dev/null 2>&1; then",
    "    return 0",
    "  fi",
    "  printf '%s\\n' \"$1\" >/proc/sys/net/ipv4/ip_forward",
    "}",
    "# remove_ours_except TABLE CHAIN WANTED: removes every rule of ours (tagged) not in WANTED (iptables -S lines).",
    "remove_ours_except() {",
    "  ours=$(iptables -w -t \"$1\" -S \"$2\" | grep -F -e " + shellQuote(`--comment ${RULE_COMMENT} `) + " || true)",
    "  rule_table=$1",
    "  wanted=$3",
    "  while IFS= read -r listed; do",
    "    [ -n \"$listed\" ] || continue",
    "    if printf '%s\\n' \"$wanted\" | grep -qxF -- \"$listed\"; then",
    "      continue",
    "    fi",
    "    set -f",
    "    # shellcheck disable=SC2086 # iptables -S prints our rules as plain words",
    "    set -- $listed",
    "    set +f",
    "    shift",
    "    undo_push iptables -w -t \"$rule_table\" -A \"$@\"",
    "    iptables -w -t \"$rule_table\" -D \"$@\"",
    "    say \"iptables: removed (no longer wanted): -t $rule_table -A $*\"",
    "  done <<EOF",
    "$ours",
    "EOF",
    "}",
  ];
}

/** Each of our chains' wanted rules as `iptables -S` lines, one shell word per chain. */
function wantedListing(rules: readonly RouterRule[], table: RouterRule["table"], chain: RouterRule["chain"]): string {
  return shellQuote(rules.filter((rule) => rule.table === table && rule.chain === chain).map(listedRule).join("\n"));
}

/**
 * Create and update: the same convergence. Adds the wanted rules that are missing, then removes the
 * rules of ours no longer wanted (so forwarding never stops in between), writes the sysctl file and
 * sets ip_forward to 1; it never lowers ip_forward. Every change is journalled.
 */
function renderConverge(args: NatRouterScriptArgs, action: "create or update"): string {
  return converge(args, action, bootFragmentCommands(routerBootFragment(args), args.boot === true).write);
}

/** The boot fragment: the converge part alone, run by the boot unit last (30: after the links its rules name). */
export function routerBootFragment(args: NatRouterScriptArgs) {
  return bootFragment(30, "router", converge(args, "boot"));
}

function converge(args: NatRouterScriptArgs, action: "create or update" | "boot", bootLines: readonly string[] = []): string {
  const rules = routerRules(args);
  const sysctlFile = ipForwardSysctlFile();
  return joinScript([
    ...common(action, args.boot === true),
    ...transactionTrap(),
    "add_rule() {",
    "  rule_table=$1",
    "  rule_chain=$2",
    "  shift 2",
    "  if iptables -w -t \"$rule_table\" -C \"$rule_chain\" \"$@\" 2>/dev/null; then",
    "    say \"iptables: exists: -t $rule_table -A $rule_chain $*\"",
    "  else",
    "    # Inserted after our own rules, ahead of the chain's others: a final REJECT cannot shadow them.",
    "    rule_position=$(( $(iptables -w -t \"$rule_table\" -S \"$rule_chain\" | grep -c -F -e " + shellQuote(`--comment ${RULE_COMMENT} `) + " || true) + 1 ))",
    "    undo_push iptables -w -t \"$rule_table\" -D \"$rule_chain\" \"$@\"",
    "    iptables -w -t \"$rule_table\" -I \"$rule_chain\" \"$rule_position\" \"$@\"",
    "    say \"iptables: added: -t $rule_table -A $rule_chain $*\"",
    "  fi",
    "}",
    "# Preflight: nothing changes on the host until this passes.",
    ...routerPreflightLines(args.interfaces, args.masquerade),
    ...refuseForeignCommands(sysctlFile),
    "found_forward=$(ip_forward)",
    "if [ ! -f \"$BEFORE\" ]; then",
    "  record \"$BEFORE\" \"ip_forward=$found_forward\"",
    "  say \"ip_forward: recorded previous value $found_forward\"",
    "fi",
    ...putFileCommands(sysctlFile, RECORD_OWNER),
    "if [ \"$found_forward\" = 1 ]; then",
    "  say \"ip_forward: already 1\"",
    "else",
    "  undo_push set_ip_forward \"$found_forward\"",
    "  set_ip_forward 1",
    "  say \"ip_forward: 1 (was $found_forward)\"",
    "fi",
    ...rules.map((rule) => `add_rule ${ruleArguments(rule)}`),
    ...RULE_CHAINS.map(
      ([table, chain]) => `remove_ours_except ${shellQuote(table)} ${shellQuote(chain)} ${wantedListing(rules, table, chain)}`,
    ),
    ...bootLines,
    "commit",
  ]);
}

export function renderNatRouter(args: NatRouterScriptArgs): HostScript {
  const rules = routerRules(args);
  const sysctlFile = ipForwardSysctlFile();
  const remove = [
    ...common("delete", args.boot === true),
    ...holdHostLock(),
    "delete_rule() {",
    "  rule_table=$1",
    "  rule_chain=$2",
    "  shift 2",
    "  rule_state='already absent'",
    "  while iptables -w -t \"$rule_table\" -C \"$rule_chain\" \"$@\" 2>/dev/null; do",
    "    iptables -w -t \"$rule_table\" -D \"$rule_chain\" \"$@\"",
    "    rule_state=removed",
    "  done",
    "  say \"iptables: $rule_state: -t $rule_table -A $rule_chain $*\"",
    "}",
    ...[...rules].reverse().map((rule) => `delete_rule ${ruleArguments(rule)}`),
    "# Rules of ours an earlier version added and a failed update may have left.",
    ...RULE_CHAINS.map(([table, chain]) => `remove_ours_except ${shellQuote(table)} ${shellQuote(chain)} ''`),
    ...dropFileCommands(sysctlFile, RECORD_OWNER),
    ...(args.boot === true ? bootFragmentCommands(routerBootFragment(args), true).drop : []),
    "if [ ! -f \"$BEFORE\" ]; then",
    "  say \"ip_forward: no record of a create, left at $(ip_forward)\"",
    "else",
    "  previous=$(sed -n 's/^ip_forward=//p' \"$BEFORE\")",
    "  if [ -z \"$previous\" ]; then",
    "    say \"ip_forward: record is empty, left at $(ip_forward)\"",
    "  elif [ \"$(ip_forward)\" = \"$previous\" ]; then",
    "    say \"ip_forward: already $previous\"",
    "  else",
    "    set_ip_forward \"$previous\"",
    "    say \"ip_forward: $previous (restored)\"",
    "  fi",
    "  forget \"$BEFORE\"",
    "fi",
    "release_state_dir",
  ];
  return { create: renderConverge(args, "create or update"), delete: joinScript(remove) };
}
