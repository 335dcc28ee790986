// What a host should hold according to the topology: one item per thing the doctor checks, each with
// the exact text the host's facts script prints when the item is as it should be.

import { createHash } from "node:crypto";
import { persistenceBackend } from "../components/scripts/persistence";
import { routerRules, describeRule } from "../components/scripts/natRouter";
import type { ManagedFile } from "../components/scripts/managedFile";
import {
  BOOT_RUNNER_PATH, BOOT_UNIT_PATH, BOOT_UNIT_WANTS_LINK, bootUnitWanted, renderBootRunner, renderBootUnitFile,
} from "../components/scripts/bootUnit";
import { hostShimBootFragment } from "../components/scripts/hostShim";
import { routerBootFragment } from "../components/scripts/natRouter";
import { promiscuousBootFragment } from "../components/scripts/promiscuousMode";
import { vlanBootFragment } from "../components/scripts/vlanSubinterface";
import type { Host, Topology } from "../topology";

/** How the facts script reads an item on the host. */
export type Fact =
  | { readonly kind: "promisc"; readonly device: string }
  | { readonly kind: "link"; readonly device: string }
  | { readonly kind: "addresses"; readonly device: string }
  | { readonly kind: "routes"; readonly device: string }
  | { readonly kind: "ip_forward" }
  | { readonly kind: "rule"; readonly table: string; readonly chain: string; readonly spec: readonly string[] }
  | { readonly kind: "extra-rules"; readonly expected: number }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "symlink"; readonly path: string }
  | { readonly kind: "network"; readonly name: string }
  | { readonly kind: "container"; readonly name: string };

export interface Expectation {
  /** What is checked, for the report ("link ens33.10"). */
  readonly item: string;
  /** What the facts script prints when all is well; "*" in a container's MAC slot accepts any MAC. */
  readonly expected: string;
  readonly fact: Fact;
}

/** Container name → MAC, from the stack's exported outputs (`pulumi stack output --json`). */
export type KnownMacs = ReadonlyMap<string, string>;

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function fileExpectation(file: ManagedFile): Expectation {
  return { item: `file ${file.path}`, expected: `ours sha256:${sha256(file.content)}`, fact: { kind: "file", path: file.path } };
}

export function expectedHostState(topology: Topology, host: Host, macs: KnownMacs = new Map()): Expectation[] {
  const backend = persistenceBackend(topology.persistence);
  const items: Expectation[] = [
    { item: `promiscuous ${host.trunkInterface}`, expected: "on", fact: { kind: "promisc", device: host.trunkInterface } },
  ];
  for (const sub of host.subinterfaces) {
    items.push(
      { item: `link ${sub.device}`, expected: `vlan ${sub.vlan} on ${sub.parent}, up`, fact: { kind: "link", device: sub.device } },
      { item: `addresses ${sub.device}`, expected: sub.address?.cidr ?? "none", fact: { kind: "addresses", device: sub.device } },
      ...backend.vlanFiles(sub).map(fileExpectation),
    );
  }
  for (const shim of host.shims) {
    items.push(
      { item: `shim ${shim.device}`, expected: `macvlan on ${shim.parent}, up`, fact: { kind: "link", device: shim.device } },
      { item: `addresses ${shim.device}`, expected: `${shim.address}/32`, fact: { kind: "addresses", device: shim.device } },
      { item: `routes ${shim.device}`, expected: [...shim.containerIps].sort().join(" ") || "none", fact: { kind: "routes", device: shim.device } },
    );
  }
  if (host.role === "router" && topology.router !== undefined) {
    const rules = routerRules({ interfaces: host.subinterfaces.map((s) => s.device), masquerade: topology.router.masquerade });
    items.push(
      { item: "ip_forward", expected: "1", fact: { kind: "ip_forward" } },
      ...backend.ipForwardFiles().map(fileExpectation),
      ...rules.map((rule) => ({
        item: `rule ${describeRule(rule)}`,
        expected: "present",
        fact: { kind: "rule", table: rule.table, chain: rule.chain, spec: rule.spec } as const,
      })),
      { item: "rules tagged macvlan-overlay", expected: String(rules.length), fact: { kind: "extra-rules", expected: rules.length } },
    );
  }
  if (bootUnitWanted(topology.persistence)) {
    items.push(...bootUnitExpectations(topology, host));
  }
  if (host.role === "docker") {
    for (const sub of host.subinterfaces) {
      const vlan = topology.vlans.find((v) => v.id === sub.vlan)!;
      items.push({
        item: `network ${vlan.network}`,
        expected: `${vlan.driver} parent=${sub.device} mode=${vlan.driver === "ipvlan" ? "l2" : topology.macvlanMode} subnet=${vlan.subnet.cidr} gateway=${vlan.gateway}`,
        fact: { kind: "network", name: vlan.network },
      });
    }
    for (const container of host.containers) {
      const { network, driver } = topology.vlans.find((v) => v.id === container.vlan)!;
      // An ipvlan container has its parent's MAC, not one of its own: no MAC to compare.
      const mac = driver === "ipvlan" ? "*" : (macs.get(container.name) ?? "*");
      items.push({
        item: `container ${container.name}`,
        expected: `running ${network} ${container.ip} ${mac}`,
        fact: { kind: "container", name: container.name },
      });
    }
  }
  return items;
}

/** The boot unit: its file, runner and enabling link, and each concern's fragment as the program writes it. */
function bootUnitExpectations(topology: Topology, host: Host): Expectation[] {
  const persistence = topology.persistence;
  const boot = true;
  const fragments = [
    promiscuousBootFragment({ trunkInterface: host.trunkInterface, persistence, boot }),
    ...host.subinterfaces.map((subinterface) => vlanBootFragment({ subinterface, persistence, boot })),
    ...host.shims.map((shim) => hostShimBootFragment({ device: shim.device, parent: shim.parent, address: shim.address, containerIps: shim.containerIps, boot })),
    ...(host.role === "router" && topology.router !== undefined
      ? [routerBootFragment({ interfaces: host.subinterfaces.map((s) => s.device), masquerade: topology.router.masquerade, boot })]
      : []),
  ];
  return [
    fileExpectation({ path: BOOT_UNIT_PATH, content: renderBootUnitFile({ trunkInterfaces: [host.trunkInterface] }) }),
    fileExpectation({ path: BOOT_RUNNER_PATH, content: renderBootRunner() }),
    { item: "boot unit enabled", expected: BOOT_UNIT_PATH, fact: { kind: "symlink", path: BOOT_UNIT_WANTS_LINK } },
    ...fragments.map(fileExpectation),
  ];
}

/** An item's verdict: the found text equals the expected one ("*" matches any MAC). */
export function matches(expected: string, found: string): boolean {
  if (!expected.endsWith(" *")) {
    return expected === found;
  }
  const prefix = expected.slice(0, -1);
  return found.startsWith(prefix) && !found.slice(prefix.length).includes(" ");
}
