// What a host should hold, concern by concern: the one description that the program (MacvlanOverlay), the
// doctor's expected state, its cleanup and the diagram read. Each concern has a stable key, its
// arguments, the concerns it needs first, whether it writes a boot fragment, what the doctor expects
// of it and how it is removed. Pure: no Pulumi here; script text comes from components/scripts.

import { createHash } from "node:crypto";
import type { Container, Host, HostShim, Persistence, Subinterface, Topology, Vlan } from "../topology";
import {
  BOOT_RUNNER_PATH,
  BOOT_UNIT_PATH,
  BOOT_UNIT_WANTS_LINK,
  type BootUnitSpec,
  bootUnitWanted,
  renderBootRunner,
  renderBootUnit,
  renderBootUnitFile,
} from "./scripts/bootUnit";
import { renderDockerEngineCheck } from "./scripts/dockerEngine";
import { hostShimBootFragment, type HostShimScriptArgs, renderHostShim, renderHostShimDelete } from "./scripts/hostShim";
import type { ManagedFile } from "./scripts/managedFile";
import { describeRule, type NatRouterScriptArgs, renderNatRouter, routerBootFragment, routerRules } from "./scripts/natRouter";
import { persistenceBackend } from "./scripts/persistence";
import { promiscuousBootFragment, type PromiscuousModeScriptArgs, renderPromiscuousMode } from "./scripts/promiscuousMode";
import { type HostScript, joinScript, prelude, shellQuote } from "./scripts/shell";
import { renderVlanSubinterface, vlanBootFragment, type VlanSubinterfaceScriptArgs } from "./scripts/vlanSubinterface";

/** Each concern's key within its host; `<host>/<key>` is its resource name. */
export const concernKeys = {
  dockerEngine: "docker-engine",
  bootUnit: "boot",
  trunk: "trunk",
  vlan: (vlan: number) => `vlan${vlan}`,
  shim: (vlan: number) => `vlan${vlan}/shim`,
  network: (network: string) => `network/${network}`,
  container: (key: string) => `container/${key}`,
  router: "nat",
};

/** A concern's resource name: its host and key, joined with "/" (which no host name contains). */
export function concernName(host: string, key: string): string {
  return `${host}/${key}`;
}

/** The label on every Docker network and container the program makes: how cleanup finds them. */
export const DOCKER_LABEL = { label: "managed-by", value: "macvlan-overlay" } as const;

/** A host script and the renderer arguments it is made from: a host command concern's arguments. */
export type ConcernScript =
  | { readonly renderer: "dockerEngineCheck" }
  | { readonly renderer: "bootUnit"; readonly args: BootUnitSpec }
  | { readonly renderer: "promiscuousMode"; readonly args: PromiscuousModeScriptArgs }
  | { readonly renderer: "vlanSubinterface"; readonly args: VlanSubinterfaceScriptArgs }
  | { readonly renderer: "hostShim"; readonly args: HostShimScriptArgs }
  | { readonly renderer: "natRouter"; readonly args: NatRouterScriptArgs };

/** The scripts of a host command; a read-only check has no delete. */
export type ConcernScripts = HostScript | { readonly create: string; readonly delete?: undefined };

/** The script text, from the renderer the concern names. */
export function renderConcernScript(script: ConcernScript): ConcernScripts {
  switch (script.renderer) {
    case "dockerEngineCheck":
      return { create: renderDockerEngineCheck() };
    case "bootUnit":
      return renderBootUnit(script.args);
    case "promiscuousMode":
      return renderPromiscuousMode(script.args);
    case "vlanSubinterface":
      return renderVlanSubinterface(script.args);
    case "hostShim":
      return renderHostShim(script.args);
    case "natRouter":
      return renderNatRouter(script.args);
  }
}

/** A concern another one needs first: by `order` only, or `input` (one of its values becomes an input). */
export interface ConcernDependency {
  readonly key: string;
  readonly through: "order" | "input";
}

