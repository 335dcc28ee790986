// The router between the VLANs (host 3 of docs/lab-note.md): ip_forward=1 and its iptables rules,
// each tagged with a comment so they are findable as ours. Delete removes exactly those rules and
// restores ip_forward to the value the first create found.

import { bootFragment, bootFragmentPath, dropFragment, dropStaleFragment, writeOwnFragment } from "./bootUnit";
import { type Confirmation, confirmableConverge } from "./confirm";
import { concernCreate, concernDelete } from "./concernScript";
import { firewalldCommandsValue, ROUTER_PREFLIGHT } from "./routerPreflight";
import { dropFile, type ManagedFile, putFile, refuseForeign } from "./managedFile";
import { ipForwardSysctlFile } from "./persistence";
import { buildScript, shellFunction, steps } from "./scriptBuilder";
import {
  BEGIN_TRANSACTION,
  COMMIT,
  FORGET,
  type HostScript,
  RECORD,
  SAY,
  shellQuote,
  STATE_DIR,
  UNDO_PUSH,
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
  /** The stack's confirmWithinSeconds: an in-place update arms a revert that far ahead (confirm.ts). Default 0: off. */
  readonly confirmWithinSeconds?: number;
}

function confirmation(args: NatRouterScriptArgs): Confirmation {
  return { id: "nat-router", withinSeconds: args.confirmWithinSeconds ?? 0 };
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

/** The record of ip_forward before the first create: one line, `ip_forward=<value>`. */
export const NAT_ROUTER_STATE_FILE = `${STATE_DIR}/nat-router.before`;
/** Who owns the router's records of directories it made. */
const RECORD_OWNER = "nat-router";

/**
 * Each table's wanted rules as `iptables -S` lines, one header value per table. routerRules lists every
 * nat rule before the filter rules, so adding table by table keeps its order.
 */
function ruleValues(rules: readonly RouterRule[]): Array<readonly [string, string]> {
  const of = (table: RouterRule["table"]) => rules.filter((rule) => rule.table === table).map(listedRule).join("\n");
  return [
    ["NAT_RULES", of("nat")],
    ["FILTER_RULES", of("filter")],
  ];
}

const TAGGED = shellQuote(`--comment ${RULE_COMMENT} `);

const IP_FORWARD = shellFunction("ip_forward", ["ip_forward() { cat /proc/sys/net/ipv4/ip_forward; }"]);
/** sysctl where it works; otherwise /proc directly (minimal images lack procps). */
const SET_IP_FORWARD = shellFunction("set_ip_forward", [
  "set_ip_forward() {",
  "  if command -v sysctl >/dev/null 2>&1 && sysctl -w \"net.ipv4.ip_forward=$1\" >/dev/null 2>&1; then",
  "    return 0",
  "  fi",
  "  printf '%s\\n' \"$1\" >/proc/sys/net/ipv4/ip_forward",
  "}",
]);
/** `remove_ours_except TABLE CHAIN WANTED`: removes every rule of ours (tagged) not in WANTED (iptables -S lines). */
const REMOVE_OURS_EXCEPT = shellFunction(
  "remove_ours_except",
  [
    "remove_ours_except() {",
    `  ours=$(iptables -w -t "$1" -S "$2" | grep -F -e ${TAGGED} || true)`,
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
  ],
  { calls: [UNDO_PUSH, SAY] },
);
/** `add_rule TABLE RULE`: RULE (an iptables -S line) inserted after our own rules, ahead of the chain's others, unless it is there. */
const ADD_RULE = shellFunction(
  "add_rule",
  [
    "add_rule() {",
    "  rule_table=$1",
    "  set -f",
    "  # shellcheck disable=SC2086 # our rules are plain words",
    "  set -- $2",
    "  set +f",
    "  rule_chain=$2",
    "  shift 2",
    "  if iptables -w -t \"$rule_table\" -C \"$rule_chain\" \"$@\" 2>/dev/null; then",
    "    say \"iptables: exists: -t $rule_table -A $rule_chain $*\"",
    "  else",
    "    # After our own rules, ahead of the chain's others: a final REJECT cannot shadow them.",
    `    rule_position=$(( $(iptables -w -t "$rule_table" -S "$rule_chain" | grep -c -F -e ${TAGGED} || true) + 1 ))`,
    "    undo_push iptables -w -t \"$rule_table\" -D \"$rule_chain\" \"$@\"",
    "    iptables -w -t \"$rule_table\" -I \"$rule_chain\" \"$rule_position\" \"$@\"",
    "    say \"iptables: added: -t $rule_table -A $rule_chain $*\"",
    "  fi",
    "}",
  ],
  { calls: [UNDO_PUSH, SAY] },
);
/** `add_rules TABLE RULES`: add_rule for each line of RULES, in order. */
const ADD_RULES = shellFunction(
  "add_rules",
  ["add_rules() {", "  while IFS= read -r rule_line; do", "    [ -z \"$rule_line\" ] || add_rule \"$1\" \"$rule_line\"", "  done <<EOF", "$2", "EOF", "}"],
  { calls: [ADD_RULE] },
);
/** `delete_rule TABLE RULE`: removes RULE (an iptables -S line), however often it is there. */
const DELETE_RULE = shellFunction(
  "delete_rule",
  [
    "delete_rule() {",
    "  rule_table=$1",
    "  set -f",
    "  # shellcheck disable=SC2086 # our rules are plain words",
    "  set -- $2",
    "  set +f",
    "  rule_chain=$2",
    "  shift 2",
    "  rule_state='already absent'",
    "  while iptables -w -t \"$rule_table\" -C \"$rule_chain\" \"$@\" 2>/dev/null; do",
    "    iptables -w -t \"$rule_table\" -D \"$rule_chain\" \"$@\"",
    "    rule_state=removed",
    "  done",
    "  say \"iptables: $rule_state: -t $rule_table -A $rule_chain $*\"",
    "}",
  ],
  { calls: [SAY] },
);
/** `delete_rules TABLE RULES`: delete_rule for each line of RULES, the last first. */
const DELETE_RULES = shellFunction(
  "delete_rules",
  [
    "delete_rules() {",
    "  while IFS= read -r rule_line; do",
    "    [ -z \"$rule_line\" ] || delete_rule \"$1\" \"$rule_line\"",
    "  done <<EOF",
    "$(printf '%s\\n' \"$2\" | sed -n '1!G;h;$p')",
    "EOF",
    "}",
  ],
  { calls: [DELETE_RULE] },
);

/** Derived from the header: the record. */
const RECORD_NAME = "BEFORE=\"$STATE_DIR/nat-router.before\"";

function comments(boot: boolean): string[] {
  return [
    boot
      ? "Brought back at boot by macvlan-overlay.service, which runs this text; ip_forward by sysctl.d."
      : "Not persisted across reboots: iptables rules are not saved in this version (ip_forward is, in sysctl.d).",
  ];
}

const FRAGMENT_VALUE: readonly [string, string] = ["FRAGMENT", bootFragmentPath(30, "router")];

/**
 * Create and update: the same convergence. Adds the wanted rules that are missing, then removes the
 * rules of ours no longer wanted (so forwarding never stops in between), writes the sysctl file and
 * sets ip_forward to 1; it never lowers ip_forward. Every change is journalled. With the boot unit,
 * the same text is the boot fragment (it writes itself there as it commits).
 */
function converge(args: NatRouterScriptArgs, title: string, fragment = false): string {
  const sysctlFile = ipForwardSysctlFile();
  return confirmableConverge(confirmation(args), (confirm) => {
  const body = steps(
    confirm.guard,
    RECORD_NAME,
    BEGIN_TRANSACTION,
    "# Preflight: nothing changes on the host until this passes.",
    ROUTER_PREFLIGHT,
    refuseForeign("SYSCTL_FILE"),
    confirm.arm,
    "found_forward=$(ip_forward)",
    "if [ ! -f \"$BEFORE\" ]; then",
    "  record \"$BEFORE\" \"ip_forward=$found_forward\"",
    "  say \"ip_forward: recorded previous value $found_forward\"",
    "fi",
    putFile("SYSCTL_FILE", "SYSCTL_TEXT", RECORD_OWNER),
    "if [ \"$found_forward\" = 1 ]; then",
    "  say \"ip_forward: already 1\"",
    "else",
    "  undo_push set_ip_forward \"$found_forward\"",
    "  set_ip_forward 1",
    "  say \"ip_forward: 1 (was $found_forward)\"",
    "fi",
    "add_rules nat \"$NAT_RULES\"",
    "add_rules filter \"$FILTER_RULES\"",
    "remove_ours_except nat POSTROUTING \"$NAT_RULES\"",
    "remove_ours_except filter FORWARD \"$FILTER_RULES\"",
    args.boot === true ? writeOwnFragment() : dropStaleFragment(),
    confirm.file,
    "commit",
    { lines: [], uses: [IP_FORWARD, RECORD, SAY, UNDO_PUSH, SET_IP_FORWARD, ADD_RULES, REMOVE_OURS_EXCEPT, COMMIT] },
  );
  return buildScript({
    fragment,
    title,
    comments: comments(args.boot === true),
    values: [
      ...ruleValues(routerRules(args)),
      firewalldCommandsValue(args.interfaces, args.masquerade),
      ["SYSCTL_FILE", sysctlFile.path],
      ["SYSCTL_TEXT", sysctlFile.content],
      FRAGMENT_VALUE,
      ["STATE_DIR", STATE_DIR],
      ...confirm.values,
    ],
    uses: body.uses,
    body: body.lines,
  });
  });
}

/** The boot fragment: the converge, run by the boot unit last (30: after the links its rules name); its create runs the same text. */
export function routerBootFragment(args: NatRouterScriptArgs): ManagedFile {
  return bootFragment(30, "router", converge(args, "NAT router between the VLANs (create, update, boot)", true));
}

export function renderNatRouter(args: NatRouterScriptArgs): HostScript {
  const boot = args.boot === true;
  const remove = steps(
    "delete_rules filter \"$FILTER_RULES\"",
    "delete_rules nat \"$NAT_RULES\"",
    "# Rules of ours an earlier version added and a failed update may have left.",
    "remove_ours_except nat POSTROUTING ''",
    "remove_ours_except filter FORWARD ''",
    dropFile("SYSCTL_FILE", RECORD_OWNER),
    ...(boot ? [dropFragment()] : []),
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
    { lines: [], uses: [DELETE_RULES, REMOVE_OURS_EXCEPT, SAY, IP_FORWARD, SET_IP_FORWARD, FORGET] },
  );
  return {
    create: concernCreate({
      title: "NAT router between the VLANs (create or update)",
      boot,
      bootFragment: () => routerBootFragment(args),
      converge: (title) => converge(args, title),
      confirmWithinSeconds: args.confirmWithinSeconds,
    }),
    delete: concernDelete({
      title: "NAT router between the VLANs (delete)",
      confirmation: confirmation(args),
      recordNames: RECORD_NAME,
      values: [
        ...ruleValues(routerRules(args)),
        ["SYSCTL_FILE", ipForwardSysctlFile().path],
        ...(boot ? [FRAGMENT_VALUE] : []),
        ["STATE_DIR", STATE_DIR],
      ],
      body: remove,
    }),
  };
}
