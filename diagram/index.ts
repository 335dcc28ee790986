// The overlay drawn from the validated topology: Mermaid text and Graphviz DOT from one model.
export { overlayDiagram } from "./model";
export type { DiagramEdge, DiagramNode, HostCluster, NodeKind, OverlayDiagram } from "./model";
export { renderMermaid } from "./mermaid";
export { renderDot } from "./dot";
export { mermaidBlock, replaceMermaidBlock } from "./markdown";
