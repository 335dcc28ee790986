// The whole overlay from a validated topology: per host its promiscuous trunk and VLAN
// subinterfaces; per docker host its macvlan networks and busybox containers; the NAT router;
// and the connectivity check that runs once everything is up.
import * as pulumi from "@pulumi/pulumi";
import type { Host, Topology } from "../topology";
import { connectivityProbes } from "../topology/probes";
import { BusyboxContainer } from "./busyboxContainer";
import { ConnectivityCheck } from "./connectivityCheck";
import { MacvlanNetwork } from "./macvlanNetwork";
import { NatRouter } from "./natRouter";
import { OverlayHost } from "./overlayHost";
import { PromiscuousMode } from "./promiscuousMode";
import { VlanSubinterface } from "./vlanSubinterface";

export interface OverlayArgs {
  topology: Topology;
  /** The SSH private key text, a secret. */
  privateKey: pulumi.Input<string>;
  /** Folder that relative key and known_hosts paths are resolved against. */
  baseDir: string;
}

export interface HostSummary {
  role: Host["role"];
  address: string;
  trunkInterface: string;
  subinterfaces: { device: string; vlan: number; address: string | null }[];
  networks: { name: string; vlan: number; subnet: string; gateway: string; parent: string }[];
  containers: { name: string; network: string; ip: string; mac: pulumi.Output<string> }[];
}

export class Overlay extends pulumi.ComponentResource {
  public readonly hosts: Record<string, HostSummary> = {};
  public readonly routerRules: string[] = [];
  public readonly checks: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: OverlayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:index:Overlay", name, {}, opts);
    const { topology } = args;
    const containers: BusyboxContainer[] = [];
    const routerSubinterfaces: VlanSubinterface[] = [];
    let router: NatRouter | undefined;
    const hostConnections = new Map<string, OverlayHost>();

    for (const host of topology.hosts) {
      const overlayHost = new OverlayHost(
        host.name,
        { host, ssh: topology.ssh, privateKey: args.privateKey, baseDir: args.baseDir },
        { parent: this },
      );
      hostConnections.set(host.name, overlayHost);
      const summary: HostSummary = {
        role: host.role,
        address: host.address,
        trunkInterface: host.trunkInterface,
        subinterfaces: [],
        networks: [],
        containers: [],
      };
      this.hosts[host.name] = summary;

      const promisc = new PromiscuousMode(
        `${host.name}-${host.trunkInterface}`,
        {
          connection: overlayHost.connection,
          trunkInterface: host.trunkInterface,
          persistence: topology.persistence,
        },
        { parent: overlayHost },
      );

      for (const subinterface of host.subinterfaces) {
        const link = new VlanSubinterface(
          `${host.name}-vlan${subinterface.vlan}`,
          { connection: overlayHost.connection, subinterface, persistence: topology.persistence },
          { parent: overlayHost, dependsOn: [promisc] },
        );
        summary.subinterfaces.push({
          device: subinterface.device,
          vlan: subinterface.vlan,
          address: subinterface.address?.cidr ?? null,
        });
        if (host.role === "router") {
          routerSubinterfaces.push(link);
          continue;
        }

        const vlan = topology.vlans.find((candidate) => candidate.id === subinterface.vlan)!;
        const network = new MacvlanNetwork(
          `${host.name}-${vlan.network}`,
          {
            provider: overlayHost.dockerProvider!,
            vlan,
            parent: subinterface.device,
            macvlanMode: topology.macvlanMode,
          },
          { parent: overlayHost, dependsOn: [link] },
        );
        summary.networks.push({
          name: vlan.network,
          vlan: vlan.id,
          subnet: vlan.subnet.cidr,
          gateway: vlan.gateway,
          parent: subinterface.device,
        });

        for (const spec of host.containers.filter((c) => c.vlan === subinterface.vlan)) {
          const container = new BusyboxContainer(
            `${host.name}-${spec.name}`,
            { provider: overlayHost.dockerProvider!, container: spec, networkName: network.network.name },
            { parent: overlayHost, dependsOn: [network] },
          );
          containers.push(container);
          summary.containers.push({
            name: spec.name,
            network: vlan.network,
            ip: spec.ip,
            mac: container.macAddress,
          });
        }
      }

      if (host.role === "router" && topology.router !== undefined) {
        router = new NatRouter(
          `${host.name}-nat`,
          {
            connection: overlayHost.connection,
            interfaces: host.subinterfaces.map((s) => s.device),
            masquerade: topology.router.masquerade,
          },
          { parent: overlayHost, dependsOn: routerSubinterfaces },
        );
        this.routerRules.push(...router.rules);
      }
    }

    if (topology.verify) {
      const everythingUp = [...containers, ...(router ? [router] : [])];
      for (const host of topology.hosts.filter((h) => h.containers.length > 0)) {
        const check = new ConnectivityCheck(
          `${host.name}-check`,
          {
            connection: hostConnections.get(host.name)!.connection,
            probes: connectivityProbes(topology, host.name),
          },
          { parent: this, dependsOn: everythingUp },
        );
        this.checks[host.name] = check.report;
      }
    }

    this.registerOutputs({ hosts: this.hosts, routerRules: this.routerRules, checks: this.checks });
  }
}
