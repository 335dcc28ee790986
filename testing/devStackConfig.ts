// Test code: the dev stack's config as parseTopology receives it, and ways to bend it and read the result.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatProblems, parseTopology } from "../topology/parse";
import { Findings } from "../topology/problems";
import type { Rule } from "../topology/rules";
import { shapeConfig } from "../topology/shape";
import type { ConfigProblem, Topology } from "../topology/types";

// The raw config is loosely typed on purpose: each case bends it into something wrong.
export type RawConfig = Record<string, any>;

/** The dev stack (Pulumi.dev.yaml, the two-VLAN lab) as parseTopology receives it from the stack file. */
export function devStackConfig(): RawConfig {
  return {
    trunkInterface: "ens33",
    persistence: "network-scripts",
    sshUser: "root",
    sshPrivateKeyFile: ".lab/id_ed25519",
    sshKnownHostsFile: ".lab/known_hosts",
    vlans: [
      { id: 10, network: "mac-net10", subnet: "172.18.0.0/24", gateway: "172.18.0.1" },
      { id: 20, network: "mac-net20", subnet: "172.19.0.0/24", gateway: "172.19.0.1" },
    ],
    hosts: [
      {
        name: "host1",
        address: "10.213.70.11",
        role: "docker",
        vlanAddresses: { "10": "192.168.22.10/24", "20": "192.168.23.10/24" },
        containers: [
          { name: "bbox10", vlan: 10, ip: "172.18.0.2" },
          { name: "bbox20", vlan: 20, ip: "172.19.0.3" },
        ],
      },
      {
        name: "host2",
        address: "10.213.70.12",
        role: "docker",
        vlanAddresses: { "10": "192.168.22.11/24", "20": "192.168.23.11/24" },
        containers: [
          { name: "bbox30", vlan: 10, ip: "172.18.0.5" },
          { name: "bbox40", vlan: 20, ip: "172.19.0.4" },
        ],
      },
      {
        name: "router",
        address: "10.213.70.13",
        role: "router",
        vlanAddresses: { "10": "172.18.0.1/24", "20": "172.19.0.1/24" },
      },
    ],
    router: { masquerade: true },
  };
}

export const VLAN_30 = { id: 30, network: "mac-net30", subnet: "172.20.0.0/24", gateway: "172.20.0.1" };

export function problemsAfter(change: (config: RawConfig) => void): readonly ConfigProblem[] {
  const config = devStackConfig();
  change(config);
  const result = parseTopology(config);
  if (result.ok) assert.fail("expected problems, the config parsed");
  return result.problems;
}

export function topologyAfter(change: (config: RawConfig) => void): Topology {
  const config = devStackConfig();
  change(config);
  const result = parseTopology(config);
  if (!result.ok) assert.fail(`expected no problems, got:\n${formatProblems(result.problems)}`);
  return result.topology;
}

export function problem(path: string, value: string, message: string): ConfigProblem {
  return { path, value, message };
}

export const KNOWN_TOP_LEVEL =
  "is not a known key (known: trunkInterface, persistence, sshUser, sshPrivateKeyFile, sshPrivateKey, " +
  "sshKnownHostsFile, sshProxy, vlans, hosts, router, macvlanMode, verify, reapply, confirmWithinSeconds)";
/** An unknown-key message that names the known key the misspelt one most likely meant. */
export function didYouMean(key: string, message: string): string {
  return message.replace("is not a known key", `is not a known key: did you mean \`${key}\`?`);
}
export const INTERFACE_NAME = "must be a Linux interface name: 1–15 characters of A-Z a-z 0-9 _ . -";
export const DOCKER_NAME = "must be a Docker name: a letter or digit, then A-Z a-z 0-9 _ . -";
export const HOST_NAME = "must be 1–32 characters of a-z 0-9 -, starting with a letter or digit";
export const HOST_ADDRESS = "must be an IPv4 address or a DNS name";
export const IMAGE = "must be an image reference like busybox:latest or registry.example:5000/team/app:1.0";
export const VLAN_ID = "must be an integer from 1 to 4094";
export const PORT = "must be an integer from 1 to 65535";
export const SUBNET = "must be an IPv4 prefix like 172.18.0.0/24";
export const INTERFACE_ADDRESS = "must be an address with its prefix length, like 192.168.22.10/24";
export const KEY_FILE = "must be a non-empty path without newline or NUL";

export interface RejectedCase {
  readonly behaviour: string;
  readonly change: (config: RawConfig) => void;
  readonly problems: readonly ConfigProblem[];
}


/** One test per case: the change yields exactly these problems. */
export function testRejected(cases: readonly RejectedCase[]): void {
  for (const { behaviour, change, problems } of cases) {
    test(behaviour, () => {
      assert.deepEqual(problemsAfter(change), problems);
    });
  }
}

/** The problems one rule alone finds in the changed dev stack, whose shape must stay valid. */
export function ruleProblems(rule: Rule, change: (config: RawConfig) => void): readonly ConfigProblem[] {
  const config = devStackConfig();
  change(config);
  const findings = new Findings();
  const shaped = shapeConfig(config, findings);
  assert.deepEqual(findings.problems, [], "the change must keep the config's shape valid");
  if (shaped === undefined) assert.fail("the config is not a mapping");
  rule(shaped, findings);
  return findings.problems;
}
