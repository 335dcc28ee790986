// Cleanup without Pulumi state: what the program made on a host, found by its own marks (the scripts'
// records in /var/lib/macvlan-overlay, rules tagged macvlan-overlay, files with the marker line,
// containers and networks labelled managed-by=macvlan-overlay), and a plan that removes it the way the
// host plan (components/plan.ts) removes a concern of that kind: each resource's own delete script,
// which restores what its record says was there before.

import { DOCKER_LABEL, type Removal, type RemovalContext, removalScript } from "../components/plan";
import {
  IP_FORWARD_SYSCTL_FILE,
  MANAGED_MARKER,
  managedFileFunctions,
  NETWORK_SCRIPTS_DIR,
  RULE_COMMENT,
  STATE_DIR,
  joinScript,
  prelude,
  shellQuote,
  stateFunctions,
} from "../components/scripts";
import { BOOT_FRAGMENT_DIR, BOOT_RUNNER_PATH, BOOT_UNIT_PATH } from "../components/scripts/bootUnit";
import { shimDeviceOfRecord } from "../components/scripts/hostShim";
import type { Persistence, Subinterface } from "../topology";

/** The label the program puts on every container and network it makes. */
export const MANAGED_LABEL = `${DOCKER_LABEL.label}=${DOCKER_LABEL.value}`;

/** What the inventory script found on one host. */
export interface Inventory {
  /** File names in STATE_DIR. */
  readonly records: readonly string[];
  readonly containers: readonly string[];
  readonly networks: readonly string[];
  /** Tagged iptables rules as `<table> <iptables -S line>`. */
  readonly rules: readonly string[];
  /** Files carrying the marker line (ifcfg files, the ip_forward sysctl file, the boot unit's files). */
  readonly files: readonly string[];
}

/** One step of a cleanup: what it removes, and the script that does it (run as `sh -s`). */
export interface CleanupStep {
  readonly description: string;
  readonly script: string;
}

/** Read-only: one tab-separated line per mark of ours found on the host. */
export function renderInventoryScript(): string {
  const tag = shellQuote(`--comment ${RULE_COMMENT}`);
  const quotedTag = shellQuote(`--comment "${RULE_COMMENT}"`);
  return joinScript([
    ...prelude("cleanup: list what the program made on this host (changes nothing)", [], false),
    `STATE_DIR=${shellQuote(STATE_DIR)}`,
    `MARKER=${shellQuote(MANAGED_MARKER)}`,
    "if [ -d \"$STATE_DIR\" ]; then",
    "  for f in \"$STATE_DIR\"/* \"$STATE_DIR\"/.[!.]*; do",
    "    [ -e \"$f\" ] || continue",
    "    printf 'record\\t%s\\n' \"${f##*/}\"",
    "  done",
    "fi",
    "if command -v docker >/dev/null 2>&1 && docker version >/dev/null 2>&1; then",
    `  docker ps -a --filter label=${shellQuote(MANAGED_LABEL)} --format '{{.Names}}' | sed 's/^/container\\t/'`,
    `  docker network ls --filter label=${shellQuote(MANAGED_LABEL)} --format '{{.Name}}' | sed 's/^/network\\t/'`,
    "fi",
    "if command -v iptables >/dev/null 2>&1; then",
    "  for table in nat filter; do",
    `    iptables -w -t "$table" -S 2>/dev/null | grep -F -e ${tag} -e ${quotedTag} | sed "s/^/rule\\t$table /" || true`,
    "  done",
    "fi",
    `for f in ${[IP_FORWARD_SYSCTL_FILE, BOOT_UNIT_PATH, BOOT_RUNNER_PATH].map(shellQuote).join(" ")} ${shellQuote(NETWORK_SCRIPTS_DIR)}/ifcfg-* ${shellQuote(BOOT_FRAGMENT_DIR)}/*.sh; do`,
    "  [ -f \"$f\" ] || continue",
    "  first=; IFS= read -r first <\"$f\" || true",
    "  [ \"$first\" != \"$MARKER\" ] || printf 'file\\t%s\\n' \"$f\"",
    "done",
  ]);
}

export function parseInventory(output: string): Inventory {
  const of = (kind: string) =>
    output
      .split("\n")
      .filter((line) => line.startsWith(`${kind}\t`))
      .map((line) => line.slice(kind.length + 1))
      .filter((value) => value !== "");
  return { records: of("record"), containers: of("container"), networks: of("network"), rules: of("rule"), files: of("file") };
}

/**
 * What a found VLAN link's records name: its device. Its VLAN id and trunk, which only the delete's
 * title shows, are read from the device name as the topology makes it (`<trunk>.<id>`).
 */
