// What the diagram shows, built once from the validated topology so Mermaid and DOT draw the same picture.
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

export function overlayDiagram(topology: Topology): OverlayDiagram {
  const hosts: HostCluster[] = [];
  const edges: DiagramEdge[] = [];
  const vlanEdges = new Map<number, DiagramEdge[]>(topology.vlans.map((vlan) => [vlan.id, []]));

  topology.hosts.forEach((host, index) => {
    const id = `host${index}`;
    const trunk: DiagramNode = { id: `${id}_trunk`, kind: "trunk", lines: [host.trunkInterface, "trunk, promisc"] };
    const nodes: DiagramNode[] = [trunk];
    const nat = host.role === "router" && topology.router !== undefined ? natNode(id, topology.router.masquerade) : undefined;

    for (const subinterface of host.subinterfaces) {
      const link: DiagramNode = {
        id: `${id}_vlan${subinterface.vlan}`,
        kind: "subinterface",
        lines: [subinterface.device, subinterface.address?.cidr ?? "no address"],
      };
      nodes.push(link);
      edges.push({ from: trunk.id, to: link.id });
      vlanEdges.get(subinterface.vlan)!.push({ from: `vlan${subinterface.vlan}`, to: link.id });
      if (nat !== undefined) edges.push({ from: link.id, to: nat.id });
      if (host.role !== "docker") continue;

      const vlan = topology.vlans.find((candidate) => candidate.id === subinterface.vlan)!;
      const network: DiagramNode = {
        id: `${id}_net${vlan.id}`,
        kind: "network",
        lines: [vlan.network, vlan.driver === "ipvlan" ? "ipvlan l2" : `macvlan ${topology.macvlanMode}`, `${vlan.subnet.cidr} gw ${vlan.gateway}`],
      };
      nodes.push(network);
      edges.push({ from: link.id, to: network.id });
      for (const container of containersOn(host, vlan.id)) {
        const node: DiagramNode = {
          id: `${id}_ctr${host.containers.indexOf(container)}`,
          kind: "container",
          lines: [container.name, container.ip],
        };
        nodes.push(node);
        edges.push({ from: network.id, to: node.id });
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

function containersOn(host: Host, vlan: number) {
  return host.containers.filter((container) => container.vlan === vlan);
}
