import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { readStackConfig } from "../config/stackFile";
import { type Topology, parseTopology } from "../topology";
import { planHost } from "../components/plan";
import { mermaidBlock, overlayDiagram, renderDot, renderMermaid, replaceMermaidBlock } from "./index";

// Compiled to dist/diagram/, two levels below the project root.
const ROOT = path.join(__dirname, "..", "..");

function devTopology(): Topology {
  const parsed = parseTopology(readStackConfig(path.join(ROOT, "Pulumi.dev.yaml")).raw);
  assert.ok(parsed.ok, "the dev stack must validate");
  return parsed.topology;
}

const DEV_MERMAID = `flowchart LR
  subgraph host0["host1 (docker, 10.213.70.11)"]
    host0_trunk["ens33<br/>trunk, promisc"]
    host0_vlan10["ens33.10<br/>192.168.22.10/24"]
    host0_net10[("mac-net10<br/>macvlan bridge<br/>172.18.0.0/24 gw 172.18.0.1")]
    host0_ctr0("bbox10<br/>172.18.0.2")
    host0_vlan20["ens33.20<br/>192.168.23.10/24"]
    host0_net20[("mac-net20<br/>macvlan bridge<br/>172.19.0.0/24 gw 172.19.0.1")]
    host0_ctr1("bbox20<br/>172.19.0.3")
  end
  subgraph host1["host2 (docker, 10.213.70.12)"]
    host1_trunk["ens33<br/>trunk, promisc"]
    host1_vlan10["ens33.10<br/>192.168.22.11/24"]
    host1_net10[("mac-net10<br/>macvlan bridge<br/>172.18.0.0/24 gw 172.18.0.1")]
    host1_ctr0("bbox30<br/>172.18.0.5")
    host1_vlan20["ens33.20<br/>192.168.23.11/24"]
    host1_net20[("mac-net20<br/>macvlan bridge<br/>172.19.0.0/24 gw 172.19.0.1")]
    host1_ctr1("bbox40<br/>172.19.0.4")
  end
  subgraph host2["router (router, 10.213.70.13)"]
    host2_trunk["ens33<br/>trunk, promisc"]
    host2_vlan10["ens33.10<br/>172.18.0.1/24"]
    host2_vlan20["ens33.20<br/>172.19.0.1/24"]
    host2_nat{{"ip_forward=1<br/>MASQUERADE + FORWARD"}}
  end
  vlan10(("VLAN 10<br/>172.18.0.0/24"))
  vlan20(("VLAN 20<br/>172.19.0.0/24"))
  host0_trunk --- host0_vlan10
  host0_vlan10 --- host0_net10
  host0_net10 --- host0_ctr0
  host0_trunk --- host0_vlan20
  host0_vlan20 --- host0_net20
  host0_net20 --- host0_ctr1
  host1_trunk --- host1_vlan10
  host1_vlan10 --- host1_net10
  host1_net10 --- host1_ctr0
  host1_trunk --- host1_vlan20
  host1_vlan20 --- host1_net20
  host1_net20 --- host1_ctr1
  host2_trunk --- host2_vlan10
  host2_vlan10 --- host2_nat
  host2_trunk --- host2_vlan20
  host2_vlan20 --- host2_nat
  vlan10 --- host0_vlan10
  vlan10 --- host1_vlan10
  vlan10 --- host2_vlan10
  vlan20 --- host0_vlan20
  vlan20 --- host1_vlan20
  vlan20 --- host2_vlan20
`;

test("the dev stack draws as this exact Mermaid text", () => {
  assert.equal(renderMermaid(devTopology()), DEV_MERMAID);
});

test("the README's picture is the dev stack's diagram (regenerate: npm run diagram -- Pulumi.dev.yaml --readme README.md)", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  assert.equal(mermaidBlock(readme), renderMermaid(devTopology()));
});