/** How the doctor reads an item on the host. */
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
  | { readonly kind: "container"; readonly name: string }
  /** Commit confirmed's state on the host: nothing armed, armed until a time, or reverted at a time. */
  | { readonly kind: "revert" };

/** One item the doctor checks: what it is, what the facts script prints when it is as it should be, how it is read. */
export interface Expectation {
  /** What is checked, for the report ("link ens33.10"). */
  readonly item: string;
  /** What the facts script prints when all is well; "*" in a container's MAC slot accepts any MAC. */
  readonly expected: string;
  readonly fact: Fact;
}

/**
 * Where an item stands in the doctor's report: the host's links and rules, then the boot unit and the
 * fragments, then Docker's networks, then its containers (in config order: `order`).
 */
export type FactSection = "host" | "boot" | "networks" | "containers";

export interface PlannedFact extends Expectation {
  readonly section: FactSection;
  /** Order within the section where it is not the concerns' order (a container's place in the config). Default 0. */
  readonly order?: number;
  /** A container with a MAC of its own: the stack's outputs know it (the doctor fills the "*"). */
  readonly macFromOutputs?: boolean;
}

/** How a concern is removed without Pulumi's state, from what its marks on the host name. */
export type Removal =
  | { readonly kind: "container"; readonly name: string }
  | { readonly kind: "docker-network"; readonly name: string }
  | { readonly kind: "host-shim"; readonly device: string }
  /** Every rule tagged as ours, whichever interfaces it names; ip_forward as recorded. */
  | { readonly kind: "nat-router" }
  | { readonly kind: "vlan-link"; readonly subinterface: Subinterface }
  | { readonly kind: "promiscuous-mode"; readonly trunkInterface: string }
  | { readonly kind: "boot-unit" };

/** What a removal's delete needs to know of the host besides the concern: as deployed. */
export interface RemovalContext {
  readonly persistence: Persistence;
  /** The host has the boot unit: the delete removes the concern's boot fragment too. */
  readonly bootUnit: boolean;
}

/** The script that removes it: the concern's own delete (docker's rm for Docker objects), run as `sh -s`. */
export function removalScript(removal: Removal, context: RemovalContext): string {
  const boot = context.bootUnit;
  const { persistence } = context;
  switch (removal.kind) {
    case "container":
      return dockerRemoval(`container ${removal.name}`, `docker rm -f -- ${shellQuote(removal.name)}`);
    case "docker-network":
      return dockerRemoval(`docker network ${removal.name}`, `docker network rm -- ${shellQuote(removal.name)}`);
    case "host-shim":
      return renderHostShimDelete(removal.device);
    case "nat-router":
      // No interfaces: the delete then removes every tagged rule, whichever interfaces it names.
      return renderNatRouter({ interfaces: [], masquerade: false, boot }).delete;
    case "vlan-link":
      return renderVlanSubinterface({ subinterface: removal.subinterface, persistence, boot }).delete;
    case "promiscuous-mode":
      return renderPromiscuousMode({ trunkInterface: removal.trunkInterface, persistence, boot }).delete;
    case "boot-unit":
      // The unit's delete removes its files by path: it needs no trunk.
      return renderBootUnit({ trunkInterfaces: [] }).delete;
  }
}

function dockerRemoval(what: string, command: string): string {
  return joinScript([...prelude(`cleanup: ${what} (labelled ${DOCKER_LABEL.label}=${DOCKER_LABEL.value})`, [], false), command]);
}

interface ConcernBase {
  /** The host it is on. */
  readonly host: string;
  /** Stable within the host (concernKeys): its identity across deployments. */
  readonly key: string;
  /** Its resource name, `<host>/<key>`. */
  readonly name: string;
  /** The concerns of the same host it needs first, by key. */
  readonly dependsOn: readonly ConcernDependency[];
  /** The connectivity check depends on it and runs again whenever it changes. */
  readonly verified: boolean;
  /** It writes a boot fragment, which the host's boot unit runs at every boot. */
  readonly writesBootFragment: boolean;
  /** What the doctor reads on the host and expects there (rendered when asked: file digests). */
  readonly expects: () => readonly PlannedFact[];
  /** How it is removed without Pulumi's state; none for what changes nothing (the engine check). */
  readonly removal?: Removal;
}

