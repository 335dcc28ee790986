// The read-only script the doctor runs on a host: for each expected item, one line
// `fact <index> <found>` with the found state in the same words the expectation uses.

import { RULE_COMMENT } from "../components/scripts/natRouter";
import { joinScript, prelude, shellQuote } from "../components/scripts/shell";
import { REVERT_DIR, REVERTED_RECORD } from "../components/scripts/confirm";
import { type Expectation, type Fact, NOTHING_ARMED } from "./expected";

const FUNCTIONS = [
  "revert_fact() {",
  "  if [ -f \"$1\" ]; then r=$(cat \"$1\"); echo \"reverted at ${r%% reverted:*}:${r#* reverted:}\"",
  "  elif [ -f \"$2\" ]; then echo \"armed: reverts at $(date -u -d \"@$(cat \"$2\")\" +%FT%TZ) unless pulumi up confirms it\"",
  `  else echo ${shellQuote(NOTHING_ARMED)}; fi`,
  "}",
  "fact() { printf 'fact %s %s\\n' \"$1\" \"$2\"; }",
  "flags() { ip -o link show dev \"$1\" 2>/dev/null | sed -n 's/^[0-9]*: [^<]*<\\([^>]*\\)>.*/,\\1,/p'; }",
  "promisc_fact() {",
  "  f=$(flags \"$1\")",
  "  case $f in '') echo missing ;; *,PROMISC,*) echo on ;; *) echo off ;; esac",
  "}",
  "link_fact() {",
  "  line=$(ip -d -o link show dev \"$1\" 2>/dev/null) || { echo missing; return 0; }",
  "  case $(flags \"$1\") in *,UP,*) state=up ;; *) state=down ;; esac",
  "  id=$(printf '%s\\n' \"$line\" | sed -n 's/.* vlan protocol 802\\.1Q id \\([0-9]*\\) .*/\\1/p')",
  "  parent=$(printf '%s\\n' \"$line\" | sed -n 's/^[0-9]*: [^@:]*@\\([^:]*\\):.*/\\1/p')",
  "  if [ -n \"$id\" ]; then echo \"vlan $id on $parent, $state\"; else",
  "    kind=$(printf '%s\\n' \"$line\" | tr ' ' '\\n' | grep -x -m 1 -E 'veth|macvlan|bridge|dummy|bond|ipvlan' || echo device)",
  "    case $kind in macvlan | ipvlan) kind=\"$kind on $parent\" ;; esac",
  "    echo \"$kind, $state\"",
  "  fi",
  "}",
  "addresses_fact() {",
  "  ip link show dev \"$1\" >/dev/null 2>&1 || { echo missing; return 0; }",
  "  found=$(ip -o -4 addr show dev \"$1\" | awk '{print $4}' | sort | tr '\\n' ' ' | sed 's/ $//')",
  "  echo \"${found:-none}\"",
  "}",
  "routes_fact() {",
  "  ip link show dev \"$1\" >/dev/null 2>&1 || { echo missing; return 0; }",
  "  found=$(ip -4 route show dev \"$1\" | awk '{sub(/\\/32$/, \"\", $1); print $1}' | LC_ALL=C sort | tr '\\n' ' ' | sed 's/ $//')",
  "  echo \"${found:-none}\"",
  "}",
  "file_fact() {",
  "  [ -e \"$1\" ] || { echo absent; return 0; }",
  "  first=; IFS= read -r first <\"$1\" || true",
  "  case $first in '# Managed by macvlan-overlay'*) owner=ours ;; *) owner=foreign ;; esac",
  "  echo \"$owner sha256:$(sha256sum <\"$1\" | cut -d' ' -f1)\"",
  "}",
  "rule_fact() {",
  "  command -v iptables >/dev/null 2>&1 || { echo 'no iptables'; return 0; }",
  "  if iptables -w -t \"$@\" >/dev/null 2>&1; then echo present; else echo absent; fi",
  "}",
  "tagged_rules() {",
  "  command -v iptables-save >/dev/null 2>&1 || { echo 'no iptables'; return 0; }",
  `  iptables-save 2>/dev/null | grep -c -e ${shellQuote(`--comment ${RULE_COMMENT}`)} -e ${shellQuote(`--comment "${RULE_COMMENT}"`)} || true`,
  "}",
  "network_fact() {",
  "  docker network inspect \"$1\" >/dev/null 2>&1 || { echo missing; return 0; }",
  "  docker network inspect -f '{{.Driver}} parent={{index .Options \"parent\"}} mode={{with index .Options \"macvlan_mode\"}}{{.}}{{end}}{{with index .Options \"ipvlan_mode\"}}{{.}}{{end}}{{range .IPAM.Config}} subnet={{.Subnet}} gateway={{.Gateway}}{{end}}' \"$1\"",
  "}",
  "container_fact() {",
  "  docker inspect \"$1\" >/dev/null 2>&1 || { echo missing; return 0; }",
  "  docker inspect -f '{{if .State.Running}}running{{else}}{{.State.Status}}{{end}}{{range $name, $net := .NetworkSettings.Networks}} {{$name}} {{$net.IPAddress}} {{$net.MacAddress}}{{end}}' \"$1\"",
  "}",
];

function factCommand(fact: Fact): string {
  switch (fact.kind) {
    case "promisc":
      return `promisc_fact ${shellQuote(fact.device)}`;
    case "link":
      return `link_fact ${shellQuote(fact.device)}`;
    case "addresses":
      return `addresses_fact ${shellQuote(fact.device)}`;
    case "routes":
      return `routes_fact ${shellQuote(fact.device)}`;
    case "ip_forward":
      return "cat /proc/sys/net/ipv4/ip_forward";
    case "rule":
      return `rule_fact ${[fact.table, "-C", fact.chain, ...fact.spec].map(shellQuote).join(" ")}`;
    case "extra-rules":
      return "tagged_rules";
    case "file":
      return `file_fact ${shellQuote(fact.path)}`;
    case "symlink":
      return `readlink ${shellQuote(fact.path)} || echo absent`;
    case "network":
      return `network_fact ${shellQuote(fact.name)}`;
    case "container":
      return `container_fact ${shellQuote(fact.name)}`;
    case "revert":
      return `revert_fact ${shellQuote(REVERTED_RECORD)} ${shellQuote(`${REVERT_DIR}/deadline`)}`;
  }
}

export function renderFactsScript(expectations: readonly Expectation[]): string {
  return joinScript([
    ...prelude("doctor: read what the host holds (changes nothing)", [], false),
    ...FUNCTIONS,
    ...expectations.map((e, index) => `fact ${index} "$(${factCommand(e.fact)})"`),
  ]);
}

/** The found text per item index, from the facts script's output. */
export function parseFacts(output: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const line of output.split("\n")) {
    const match = /^fact (\d+) (.*)$/.exec(line);
    if (match) {
      found.set(Number(match[1]), match[2]);
    }
  }
  return found;
}