test("DOT draws the same nodes, labels and edges as Mermaid", () => {
  const topology = devTopology();
  const dot = renderDot(topology);
  const mermaid = renderMermaid(topology);

  const dotNodes = [...dot.matchAll(/^ {2,4}(\w+) \[label="([^"]*)"/gm)].map(([, id, label]) => [id, label.split("\\n")]);
  const mermaidNodes = [...mermaid.matchAll(/^ {2,4}(\w+)[[({]+"([^"]*)"/gm)].map(([, id, label]) => [id, label.split("<br/>")]);
  assert.equal(dotNodes.length, 20);
  assert.deepEqual(dotNodes, mermaidNodes);

  const dotEdges = [...dot.matchAll(/^ {2}(\w+) -- (\w+);$/gm)].map(([, from, to]) => `${from} ${to}`);
  const mermaidEdges = [...mermaid.matchAll(/^ {2}(\w+) --- (\w+)$/gm)].map(([, from, to]) => `${from} ${to}`);
  assert.equal(dotEdges.length, 22);
  assert.deepEqual(dotEdges, mermaidEdges);

  const clusters = [...dot.matchAll(/subgraph (cluster_\w+) \{\n {4}label="([^"]*)";/g)].map(([, id, label]) => `${id} ${label}`);
  assert.deepEqual(clusters, [
    "cluster_host0 host1 (docker, 10.213.70.11)",
    "cluster_host1 host2 (docker, 10.213.70.12)",
    "cluster_host2 router (router, 10.213.70.13)",
  ]);
});

test("inside each host the edges are the plan's dependencies between the concerns drawn (trunk, links, networks, containers, rules)", () => {
  const topology = devTopology();
  const diagram = overlayDiagram(topology);
  topology.hosts.forEach((host, index) => {
    const cluster = diagram.hosts[index];
    const ids = new Set(cluster.nodes.map((node) => node.id));
    const drawn = diagram.edges.filter((edge) => ids.has(edge.from) && ids.has(edge.to)).map((edge) => `${edge.from} ${edge.to}`);
    const concerns = planHost(topology, host);
    const nodeOf = new Map<string, string>();
    for (const concern of concerns) {
      const label = concern.kind === "promiscuous-mode" ? concern.trunkInterface
        : concern.kind === "vlan-link" ? concern.subinterface.device
        : concern.kind === "docker-network" ? concern.vlan.network
        : concern.kind === "container" ? concern.container.name
        : concern.kind === "nat-router" ? "ip_forward=1" : undefined;
      const node = cluster.nodes.find((candidate) => candidate.lines[0] === label);
      if (node !== undefined) nodeOf.set(concern.key, node.id);
    }
    const planned = concerns.flatMap((concern) =>
      concern.dependsOn.filter((dependency) => nodeOf.has(dependency.key) && nodeOf.has(concern.key)).map((dependency) => `${nodeOf.get(dependency.key)} ${nodeOf.get(concern.key)}`),
    );
    assert.equal(nodeOf.size, cluster.nodes.length, host.name);
    assert.deepEqual([...drawn].sort(), [...planned].sort(), host.name);
  });
});

test("a router without masquerade is drawn forwarding only", () => {
  const topology = devTopology();
  const mermaid = renderMermaid({ ...topology, router: { ...topology.router!, masquerade: false } });
  assert.match(mermaid, /^ {4}host2_nat\{\{"ip_forward=1<br\/>FORWARD only, no NAT"\}\}$/m);
  assert.doesNotMatch(mermaid, /MASQUERADE/);
  assert.match(renderDot({ ...topology, router: { ...topology.router!, masquerade: false } }), /label="ip_forward=1\\nFORWARD only, no NAT"/);
});

test("without a router there is no NAT node; a port other than 22 and a VLAN link without address are shown", () => {
  const topology = devTopology();
  const [host1, host2] = topology.hosts;
  const mermaid = renderMermaid({
    ...topology,
    router: undefined,
    hosts: [
      { ...host1, port: 2222, subinterfaces: host1.subinterfaces.map((link) => ({ ...link, address: undefined })) },
      host2,
    ],
  });
  assert.doesNotMatch(mermaid, /_nat/);
  assert.match(mermaid, /^ {2}subgraph host0\["host1 \(docker, 10\.213\.70\.11:2222\)"\]$/m);
  assert.match(mermaid, /^ {4}host0_vlan10\["ens33\.10<br\/>no address"\]$/m);
  assert.match(mermaid, /^ {2}vlan10 --- host1_vlan10$/m);
  assert.doesNotMatch(mermaid, /host2_/);
});

test("any name is safe: ids come from positions, labels escape what Mermaid and DOT would read as syntax", () => {
  const topology = devTopology();
  const [host1, ...others] = topology.hosts;
  const odd = `a"b#c<d>e\`f\\g end`;
  const renamed: Topology = {
    ...topology,
    hosts: [{ ...host1, name: odd, containers: host1.containers.map((c, i) => (i === 0 ? { ...c, name: odd } : c)) }, ...others],
  };

  const mermaid = renderMermaid(renamed);
  assert.match(mermaid, /^ {2}subgraph host0\["a#34;b#35;c#60;d#62;e#96;f\\g end \(docker, 10\.213\.70\.11\)"\]$/m);
  assert.match(mermaid, /^ {4}host0_ctr0\("a#34;b#35;c#60;d#62;e#96;f\\g end<br\/>172\.18\.0\.2"\)$/m);
  assert.equal(nodeIds(mermaid).length, 20);
  assert.deepEqual(nodeIds(mermaid), nodeIds(renderMermaid(topology)));

  const dot = renderDot(renamed);
  assert.match(dot, /^ {4}label="a\\"b#c<d>e`f\\\\g end \(docker, 10\.213\.70\.11\)";$/m);
  assert.match(dot, /^ {4}host0_ctr0 \[label="a\\"b#c<d>e`f\\\\g end\\n172\.18\.0\.2", /m);
});

test("the same topology always draws the same text", () => {
  assert.equal(renderMermaid(devTopology()), renderMermaid(devTopology()));
  assert.equal(renderDot(devTopology()), renderDot(devTopology()));
});

test("the first mermaid block of a Markdown file is read and replaced, the rest kept", () => {
  const markdown = "# t\n\n```sh\nls\n```\n\n```mermaid\nflowchart LR\n  a --- b\n```\n\ntext\n\n```mermaid\nx\n```\n";
  assert.equal(mermaidBlock(markdown), "flowchart LR\n  a --- b\n");
  assert.equal(
    replaceMermaidBlock(markdown, "flowchart TB\n  c --- d\n"),
    "# t\n\n```sh\nls\n```\n\n```mermaid\nflowchart TB\n  c --- d\n```\n\ntext\n\n```mermaid\nx\n```\n",
  );
  assert.equal(mermaidBlock("no block"), undefined);
  assert.throws(() => replaceMermaidBlock("no block", "x\n"), /no ```mermaid block to replace/);
});

function nodeIds(mermaid: string): string[] {
  return [...mermaid.matchAll(/^ +(\w+)[[({"]/gm)].map(([, id]) => id);
}
