// The whole overlay from a validated topology: per host the concerns its plan names (components/plan.ts:
// Docker Engine check, boot unit, promiscuous trunk, VLAN links, macvlan networks, busybox containers,
// host shims, the NAT router), each registered with the resources of the concerns it depends on; and
// the connectivity checks that run once everything is up. Every edge the engine must know (order, and
// what a replacement takes with it) is recorded on the resources themselves.
import * as pulumi from "@pulumi/pulumi";
import type { Host, Topology } from "../topology";
import { connectivityProbes, containerHosts, hostsProbed, type ProbePlanOptions } from "../topology/probes";
import { BusyboxContainer } from "./busyboxContainer";
import { ConnectivityCheck, type ProbeResult, verifiedFingerprint } from "./connectivityCheck";
import { HostConcernComponent } from "./hostConcern";
import { HostConfirmations } from "./hostConfirm";
import type { PinnedHostKeys } from "./hostKeys";
import { MacvlanNetwork } from "./macvlanNetwork";
import { OverlayHost } from "./overlayHost";
import { type ConcernDependency, type HostConcern, planHost } from "./plan";
import { type LegacyAliases, legacyAliasesFor, resourceNames } from "./resourceNames";

export interface OverlayArgs {
  topology: Topology;
  /** The SSH private key text, a secret. */
  privateKey: pulumi.Input<string>;
  /** Folder that relative key and known_hosts paths are resolved against. */
  baseDir: string;
  /** Every host's (and the bastion's) SSH key, read before any resource (components/hostKeys.ts). */
  hostKeys: PinnedHostKeys;
  /** Which pings the connectivity check runs. Default: the linear plan (not all pairs). */
  probePlan?: ProbePlanOptions;
}

/** A VLAN link on a host. */
export interface SubinterfaceSummary {
  device: string;
  vlan: number;
  /** The host's address on it; absent when the host has none there. */
  address?: string;
}

/** A Docker network on a docker host. */
export interface NetworkSummary {
  name: string;
  vlan: number;
  /** "macvlan", or "ipvlan" (L2: its containers have the parent's MAC). */
  driver: string;
  subnet: string;
  gateway: string;
  parent: string;
}

/** A container on a docker host. */
export interface ContainerSummary {
  name: string;
  key: string;
  network: string;
  ip: string;
  /** The container's own MAC; absent on an ipvlan network (it has the parent's). */
  mac?: pulumi.Output<string>;
}

/** What the overlay made on one host, for the stack's outputs. */
export interface HostSummary {
  role: Host["role"];
  address: string;
  trunkInterface: string;
  subinterfaces: SubinterfaceSummary[];
  networks: NetworkSummary[];
  containers: ContainerSummary[];
}

/** What a check verifies on one host: the resources it records as dependencies, and their fingerprints. */
interface Verified {
  readonly resources: pulumi.Resource[];
  readonly fingerprints: pulumi.Input<string>[];
}

/** What a concern's dependents get from it: the resource they depend on, and for an input edge the value they take. */
interface Registered {
  /** The resource a dependent records (the command, the Docker network or container). */
  readonly resource: pulumi.Resource;
  /** The value an input edge carries: the link's device (once it exists), the network's name. */
  readonly value?: pulumi.Output<string>;
  /** What the connectivity check re-runs on. */
  readonly fingerprint?: pulumi.Input<string>;
}

/**
 * Everything each host's plan names, and a connectivity check per docker host, registered as
 * children of `owner` (the MacvlanOverlay, components/macvlanOverlay.ts).
 */
export class OverlayChildren {
  /** Per host name, what the overlay made there. */
  public readonly hosts: Record<string, HostSummary> = {};
  /** The router's iptables rules, as `iptables` arguments. */
  public readonly routerRules: string[] = [];
  /** Per docker host with containers, its connectivity check's results. */
  public readonly checks: Record<string, pulumi.Output<ProbeResult[]>> = {};
  /** Each host's arming commands, for its Confirm (components/hostConfirm.ts). */
  private readonly confirmations = new HostConfirmations();

  constructor(private readonly owner: pulumi.ComponentResource, args: OverlayArgs) {
    const { topology } = args;
    const aliases = legacyAliasesFor(topology);
    // Per host, what a check verifies there: recorded dependencies and their fingerprints.
    const verifiedOn = new Map<string, Verified>();
    const hostConnections = new Map<string, OverlayHost>();
    for (const host of topology.hosts) {
      const { overlayHost, verified } = this.addHost(args, host, aliases);
      hostConnections.set(host.name, overlayHost);
      verifiedOn.set(host.name, verified);
    }

    const checks: pulumi.Resource[] = [];
    if (topology.verify) {
      // Each check verifies, depends on and re-runs for what sits on the hosts its probes touch, in
      // config order (with two docker hosts, as in the dev stack, that is every host).
      const hostOf = containerHosts(topology);
      for (const host of topology.hosts.filter((h) => h.containers.length > 0)) {
        const probes = connectivityProbes(topology, host.name, args.probePlan);
        const touched = hostsProbed(topology, host.name, probes, hostOf);
        const scope = topology.hosts.filter((h) => touched.has(h.name)).map((h) => verifiedOn.get(h.name)!);
        const check = new ConnectivityCheck(
          resourceNames.check(host.name),
          {
            session: hostConnections.get(host.name)!.session,
            probes,
            verifies: scope.flatMap((on) => on.resources),
            fingerprint: verifiedFingerprint([topology.macvlanMode, ...scope.flatMap((on) => on.fingerprints)]),
            ...(topology.confirmWithinSeconds > 0 ? { nextReapply: topology.reapply + 1 } : {}),
          },
          { parent: this.owner, aliases: aliases.check(host) },
        );
        this.checks[host.name] = check.report;
        checks.push(check);
      }
    }
    this.confirmations.register(checks, topology.reapply);
  }

