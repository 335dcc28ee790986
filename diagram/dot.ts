// The overlay as Graphviz DOT, drawn from the same model as the Mermaid text, for an SVG where `dot` is installed.
import type { Topology } from "../topology";
import { type DiagramNode, type NodeKind, overlayDiagram } from "./model";

const NODE_STYLES: Record<NodeKind, string> = {
  trunk: 'shape=box, style=filled, fillcolor="#e8e8e8"',
  subinterface: 'shape=box, style=filled, fillcolor="#dbe9f6"',
  network: 'shape=cylinder, style=filled, fillcolor="#fdf2d0"',
  container: 'shape=box, style="rounded,filled", fillcolor="#d9f0d3"',
  nat: 'shape=hexagon, style=filled, fillcolor="#f6d5d5"',
  vlan: 'shape=ellipse, style="filled,bold", fillcolor="#ffffff"',
};

export function renderDot(topology: Topology): string {
  const diagram = overlayDiagram(topology);
  const lines = [
    "graph overlay {",
    "  rankdir=LR;",
    '  node [fontname="Helvetica", fontsize=11];',
    '  graph [fontname="Helvetica", fontsize=12];',
  ];
  for (const host of diagram.hosts) {
    lines.push(`  subgraph cluster_${host.id} {`, `    label="${escapeText(host.title)}";`);
    for (const node of host.nodes) lines.push(`    ${nodeText(node)}`);
    lines.push("  }");
  }
  for (const vlan of diagram.vlans) lines.push(`  ${nodeText(vlan)}`);
  for (const edge of diagram.edges) lines.push(`  ${edge.from} -- ${edge.to};`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

function nodeText(node: DiagramNode): string {
  return `${node.id} [label="${node.lines.map(escapeText).join("\\n")}", ${NODE_STYLES[node.kind]}];`;
}

// Inside a DOT string only the quote and the backslash are special.
function escapeText(text: string): string {
  return text.replace(/["\\]/g, (character) => `\\${character}`);
}
