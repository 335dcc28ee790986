// The whole overlay from a validated topology: per host its boot unit, promiscuous trunk and VLAN
// subinterfaces; per docker host its Docker Engine check, macvlan networks and busybox containers;
// the NAT router; and the connectivity check that runs once everything is up. Every edge the engine
// must know (order, and what a replacement takes with it) is recorded on the resources themselves.
import * as pulumi from "@pulumi/pulumi";
import type { Host, Topology } from "../topology";
import { connectivityProbes, containerHosts, hostsProbed, type ProbePlanOptions } from "../topology/probes";
import { BootUnit } from "./bootUnit";
import { BusyboxContainer } from "./busyboxContainer";
import { ConnectivityCheck, verifiedFingerprint } from "./connectivityCheck";
import type { PinnedHostKeys } from "./hostKeys";
import { HostShim } from "./hostShim";
import { MacvlanNetwork } from "./macvlanNetwork";
import { NatRouter } from "./natRouter";
import { OverlayHost } from "./overlayHost";
import { PromiscuousMode } from "./promiscuousMode";
import { legacyAliasesFor, legacyNames, resourceNames } from "./resourceNames";
import type { ProbeReport } from "./scripts";
import { bootUnitWanted } from "./scripts/bootUnit";
import { VlanSubinterface } from "./vlanSubinterface";

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

export interface HostSummary {
  role: Host["role"];
  address: string;
  trunkInterface: string;
  subinterfaces: { device: string; vlan: number; address: string | null }[];
  networks: { name: string; vlan: number; subnet: string; gateway: string; parent: string }[];
  /** mac: the container's own MAC; null on an ipvlan network (it has the parent's). */
  containers: { name: string; key: string; network: string; ip: string; mac: pulumi.Output<string> | null }[];
}

export class Overlay extends pulumi.ComponentResource {
  public readonly hosts: Record<string, HostSummary> = {};
  public readonly routerRules: string[] = [];
  public readonly checks: Record<string, pulumi.Output<ProbeReport[]>> = {};