  /** A host and every concern of its plan, each with the resources of the concerns it depends on. */
  private addHost(args: OverlayArgs, host: Host, aliases: LegacyAliases): { overlayHost: OverlayHost; verified: Verified } {
    const { topology, hostKeys } = args;
    const concerns = planHost(topology, host);
    const engine = concerns.find((concern) => concern.kind === "docker-engine");
    const overlayHost = new OverlayHost(
      host.name,
      {
        host,
        ssh: topology.ssh,
        privateKey: args.privateKey,
        hostKey: hostKeys.hosts.get(host.name)!,
        ...(hostKeys.proxy === undefined ? {} : { proxyHostKey: hostKeys.proxy }),
        baseDir: args.baseDir,
        ...(engine?.kind === "docker-engine" ? { dockerEngine: engine } : {}),
        dockerProviderAliases: aliases.dockerProvider(host),
      },
      { parent: this.owner },
    );
    const summary: HostSummary = { role: host.role, address: host.address, trunkInterface: host.trunkInterface, subinterfaces: [], networks: [], containers: [] };
    this.hosts[host.name] = summary;
    const verified: Verified = { resources: [], fingerprints: [] };

    const registered = new Map<string, Registered>();
    if (engine !== undefined && overlayHost.dockerEngine !== undefined) {
      registered.set(engine.key, { resource: overlayHost.dockerEngine });
    }
    const on = (dependency: ConcernDependency) => registered.get(dependency.key)!;
    const needs = (concern: HostConcern, through?: ConcernDependency["through"]) =>
      concern.dependsOn.filter((dependency) => through === undefined || dependency.through === through).map((dependency) => on(dependency).resource);
    const input = (concern: HostConcern) => on(concern.dependsOn.find((dependency) => dependency.through === "input")!).value!;
    const componentOpts = (concern: HostConcern): pulumi.ComponentResourceOptions => ({ parent: overlayHost, aliases: aliases.concern(host, concern) });

    for (const concern of concerns) {
      let made: Registered;
      switch (concern.kind) {
        case "docker-engine":
          // Registered by its OverlayHost, above.
          continue;
        case "docker-network": {
          const network = new MacvlanNetwork(
            concern.name,
            { provider: overlayHost.dockerProvider!, vlan: concern.vlan, parent: input(concern), macvlanMode: concern.macvlanMode, hostReady: needs(concern, "order") },
            componentOpts(concern),
          );
          made = { resource: network.network, value: network.network.name, fingerprint: network.fingerprint };
          const { vlan } = concern;
          summary.networks.push({ name: vlan.network, vlan: vlan.id, driver: vlan.driver, subnet: vlan.subnet.cidr, gateway: vlan.gateway, parent: concern.parentDevice });
          break;
        }
        case "container": {
          const container = new BusyboxContainer(
            concern.name,
            { provider: overlayHost.dockerProvider!, container: concern.container, networkName: input(concern), driver: concern.driver, hostReady: needs(concern, "order") },
            componentOpts(concern),
          );
          made = { resource: container.container, fingerprint: container.fingerprint };
          const { name, key, ip } = concern.container;
          summary.containers.push({ name, key, network: concern.network, ip, ...(container.macAddress === undefined ? {} : { mac: container.macAddress }) });
          break;
        }
        default: {
          const component = new HostConcernComponent(
            concern.name,
            { concern, session: overlayHost.session, dependsOn: needs(concern), reapply: topology.reapply },
            componentOpts(concern),
          );
          made = { resource: component.command, fingerprint: component.fingerprint };
          this.confirmations.add(host.name, overlayHost, component);
          if (concern.kind === "vlan-link") {
            // Networks take their parent from the link once it exists: an input edge to the link.
            made = { ...made, value: component.after(concern.subinterface.device) };
            const { device, vlan, address } = concern.subinterface;
            summary.subinterfaces.push({ device, vlan, ...(address === undefined ? {} : { address: address.cidr }) });
          }
          if (concern.kind === "nat-router") {
            this.routerRules.push(...concern.rules);
          }
        }
      }
      registered.set(concern.key, made);
      if (concern.verified) {
        verified.resources.push(made.resource);
        verified.fingerprints.push(made.fingerprint!);
      }
    }
    return { overlayHost, verified };
  }
}
