import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import { readStackConfig } from "../config/stackFile";
import { parseTopology } from "../topology";
import { renderSummary } from "./summary";

// Compiled to dist/diagram/, two levels below the project root.
const DEV_STACK = path.join(__dirname, "..", "..", "Pulumi.dev.yaml");

function devTopology() {
  const parsed = parseTopology(readStackConfig(DEV_STACK).raw);
  assert.ok(parsed.ok);
  return parsed.topology;
}

const ok = { expected: "reachable", result: "reachable" };

test("the summary of the dev stack names each host's links, networks and containers, the router's NAT and the check's verdict", () => {
  assert.equal(
    renderSummary(devTopology(), { host1: [ok, ok, ok, ok, ok, ok], host2: [ok, ok, ok, ok, ok, ok] }),
    [
      "3 hosts (2 docker, 1 router), 2 VLANs (10, 20), 4 containers",
      "  host1 (docker, 10.213.70.11): ens33.10 192.168.22.10/24, ens33.20 192.168.23.10/24; networks mac-net10, mac-net20; containers bbox10 172.18.0.2, bbox20 172.19.0.3",
      "  host2 (docker, 10.213.70.12): ens33.10 192.168.22.11/24, ens33.20 192.168.23.11/24; networks mac-net10, mac-net20; containers bbox30 172.18.0.5, bbox40 172.19.0.4",
      "  router (router, 10.213.70.13): ens33.10 172.18.0.1/24, ens33.20 172.19.0.1/24; ip_forward, FORWARD and MASQUERADE",
      "check: host1 6/6 as expected; host2 6/6 as expected",
      "",
    ].join("\n"),
  );
});

test("a probe that differs is counted on its host's line; a host whose check reported nothing says so", () => {
  const summary = renderSummary(devTopology(), { host1: [ok, { expected: "reachable", result: "unreachable" }], host2: [] });
  assert.match(summary, /\ncheck: host1 1 of 2 DIFFER; host2: no probe reported\n$/);
});