  constructor(name: string, args: OverlayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:index:Overlay", name, {}, opts);
    const { topology } = args;
    const legacy = legacyAliasesFor(topology);
    // Per host, what a check verifies there: recorded dependencies and their fingerprints.
    const verifiedOn = new Map<string, { resources: pulumi.Resource[]; fingerprints: pulumi.Input<string>[] }>();
    const hostConnections = new Map<string, OverlayHost>();
    const { hostKeys } = args;

    for (const host of topology.hosts) {
      const overlayHost = new OverlayHost(
        host.name,
        {
          host,
          ssh: topology.ssh,
          privateKey: args.privateKey,
          hostKey: hostKeys.hosts.get(host.name)!,
          ...(hostKeys.proxy === undefined ? {} : { proxyHostKey: hostKeys.proxy }),
          baseDir: args.baseDir,
          legacyProvider: legacy(legacyNames.dockerProvider(host)),
        },
        { parent: this },
      );
      hostConnections.set(host.name, overlayHost);
      const hostReady = overlayHost.dockerEngine ? [overlayHost.dockerEngine] : [];
      const summary: HostSummary = {
        role: host.role,
        address: host.address,
        trunkInterface: host.trunkInterface,
        subinterfaces: [],
        networks: [],
        containers: [],
      };
      this.hosts[host.name] = summary;
      const verified: pulumi.Resource[] = [];
      const fingerprints: pulumi.Input<string>[] = [];
      verifiedOn.set(host.name, { resources: verified, fingerprints });

      const bootUnit = bootUnitWanted(topology.persistence)
        ? new BootUnit(
            resourceNames.bootUnit(host.name),
            { session: overlayHost.session, trunkInterface: host.trunkInterface, hostReady, reapply: topology.reapply },
            { parent: overlayHost },
          ).command
        : undefined;

      const promisc = new PromiscuousMode(
        resourceNames.trunk(host.name),
        {
          session: overlayHost.session,
          trunkInterface: host.trunkInterface,
          persistence: topology.persistence,
          reapply: topology.reapply,
          hostReady,
          bootUnit,
          legacy: legacy(legacyNames.trunk(host)),
        },
        { parent: overlayHost },
      );

      const links: VlanSubinterface[] = [];
      for (const subinterface of host.subinterfaces) {
        const link = new VlanSubinterface(
          resourceNames.vlan(host.name, subinterface.vlan),
          {
            session: overlayHost.session,
            subinterface,
            persistence: topology.persistence,
            reapply: topology.reapply,
            promiscuous: promisc.command,
            bootUnit,
            legacy: legacy(legacyNames.vlan(host, subinterface.vlan)),
          },
          { parent: overlayHost },
        );
        links.push(link);
        verified.push(link.command);
        fingerprints.push(link.fingerprint);
        summary.subinterfaces.push({
          device: subinterface.device,
          vlan: subinterface.vlan,
          address: subinterface.address?.cidr ?? null,
        });
        if (host.role === "router") {
          continue;
        }

        const vlan = topology.vlans.find((candidate) => candidate.id === subinterface.vlan)!;
        const network = new MacvlanNetwork(
          resourceNames.macvlan(host.name, vlan.network),
          {
            provider: overlayHost.dockerProvider!,
            vlan,
            parent: link.parentDevice,
            macvlanMode: topology.macvlanMode,
            hostReady,
            legacy: legacy(legacyNames.macvlan(host, vlan.network)),
          },
          { parent: overlayHost },
        );
        verified.push(network.network);
        fingerprints.push(network.fingerprint);
        summary.networks.push({
          name: vlan.network,
          vlan: vlan.id,
          subnet: vlan.subnet.cidr,
          gateway: vlan.gateway,
          parent: subinterface.device,
        });

        for (const spec of host.containers.filter((c) => c.vlan === subinterface.vlan)) {
          const container = new BusyboxContainer(
            resourceNames.container(host.name, spec.key),
            {
              provider: overlayHost.dockerProvider!,
              container: spec,
              networkName: network.network.name,
              driver: vlan.driver,
              hostReady,
              legacy: legacy(legacyNames.container(host, spec.name)),
            },
            { parent: overlayHost },
          );
          verified.push(container.container);
          fingerprints.push(container.fingerprint);
          summary.containers.push({
            name: spec.name,
            key: spec.key,
            network: vlan.network,
            ip: spec.ip,
            mac: container.macAddress ?? null,
          });
        }
      }

      for (const shim of host.shims) {
        const link = links.find((candidate) => candidate.device === shim.parent)!;
        const hostShim = new HostShim(
          resourceNames.shim(host.name, shim.vlan),
          { session: overlayHost.session, shim, link: link.command, bootUnit, reapply: topology.reapply },
          { parent: overlayHost },
        );
        verified.push(hostShim.command);
        fingerprints.push(hostShim.fingerprint);
      }

      if (host.role === "router" && topology.router !== undefined) {
        const router = new NatRouter(
          resourceNames.router(host.name),
          {
            session: overlayHost.session,
            interfaces: host.subinterfaces.map((s) => s.device),
            masquerade: topology.router.masquerade,
            reapply: topology.reapply,
            links: links.map((link) => link.command),
            bootUnit,
            legacy: legacy(legacyNames.router(host)),
          },
          { parent: overlayHost },
        );
        verified.push(router.command);
        fingerprints.push(router.fingerprint);
        this.routerRules.push(...router.rules);
      }
    }

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
            legacy: legacy(legacyNames.check(host)),
          },
          { parent: this },
        );
        this.checks[host.name] = check.report;
      }
    }

    this.registerOutputs({ hosts: this.hosts, routerRules: this.routerRules, checks: this.checks });
  }
}
