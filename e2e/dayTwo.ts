// Test code: the config changes users make to a deployed stack, as edits of the dev stack's file,
// each with what `pulumi up` must do to the running overlay; and what must hold after each.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseConnectivityReport } from "../components/scripts";
import { ADDRESS, CONTAINER_CHANGES, type Edit, MASQUERADE_OFF, SSH_PORT, VLAN_30_ADDED } from "../testing/stackEdits";
import { PROJECT_ROOT, sshMust } from "./labAccess";
import {
  addressOfDockerUrl, assertContainerIdentities, DEV_STACK, HOSTS, runProbes, targetAt, type DeployedContainer,
} from "./labFixture";
import { E2E_CASES, leftOut, type CaseSet } from "./cases";
import { describeStep, type ExecutedStep, type LabStack } from "./liveStack";

/** The dev stack's text with each `from` replaced by `to`, as Pulumi.dev.yaml in a new folder. */
export function stackVariant(edits: readonly Edit[]): string {
  let text = fs.readFileSync(DEV_STACK, "utf8");
  for (const [from, to] of edits) {
    if (!text.includes(from)) {
      throw new Error(`the dev stack (as edited so far) has no ${JSON.stringify(from)}`);
    }
    text = text.replace(from, to);
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovl-e2e-variant-")), "Pulumi.dev.yaml");
  fs.writeFileSync(file, text);
  return file;
}

const HOST3 = "10.213.70.14";
const THIRD_DOCKER_HOST: Edit[] = [
  [
    "  macvlan-overlay:router:",
    [
      "    - name: host3",
      `      address: ${HOST3}`,
      "      role: docker",
      '      vlanAddresses: { "10": 192.168.22.12/24, "20": 192.168.23.12/24 }',
      "      containers:",
      "        - { name: bbox90, vlan: 10, ip: 172.18.0.9 }",
      "        - { name: bbox91, vlan: 20, ip: 172.19.0.9 }",
      "  macvlan-overlay:router:",
    ].join("\n"),
  ],
];

export interface DayTwoScenario {
  title: string;
  /** A short name for the run's timing table. */
  phase: string;
  /** The dev stack's edits that make this config (cumulative: each scenario's whole config). */
  edits: Edit[];
  /** Sample the router's ip_forward while the update runs: it must never drop. */
  watchForwarding: boolean;
  /** Checks the steps `pulumi up` took (the connectivity checks' own steps left out). */
  expect: (steps: string[]) => void;
  /**
   * The smallest set of e2e cases that takes it (e2e/cases.ts). Each scenario starts from the config
   * the one before it in the run deployed, so a set may leave a scenario out only where the next one's
   * expectations hold from the one before (e2e/dayTwo.test.ts checks every set's chain).
   */
  smallest: CaseSet;
}

/** The connectivity checks' steps, and the Confirms' that follow them (asserted where a scenario arms). */
const CHECK = /\/check\/ping |-check-ping |\/confirm /;
const onHostSteps = (steps: string[]) => steps.filter((step) => !CHECK.test(step));
const ops = (steps: string[]) => [...new Set(steps.map((step) => step.split(" ")[0]))].sort();
const named = (steps: string[], pattern: RegExp) => steps.filter((step) => pattern.test(step));

export const DAY_TWO: DayTwoScenario[] = [
  {
    phase: "VLAN address",
    title: "host1's VLAN 10 address changes: its link command updates in place, its containers keep their interfaces",
    edits: ADDRESS,
    watchForwarding: false,
    expect: (steps) => {
      assert.deepEqual(onHostSteps(steps), ["update host1/vlan10/link/ens33.10 (runs create on 10.213.70.11:22)"]);
      // The link's update armed a revert on host1: host1's Confirm runs again to disarm it, no other.
      assert.deepEqual(named(steps, /\/confirm /), ["update host1/confirm (runs create on 10.213.70.11:22)"]);
    },
    smallest: "core",
  },
  {
    phase: "masquerade off",
    title: "masquerade off: the router's rules update in place, forwarding never stops",
    edits: [...ADDRESS, ...MASQUERADE_OFF],
    watchForwarding: true,
    expect: (steps) => assert.deepEqual(onHostSteps(steps), ["update router/nat/rules (runs create on 10.213.70.13:22)"]),
    smallest: "core",
  },
  {
    phase: "masquerade on",
    title: "masquerade on again: the same in-place update",
    edits: ADDRESS,
    smallest: "all",
    watchForwarding: true,
    expect: (steps) => assert.deepEqual(onHostSteps(steps), ["update router/nat/rules (runs create on 10.213.70.13:22)"]),
  },
  {
    phase: "VLAN 30 added",
    title: "VLAN 30 added with a container on each docker host: only new resources and the router's update",
    edits: [...ADDRESS, ...VLAN_30_ADDED],
    smallest: "all",
    watchForwarding: true,
    expect: (steps) => {
      const own = onHostSteps(steps);
      assert.deepEqual(ops(own), ["create", "update"]);
      assert.deepEqual(named(own, /^update/), ["update router/nat/rules (runs create on 10.213.70.13:22)"]);
      for (const host of ["host1", "host2", "router"]) {
        assert.equal(named(own, new RegExp(`^create ${host}/vlan30/link/ens33\\.30 `)).length, 1, `${host}'s VLAN 30 link created`);
      }
      assert.equal(named(own, /^create host[12]\/network\/mac-net30\/network /).length, 2);
      assert.equal(named(own, /^create host1\/container\/bbox70\/container |^create host2\/container\/bbox80\/container /).length, 2);
    },
  },
  {
    phase: "VLAN 30 removed",
    title: "VLAN 30 removed: only its resources deleted, the router updated",
    edits: ADDRESS,
    smallest: "all",
    watchForwarding: true,
    expect: (steps) => {
      const own = onHostSteps(steps);
      assert.deepEqual(ops(own), ["delete", "update"]);
      assert.deepEqual(named(own, /^update/), ["update router/nat/rules (runs create on 10.213.70.13:22)"]);
      assert.ok(own.filter((step) => step.startsWith("delete")).every((step) => /vlan30|mac-net30|bbox70|bbox80/.test(step)), "only VLAN 30's resources deleted");
      assert.equal(named(own, /^delete \S+\/vlan30\/link\/ens33\.30 /).length, 3);
    },
  },
  {
    phase: "containers added, renamed, moved",
    title: "a container added, one renamed keeping its key, one moved to another IP: each replaced alone, the old one deleted first",
    edits: [...ADDRESS, ...CONTAINER_CHANGES],
    smallest: "all",
    watchForwarding: false,
    expect: (steps) => {
      const own = onHostSteps(steps);
      const replaced = named(own, /^replace/).map((step) => step.split(" (")[0]);
      assert.equal(replaced.length, 4, `only the renamed and the moved container replaced: ${replaced.join("; ")}`);
      for (const container of ["host1/container/bbox20/container", "host2/container/bbox40/container"]) {
        const deleted = replaced.indexOf(`replace(delete) ${container}`);
        const created = replaced.indexOf(`replace(create) ${container}`);
        assert.ok(deleted >= 0 && created > deleted, `${container} replaced, the old one deleted first: ${replaced.join("; ")}`);
      }
      assert.ok(own.filter((step) => !step.startsWith("replace")).every((step) => step.startsWith("create host1/container/bbox50/")), "else only bbox50's resources created");
      assert.equal(named(own, /^create host1\/container\/bbox50\/container /).length, 1);
    },
  },
  {
    phase: "third docker host added",
    title: "a third docker host added: only creates, all on it",
    edits: [...ADDRESS, ...CONTAINER_CHANGES, ...THIRD_DOCKER_HOST],
    smallest: "all",
    watchForwarding: false,
    expect: (steps) => {
      const own = onHostSteps(steps);
      assert.deepEqual(ops(own), ["create"]);
      assert.ok(own.every((step) => step.includes(`on ${HOST3}:22)`) || step.includes(`on ssh://root@${HOST3}:22)`) || / host3\/\S+\/mac$/.test(step)), own.join("\n"));
    },
  },
  {
    phase: "third docker host removed",
    title: "the third docker host removed: only deletes, all on it",
    edits: [...ADDRESS, ...CONTAINER_CHANGES],
    smallest: "all",
    watchForwarding: false,
    expect: (steps) => {
      const own = onHostSteps(steps);
      assert.deepEqual(ops(own), ["delete"]);
      assert.ok(own.every((step) => step.includes(`on ${HOST3}:22)`) || step.includes(`on ssh://root@${HOST3}:22)`) || / host3\/\S+\/mac$/.test(step)), own.join("\n"));
    },
  },
  {
    phase: "SSH port",
    title: "host2's SSH port changes to 2222: its commands update in place over the new port, nothing is replaced",
    edits: [...ADDRESS, ...CONTAINER_CHANGES, ...SSH_PORT],
    smallest: "all",
    watchForwarding: false,
    expect: (steps) => {
      const own = onHostSteps(steps);
      assert.deepEqual(ops(own), ["update"]);
      assert.ok(own.length >= 3, own.join("\n"));
      assert.ok(own.every((step) => step.startsWith("update host2/") && step.endsWith(`on ${HOSTS.host2}:2222)`)), own.join("\n"));
    },
  },
];

/** The steps that did something, one line each ("update host1/... (runs create on 10.213.70.11:22)"). */
export function summarize(steps: readonly ExecutedStep[]): string[] {
  return steps.filter((step) => step.op !== "same").map(describeStep);
}

/**
 * What must hold of any deployed stack: every container has its interface with its IP and MAC, each
 * connectivity check reported every probe as expected, and the same probes run now from inside the
 * containers give the check's results (printed as the ping matrix).
 */
export function assertDeployedOverlay(stack: LabStack, label: string): void {
  const containers: DeployedContainer[] = stack.state
    .filter((entry) => entry.resource.type === "docker:index/container:Container" && entry.live.kind === "docker")
    .map((entry) => {
      const endpoint = (entry.resource.inputs.networksAdvanced as { name: string; ipv4Address: string; macAddress?: string }[])[0];
      const hostUrl = entry.live.kind === "docker" ? entry.live.hostUrl : "";
      const network = stack.state.find(
        (candidate) => candidate.resource.type === "docker:index/network:Network" && candidate.live.kind === "docker" &&
          candidate.live.hostUrl === hostUrl && candidate.resource.inputs.name === endpoint.name,
      );
      assert.ok(network !== undefined, `${String(entry.resource.inputs.name)}: its network ${endpoint.name} is in the state`);
      const parent = String((network.resource.inputs.options as Record<string, string>).parent);
      return { name: String(entry.resource.inputs.name), hostAddress: addressOfDockerUrl(hostUrl), ip: endpoint.ipv4Address, mac: endpoint.macAddress ?? null, parent };
    });
  assertContainerIdentities(containers);
  const checks = stack.state.filter((entry) => /\/check\/ping$/.test(entry.resource.name));
  assert.ok(checks.length > 0, "the stack has connectivity checks");
  const mismatches: string[] = [];
  console.log(`ping matrix (${label}): source -> destination: the check's result / the test's ping now`);
  for (const check of checks) {
    const report = parseConnectivityReport(String(check.resource.outputs.stdout ?? ""));
    assert.ok(report.length > 0, `${check.resource.name} reported probes`);
    const address = check.live.kind === "command" ? check.live.target.host : "";
    const now = runProbes(address, report.map((probe) => ({ from: probe.from, toIp: probe.toIp, reported: probe.result })));
    for (const probe of report) {
      const seen = now.get(`${probe.from} ${probe.toIp}`);
      const flag = probe.result === probe.expected && seen === probe.result ? "" : "   <-- MISMATCH";
      console.log(`  ${probe.from.padEnd(7)} -> ${`${probe.to} (${probe.toIp})`.padEnd(24)} ${probe.kind.padEnd(9)} ${probe.result} / ${seen}${flag}`);
      if (flag !== "") mismatches.push(`${probe.from}->${probe.to} expected ${probe.expected}, check ${probe.result}, now ${seen}`);
    }
  }
  assert.deepEqual(mismatches, []);
  const names = containers.map((c) => c.name).sort();
  const probed = new Set(checks.flatMap((check) => parseConnectivityReport(String(check.resource.outputs.stdout ?? "")).map((probe) => probe.from)));
  assert.deepEqual([...probed].sort(), names, "every container is the source of probes in the current check output");
}

/** Samples the router's ip_forward every 0.2 s in the background until `stop()`, which returns the samples. */
export function startForwardingWatch(): { stop: () => string[] } {
  const router = targetAt(HOSTS.router);
  const file = "/run/ovl-e2e-ip-forward";
  sshMust(router, `nohup sh -c 'while :; do cat /proc/sys/net/ipv4/ip_forward; sleep 0.2; done' >'${file}' 2>/dev/null </dev/null & echo $! >'${file}.pid'`);
  return {
    stop: () => sshMust(router, `kill "$(cat '${file}.pid')"; cat '${file}'; rm -f '${file}' '${file}.pid'`).trim().split("\n").filter((line) => line !== ""),
  };
}


/** The program as of a commit, compiled in a temporary folder against this project's node_modules. */
export function compileProgramAt(commit: string): { programDir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ovl-e2e-program-${commit}-`));
  const archive = spawnSync("sh", ["-c", `git -C '${PROJECT_ROOT}' archive '${commit}' | tar -x -C '${dir}'`], { encoding: "utf8" });
  if (archive.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot read commit ${commit} from the project's git history (a clone with history is needed): ${archive.stderr}`);
  }
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"));
  execFileSync(process.execPath, [path.join(PROJECT_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(dir, "tsconfig.json")], { encoding: "utf8" });
  return { programDir: path.join(dir, "dist"), remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The scenarios a run of the given case set takes, in order. */
export function scenariosToRun(set: CaseSet = E2E_CASES, scenarios: readonly DayTwoScenario[] = DAY_TWO): DayTwoScenario[] {
  return scenarios.filter((scenario) => leftOut(scenario.smallest, set) === undefined);
}
