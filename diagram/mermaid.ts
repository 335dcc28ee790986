// The overlay as a Mermaid flowchart: the README's picture and the stack output `diagram`.
import type { Topology } from "../topology";
import { type DiagramNode, type NodeKind, overlayDiagram } from "./model";

const SHAPES: Record<NodeKind, readonly [string, string]> = {
  trunk: ["[", "]"],
  subinterface: ["[", "]"],
  network: ["[(", ")]"],
  container: ["(", ")"],
  nat: ["{{", "}}"],
  vlan: ["((", "))"],
};

export function renderMermaid(topology: Topology): string {
  const diagram = overlayDiagram(topology);
  const lines = ["flowchart LR"];
  for (const host of diagram.hosts) {
    lines.push(`  subgraph ${host.id}["${escapeText(host.title)}"]`);
    for (const node of host.nodes) lines.push(`    ${nodeText(node)}`);
    lines.push("  end");
  }
  for (const vlan of diagram.vlans) lines.push(`  ${nodeText(vlan)}`);
  for (const edge of diagram.edges) lines.push(`  ${edge.from} --- ${edge.to}`);
  return `${lines.join("\n")}\n`;
}

function nodeText(node: DiagramNode): string {
  const [open, close] = SHAPES[node.kind];
  return `${node.id}${open}"${node.lines.map(escapeText).join("<br/>")}"${close}`;
}

// Mermaid entity codes: a quote would end the label, < > would be read as HTML, # starts an entity.
function escapeText(text: string): string {
  return text.replace(/[#"<>`]/g, (character) => `#${character.charCodeAt(0)};`);
}