function foundSubinterface(device: string): Subinterface {
  const cut = device.lastIndexOf(".");
  const vlan = Number(device.slice(cut + 1));
  return { vlan: Number.isInteger(vlan) && cut > 0 ? vlan : 0, parent: cut > 0 ? device.slice(0, cut) : device, device };
}

function sorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/**
 * The steps that remove everything in the inventory, dependents first: containers, networks, host
 * shims, the router's rules and ip_forward, VLAN links (and their ifcfg files), promiscuous mode,
 * then the boot unit. What is found becomes the plan's removal of a concern of that kind
 * (components/plan.ts), whether or not the current config still names it; each host-side step is that
 * concern's own delete, with the boot unit as found (the deployed scripts each drop their fragment).
 */
export function cleanupPlan(inventory: Inventory, persistence: Persistence): CleanupStep[] {
  const fragments = inventory.files.filter((file) => file.startsWith(`${BOOT_FRAGMENT_DIR}/`));
  const bootFiles = inventory.files.filter((file) => file === BOOT_UNIT_PATH || file === BOOT_RUNNER_PATH);
  const context: RemovalContext = { persistence, bootUnit: bootFiles.length > 0 || fragments.length > 0 };
  const found: Array<{ readonly removal: Removal; readonly description: string }> = [];

  for (const name of sorted(inventory.containers)) {
    found.push({ removal: { kind: "container", name }, description: `container ${name} (labelled ${MANAGED_LABEL})` });
  }
  for (const name of sorted(inventory.networks)) {
    found.push({ removal: { kind: "docker-network", name }, description: `docker network ${name} (labelled ${MANAGED_LABEL})` });
  }

  const records = new Set(inventory.records);
  const matching = (pattern: RegExp) => [...records].map((r) => pattern.exec(r)?.[1]).filter((d): d is string => d !== undefined);

  for (const device of sorted(inventory.records.map(shimDeviceOfRecord).filter((d): d is string => d !== undefined))) {
    found.push({ removal: { kind: "host-shim", device }, description: `host shim ${device}: removed, as its records say` });
  }

  const sysctlFile = inventory.files.includes(IP_FORWARD_SYSCTL_FILE);
  if (records.has("nat-router.before") || inventory.rules.length > 0 || sysctlFile) {
    const what = [
      `${inventory.rules.length} rule(s) tagged ${RULE_COMMENT}`,
      ...(sysctlFile ? [IP_FORWARD_SYSCTL_FILE] : []),
      records.has("nat-router.before") ? "ip_forward restored as recorded" : "ip_forward left as it is (no record)",
    ];
    found.push({ removal: { kind: "nat-router" }, description: `router: ${what.join(", ")}` });
  }

  const ifcfgPrefix = `${NETWORK_SCRIPTS_DIR}/ifcfg-`;
  const vlanDevices = sorted([
    ...matching(/^vlan-(.+)\.(?:before|address)$/),
    ...inventory.files.filter((f) => f.startsWith(ifcfgPrefix)).map((f) => f.slice(ifcfgPrefix.length)),
  ]);
  for (const device of vlanDevices) {
    const recorded = records.has(`vlan-${device}.before`);
    found.push({
      removal: { kind: "vlan-link", subinterface: foundSubinterface(device) },
      description: `vlan link ${device}: ${recorded ? "restored as recorded (deleted if create made it)" : "no record: its address and files of ours only"}`,
    });
  }

  for (const trunk of sorted(matching(/^promisc-(.+)\.before$/))) {
    found.push({ removal: { kind: "promiscuous-mode", trunkInterface: trunk }, description: `promiscuous mode on ${trunk}: restored as recorded` });
  }

  const steps = found.map(({ removal, description }) => ({ description, script: removalScript(removal, context) }));
  if (context.bootUnit) {
    // A fragment no step above accounts for (its concern's records lost): drop_file removes it if it
    // still carries our marker line (one the concerns' deletes removed is reported already absent).
    steps.push({
      description: `boot fragments of ours still in ${BOOT_FRAGMENT_DIR}: removed`,
      script: joinScript([
        ...prelude("cleanup: boot fragments no concern removed"),
        ...stateFunctions(),
        ...managedFileFunctions(),
        ...fragments.map((fragment) => `drop_file ${shellQuote(fragment)}`),
      ]),
    });
    steps.push({ description: "boot unit: disabled, its runner and unit file removed", script: removalScript({ kind: "boot-unit" }, context) });
  }
  return steps;
}

/** The plan as the doctor prints it before asking. */
export function describePlan(host: string, steps: readonly CleanupStep[]): string {
  if (steps.length === 0) return `## ${host}: nothing of macvlan-overlay found`;
  return [`## ${host}: ${steps.length} step(s)`, ...steps.map((step, index) => `  ${index + 1}. ${step.description}`)].join("\n");
}