/** A concern that is a remote command on the host: its script's renderer and arguments. */
interface CommandConcernBase extends ConcernBase {
  readonly script: ConcernScript;
  /** False for a read-only check: it has no delete, and nothing to restore or bring back at boot. */
  readonly changesHost: boolean;
}

export interface DockerEngineConcern extends CommandConcernBase {
  readonly kind: "docker-engine";
}
export interface BootUnitConcern extends CommandConcernBase {
  readonly kind: "boot-unit";
}
export interface PromiscuousModeConcern extends CommandConcernBase {
  readonly kind: "promiscuous-mode";
  readonly trunkInterface: string;
}
export interface VlanLinkConcern extends CommandConcernBase {
  readonly kind: "vlan-link";
  readonly subinterface: Subinterface;
}
export interface HostShimConcern extends CommandConcernBase {
  readonly kind: "host-shim";
  readonly shim: HostShim;
}
export interface NatRouterConcern extends CommandConcernBase {
  readonly kind: "nat-router";
  readonly interfaces: readonly string[];
  readonly masquerade: boolean;
  /** The iptables rules it holds, as `iptables` arguments. */
  readonly rules: readonly string[];
}
export interface DockerNetworkConcern extends ConcernBase {
  readonly kind: "docker-network";
  readonly vlan: Vlan;
  /** The VLAN link it sits on (its `parent` option). */
  readonly parentDevice: string;
  readonly macvlanMode: Topology["macvlanMode"];
}
export interface ContainerConcern extends ConcernBase {
  readonly kind: "container";
  readonly container: Container;
  /** Its network's Docker name. */
  readonly network: string;
  readonly driver: Vlan["driver"];
}

export type HostCommandConcern =
  | DockerEngineConcern
  | BootUnitConcern
  | PromiscuousModeConcern
  | VlanLinkConcern
  | HostShimConcern
  | NatRouterConcern;
export type HostConcern = HostCommandConcern | DockerNetworkConcern | ContainerConcern;
export type ConcernKind = HostConcern["kind"];

