// What the diagram shows, built once from each host's plan so Mermaid and DOT draw the same picture.
import { type HostConcern, planHost } from "../components/plan";
import type { Host, Topology } from "../topology";

export type NodeKind = "trunk" | "subinterface" | "network" | "container" | "nat" | "vlan";

export interface DiagramNode {
  /** Made of "host<index>", "vlan<id>" and fixed words only, so it is safe in Mermaid and DOT whatever the names are. */
  readonly id: string;
  readonly kind: NodeKind;
  /** Label lines, plain text; each renderer escapes them. */
  readonly lines: readonly string[];
}

export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
}

/** One host: its title and what is on it. */
export interface HostCluster {
  readonly id: string;
  readonly title: string;
  readonly nodes: readonly DiagramNode[];
}

export interface OverlayDiagram {
  /** In config order. */
  readonly hosts: readonly HostCluster[];
  /** One node per VLAN, shared by every host on it; sorted by id. */
  readonly vlans: readonly DiagramNode[];
  /** Host edges first (in host order), then VLAN edges (by VLAN, then host order). */
  readonly edges: readonly DiagramEdge[];
}

/** The picture of each host's plan (components/plan.ts): its trunk, VLAN links, networks, containers and router. */
export function overlayDiagram(topology: Topology): OverlayDiagram {
  const hosts: HostCluster[] = [];
  const edges: DiagramEdge[] = [];
  const vlanEdges = new Map<number, DiagramEdge[]>(topology.vlans.map((vlan) => [vlan.id, []]));

  topology.hosts.forEach((host, index) => {
    const id = `host${index}`;
    const concerns = planHost(topology, host);
    const nodes: DiagramNode[] = [];
    // The node drawn for each concern's key, for the edges its dependents draw to it.
    const drawn = new Map<string, DiagramNode>();
    const draw = (key: string, node: DiagramNode) => {
      nodes.push(node);
      drawn.set(key, node);
    };
    const edgesFrom = (concern: HostConcern) => {
      for (const dependency of concern.dependsOn) {
        const from = drawn.get(dependency.key);
        if (from !== undefined) edges.push({ from: from.id, to: drawn.get(concern.key)!.id });
      }
    };
    const router = concerns.find((concern) => concern.kind === "nat-router");
    const nat = router?.kind === "nat-router" ? natNode(id, router.masquerade) : undefined;

    for (const concern of concerns) {
      switch (concern.kind) {
        case "promiscuous-mode":
          draw(concern.key, { id: `${id}_trunk`, kind: "trunk", lines: [concern.trunkInterface, "trunk, promisc"] });
          break;
        case "vlan-link": {
          const { device, vlan, address } = concern.subinterface;
          draw(concern.key, { id: `${id}_vlan${vlan}`, kind: "subinterface", lines: [device, address?.cidr ?? "no address"] });
          edgesFrom(concern);
          vlanEdges.get(vlan)!.push({ from: `vlan${vlan}`, to: `${id}_vlan${vlan}` });
          // The router's rules name every link: drawn with each link, the router's node after them.
          if (nat !== undefined && router!.dependsOn.some((dependency) => dependency.key === concern.key)) {
            edges.push({ from: `${id}_vlan${vlan}`, to: nat.id });
          }
          break;
        }
        case "docker-network": {
          const { vlan } = concern;
          draw(concern.key, {
            id: `${id}_net${vlan.id}`,
            kind: "network",
            lines: [vlan.network, vlan.driver === "ipvlan" ? "ipvlan l2" : `macvlan ${concern.macvlanMode}`, `${vlan.subnet.cidr} gw ${vlan.gateway}`],
          });
          edgesFrom(concern);
          break;
        }
        case "container":
          draw(concern.key, {
            id: `${id}_ctr${host.containers.indexOf(concern.container)}`,
            kind: "container",
            lines: [concern.container.name, concern.container.ip],
          });
          edgesFrom(concern);
          break;
        default:
          break;
      }
    }
    if (nat !== undefined) nodes.push(nat);
    hosts.push({ id, title: hostTitle(host), nodes });
  });

  const vlans = topology.vlans.map<DiagramNode>((vlan) => ({
    id: `vlan${vlan.id}`,
    kind: "vlan",
    lines: [`VLAN ${vlan.id}`, vlan.subnet.cidr],
  }));
  for (const vlan of topology.vlans) edges.push(...vlanEdges.get(vlan.id)!);
  return { hosts, vlans, edges };
}

function hostTitle(host: Host): string {
  const address = host.port === 22 ? host.address : `${host.address}:${host.port}`;
  return `${host.name} (${host.role}, ${address})`;
}

function natNode(hostId: string, masquerade: boolean): DiagramNode {
  return {
    id: `${hostId}_nat`,
    kind: "nat",
    lines: ["ip_forward=1", masquerade ? "MASQUERADE + FORWARD" : "FORWARD only, no NAT"],
  };
}