/** Whether the hosts get the boot unit, and so every concern that can writes its boot fragment: decided here only. */
export function hostsHaveBootUnit(topology: Topology): boolean {
  return bootUnitWanted(topology.persistence);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function fileFact(file: ManagedFile, section: FactSection): PlannedFact {
  return { item: `file ${file.path}`, expected: `ours sha256:${sha256(file.content)}`, fact: { kind: "file", path: file.path }, section };
}

/**
 * Everything a host should hold, in the order the program registers it: the Docker Engine check
 * (docker hosts), the boot unit (unless persistence is none), promiscuous mode on the trunk, per VLAN
 * its link (and on a docker host its network and the containers on it), the host shims, the router.
 */
export function planHost(topology: Topology, host: Host): HostConcern[] {
  const boot = hostsHaveBootUnit(topology);
  const backend = persistenceBackend(topology.persistence);
  const { persistence } = topology;
  const common = (key: string) => ({ host: host.name, key, name: concernName(host.name, key) });
  const order = (key: string): ConcernDependency => ({ key, through: "order" });
  const bootDependency = boot ? [order(concernKeys.bootUnit)] : [];
  const concerns: HostConcern[] = [];

  const engineReady: ConcernDependency[] = [];
  if (host.role === "docker") {
    concerns.push({
      kind: "docker-engine",
      ...common(concernKeys.dockerEngine),
      script: { renderer: "dockerEngineCheck" },
      changesHost: false,
      dependsOn: [],
      verified: false,
      writesBootFragment: false,
      expects: () => [],
    });
    engineReady.push(order(concernKeys.dockerEngine));
  }

  if (boot) {
    const spec: BootUnitSpec = { trunkInterfaces: [host.trunkInterface] };
    concerns.push({
      kind: "boot-unit",
      ...common(concernKeys.bootUnit),
      script: { renderer: "bootUnit", args: spec },
      changesHost: true,
      dependsOn: engineReady,
      verified: false,
      writesBootFragment: false,
      expects: () => [
        fileFact({ path: BOOT_UNIT_PATH, content: renderBootUnitFile(spec) }, "boot"),
        fileFact({ path: BOOT_RUNNER_PATH, content: renderBootRunner() }, "boot"),
        { item: "boot unit enabled", expected: BOOT_UNIT_PATH, fact: { kind: "symlink", path: BOOT_UNIT_WANTS_LINK }, section: "boot" },
      ],
      removal: { kind: "boot-unit" },
    });
  }

  // Only when updates arm: with commit confirmed off the renderers are called as before it existed.
  const confirm = topology.confirmWithinSeconds > 0 ? { confirmWithinSeconds: topology.confirmWithinSeconds } : {};
  const promiscuous: PromiscuousModeScriptArgs = { trunkInterface: host.trunkInterface, persistence, boot, ...confirm };
  concerns.push({
    kind: "promiscuous-mode",
    ...common(concernKeys.trunk),
    trunkInterface: host.trunkInterface,
    script: { renderer: "promiscuousMode", args: promiscuous },
    changesHost: true,
    dependsOn: [...engineReady, ...bootDependency],
    verified: false,
    writesBootFragment: boot,
    expects: () => [
      { item: `promiscuous ${host.trunkInterface}`, expected: "on", fact: { kind: "promisc", device: host.trunkInterface }, section: "host" },
      ...(boot ? [fileFact(promiscuousBootFragment(promiscuous), "boot")] : []),
    ],
    removal: { kind: "promiscuous-mode", trunkInterface: host.trunkInterface },
  });

  for (const subinterface of host.subinterfaces) {
    const link: VlanSubinterfaceScriptArgs = { subinterface, persistence, boot, ...confirm };
    const linkKey = concernKeys.vlan(subinterface.vlan);
    concerns.push({
      kind: "vlan-link",
      ...common(linkKey),
      subinterface,
      script: { renderer: "vlanSubinterface", args: link },
      changesHost: true,
      dependsOn: [order(concernKeys.trunk), ...bootDependency],
      verified: true,
      writesBootFragment: boot,
      expects: () => [
        { item: `link ${subinterface.device}`, expected: `vlan ${subinterface.vlan} on ${subinterface.parent}, up`, fact: { kind: "link", device: subinterface.device }, section: "host" },
        { item: `addresses ${subinterface.device}`, expected: subinterface.address?.cidr ?? "none", fact: { kind: "addresses", device: subinterface.device }, section: "host" },
        ...backend.vlanFiles(subinterface).map((file) => fileFact(file, "host")),
        ...(boot ? [fileFact(vlanBootFragment(link), "boot")] : []),
      ],
      removal: { kind: "vlan-link", subinterface },
    });
    if (host.role !== "docker") {
      continue;
    }

    const vlan = topology.vlans.find((candidate) => candidate.id === subinterface.vlan)!;
    const networkKey = concernKeys.network(vlan.network);
    concerns.push({
      kind: "docker-network",
      ...common(networkKey),
      vlan,
      parentDevice: subinterface.device,
      macvlanMode: topology.macvlanMode,
      dependsOn: [...engineReady, { key: linkKey, through: "input" }],
      verified: true,
      writesBootFragment: false,
      expects: () => [
        {
          item: `network ${vlan.network}`,
          expected: `${vlan.driver} parent=${subinterface.device} mode=${vlan.driver === "ipvlan" ? "l2" : topology.macvlanMode} subnet=${vlan.subnet.cidr} gateway=${vlan.gateway}`,
          fact: { kind: "network", name: vlan.network },
          section: "networks",
        },
      ],
      removal: { kind: "docker-network", name: vlan.network },
    });

    for (const container of host.containers.filter((candidate) => candidate.vlan === subinterface.vlan)) {
      concerns.push({
        kind: "container",
        ...common(concernKeys.container(container.key)),
        container,
        network: vlan.network,
        driver: vlan.driver,
        dependsOn: [...engineReady, { key: networkKey, through: "input" }],
        verified: true,
        writesBootFragment: false,
        expects: () => [
          {
            item: `container ${container.name}`,
            // An ipvlan container has its parent's MAC, not one of its own: no MAC to compare.
            expected: `running ${vlan.network} ${container.ip} *`,
            fact: { kind: "container", name: container.name },
            section: "containers",
            order: host.containers.indexOf(container),
            macFromOutputs: vlan.driver === "macvlan",
          },
        ],
        removal: { kind: "container", name: container.name },
      });
    }
  }

  for (const shim of host.shims) {
    const args: HostShimScriptArgs = { device: shim.device, parent: shim.parent, address: shim.address, containerIps: shim.containerIps, boot, ...confirm };
    concerns.push({
      kind: "host-shim",
      ...common(concernKeys.shim(shim.vlan)),
      shim,
      script: { renderer: "hostShim", args },
      changesHost: true,
      dependsOn: [order(concernKeys.vlan(shim.vlan)), ...bootDependency],
      verified: true,
      writesBootFragment: boot,
      expects: () => [
        { item: `shim ${shim.device}`, expected: `macvlan on ${shim.parent}, up`, fact: { kind: "link", device: shim.device }, section: "host" },
        { item: `addresses ${shim.device}`, expected: `${shim.address}/32`, fact: { kind: "addresses", device: shim.device }, section: "host" },
        { item: `routes ${shim.device}`, expected: [...shim.containerIps].sort().join(" ") || "none", fact: { kind: "routes", device: shim.device }, section: "host" },
        ...(boot ? [fileFact(hostShimBootFragment(args), "boot")] : []),
      ],
      removal: { kind: "host-shim", device: shim.device },
    });
  }

  if (host.role === "router" && topology.router !== undefined) {
    const interfaces = host.subinterfaces.map((subinterface) => subinterface.device);
    const { masquerade } = topology.router;
    const rules = routerRules({ interfaces, masquerade });
    const args: NatRouterScriptArgs = { interfaces, masquerade, boot, ...confirm };
    concerns.push({
      kind: "nat-router",
      ...common(concernKeys.router),
      interfaces,
      masquerade,
      rules: rules.map(describeRule),
      script: { renderer: "natRouter", args },
      changesHost: true,
      dependsOn: [...host.subinterfaces.map((subinterface) => order(concernKeys.vlan(subinterface.vlan))), ...bootDependency],
      verified: true,
      writesBootFragment: boot,
      expects: () => [
        { item: "ip_forward", expected: "1", fact: { kind: "ip_forward" }, section: "host" },
        ...backend.ipForwardFiles().map((file) => fileFact(file, "host")),
        ...rules.map((rule): PlannedFact => ({
          item: `rule ${describeRule(rule)}`,
          expected: "present",
          fact: { kind: "rule", table: rule.table, chain: rule.chain, spec: rule.spec },
          section: "host",
        })),
        { item: "rules tagged macvlan-overlay", expected: String(rules.length), fact: { kind: "extra-rules", expected: rules.length }, section: "host" },
        ...(boot ? [fileFact(routerBootFragment(args), "boot")] : []),
      ],
      removal: { kind: "nat-router" },
    });
  }
  return concerns;
}

const SECTIONS: readonly FactSection[] = ["host", "boot", "networks", "containers"];

/** A host's plan as the doctor reads it: every concern's facts, section by section. */
export function plannedFacts(concerns: readonly HostConcern[]): PlannedFact[] {
  const facts = concerns.flatMap((concern) => concern.expects());
  const rank = (fact: PlannedFact) => SECTIONS.indexOf(fact.section);
  return facts
    .map((fact, index) => ({ fact, index }))
    .sort((a, b) => rank(a.fact) - rank(b.fact) || (a.fact.order ?? 0) - (b.fact.order ?? 0) || a.index - b.index)
    .map(({ fact }) => fact);
}
