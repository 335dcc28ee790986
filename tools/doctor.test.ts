// The doctor end to end against fake hosts: the dev stack loaded as validate loads it, facts and
// ping reports answered by a stand-in shell, one drift per kind, the exit code and progress lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expectedHostState } from "../doctor/expected";
import type { Host, Topology } from "../topology";
import { connectivityProbes } from "../topology/probes";
import { type HostShell, runDoctor } from "./doctor";
import { loadStackTopology } from "./validate";

const DEV_STACK = path.join(__dirname, "..", "..", "Pulumi.dev.yaml");

interface Drift {
  /** host → item → what the host shows instead of the expectation. */
  readonly facts?: Record<string, Record<string, string>>;
  /** "from->to" pairs whose ping fails. */
  readonly unreachable?: readonly string[];
  /** Hosts whose check cannot run (exit 255, no probe lines). */
  readonly checkFails?: readonly string[];
}

/** A shell that answers the facts script with what the topology expects, except the drift. */
function fakeHosts(topology: Topology, drift: Drift, macs: ReadonlyMap<string, string> = new Map()): HostShell & { scripts: string[] } {
  const scripts: string[] = [];
  return {
    scripts,
    run(host: Host, script: string) {
      scripts.push(`${host.name}: ${script.split("\n")[1]}`);
      if (script.includes("doctor: read what the host holds")) {
        const lines = expectedHostState(topology, host, macs).map((e, index) => {
          const found = drift.facts?.[host.name]?.[e.item] ?? e.expected.replace(/ \*$/, " 02:42:ac:12:00:99");
          return `fact ${index} ${found}`;
        });
        return { status: 0, stdout: `${lines.join("\n")}\n`, stderr: "" };
      }
      if ((drift.checkFails ?? []).includes(host.name)) {
        return { status: 255, stdout: "", stderr: "ssh: connect to host 10.213.70.12 port 22: Connection refused\n" };
      }
      const lines = connectivityProbes(topology, host.name).map((p) => {
        const got = (drift.unreachable ?? []).includes(`${p.from}->${p.to}`) ? "unreachable" : p.expectReachable ? "reachable" : "unreachable";
        return ["probe", p.from, p.to, p.toIp, p.kind, p.expectReachable ? "reachable" : "unreachable", got, "0.1"].join("\t");
      });
      return { status: 0, stdout: `${lines.join("\n")}\n`, stderr: "" };
    },
  };
}

function devTopology(): Topology {
  const loaded = loadStackTopology(DEV_STACK);
  assert.ok(loaded.ok);
  return loaded.topology;
}

test("a deployed dev stack that matches: exit 0, every host read, progress on the log", () => {
  const log: string[] = [];
  const shell = fakeHosts(devTopology(), {});
  const result = runDoctor({ stackFile: DEV_STACK }, () => shell, (line) => log.push(line));
  assert.equal(result.exitCode, 0, result.report);
  assert.match(result.report, /doctor: every host matches the stack$/);
  // A docker host: 17 items and the boot unit's 6 (unit file, runner, enabling link, the promisc and
  // two VLAN fragments); the router: 16 and 7 (its rules' fragment too).
  assert.deepEqual(log, [
    "[doctor] 1/3 host1 (10.213.70.11): reading",
    "[doctor] host1: 23 items, 0 differ",
    "[doctor] 2/3 host2 (10.213.70.12): reading",
    "[doctor] host2: 23 items, 0 differ",
    "[doctor] 3/3 router (10.213.70.13): reading",
    "[doctor] router: 23 items, 0 differ",
  ]);
  // Each docker host: its facts, then the program's own connectivity check; the router: facts only.
  assert.deepEqual(shell.scripts, [
    "host1: # macvlan-overlay: doctor: read what the host holds (changes nothing)",
    "host1: # macvlan-overlay: connectivity check between containers (changes nothing)",
    "host2: # macvlan-overlay: doctor: read what the host holds (changes nothing)",
    "host2: # macvlan-overlay: connectivity check between containers (changes nothing)",
    "router: # macvlan-overlay: doctor: read what the host holds (changes nothing)",
  ]);
});

test("a deleted link, rule and container and a failed ping are each named, and the exit is 1", () => {
  const topology = devTopology();
  const shell = fakeHosts(topology, {
    facts: {
      host2: { "link ens33.10": "missing", "addresses ens33.10": "missing", "container bbox30": "missing" },
      router: {
        "rule -t filter -A FORWARD -i ens33.10 -o ens33.20 -m comment --comment macvlan-overlay -j ACCEPT": "absent",
        "rules tagged macvlan-overlay": "5",
      },
    },
    unreachable: ["bbox10->bbox30"],
  });
  const result = runDoctor({ stackFile: DEV_STACK }, () => shell, () => undefined);
  assert.equal(result.exitCode, 1);
  const differing = result.report.split("\n").filter((line) => line.endsWith("DIFFERS")).map((line) => line.split(/  +/)[0]);
  assert.deepEqual(differing, [
    "ping bbox10 -> bbox30 (172.18.0.5, same-vlan)",
    "link ens33.10",
    "addresses ens33.10",
    "container bbox30",
    "rule -t filter -A FORWARD -i ens33.10 -o ens33.20 -m comment --comment macvlan-overlay -j ACCEPT",
    "rules tagged macvlan-overlay",
  ]);
  assert.equal(
    result.report.slice(result.report.indexOf("doctor: 6 item(s)")),
    [
      "doctor: 6 item(s) differ from the stack",
      "",
      "repair (re-runs every host command's create in place, as an update; it replaces nothing):",
      "  pulumi refresh -s dev --yes    # the engine forgets what is gone: bbox30",
      "  pulumi config set reapply 1 -s dev && pulumi up -s dev",
      "  a re-created link does not give back the interfaces of containers that sat on it: replace them too,",
      "  pulumi up -s dev --replace <urn>   (pulumi stack -s dev --show-urns | grep /container/)",
    ].join("\n"),
  );
});

test("a check that cannot run is a difference, not an empty ping list", () => {
  const shell = fakeHosts(devTopology(), { checkFails: ["host2"] });
  const result = runDoctor({ stackFile: DEV_STACK }, () => shell, () => undefined);
  assert.equal(result.exitCode, 1);
  assert.match(result.report, /^connectivity check +6 probes run +exit 255: ssh: connect to host 10\.213\.70\.12 port 22: Connection refused +DIFFERS$/m);
});

test("with --outputs each container's MAC is compared with the exported one", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-doctor-"));
  const outputs = path.join(dir, "outputs.json");
  fs.writeFileSync(outputs, JSON.stringify({ hosts: { host1: { containers: [{ name: "bbox10", mac: "02:aa:bb:cc:dd:ee" }] } } }));
  const topology = devTopology();
  // The host shows another MAC for bbox10 than the stack exported.
  const shell = fakeHosts(topology, { facts: { host1: { "container bbox10": "running mac-net10 172.18.0.2 02:11:22:33:44:55" } } });
  const result = runDoctor({ stackFile: DEV_STACK, outputsFile: outputs }, () => shell, () => undefined);
  assert.equal(result.exitCode, 1);
  assert.match(result.report, /^container bbox10 +running mac-net10 172\.18\.0\.2 02:aa:bb:cc:dd:ee +running mac-net10 172\.18\.0\.2 02:11:22:33:44:55 +DIFFERS$/m);
});

test("a stack file with problems gets validate's report and exit code, and no host is read", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-doctor-"));
  const stack = path.join(dir, "Pulumi.bad.yaml");
  fs.writeFileSync(stack, fs.readFileSync(DEV_STACK, "utf8").replace("ip: 172.18.0.5", "ip: 172.18.0.1"));
  const shell = fakeHosts(devTopology(), {});
  const result = runDoctor({ stackFile: stack }, () => shell, () => undefined);
  assert.equal(result.exitCode, 1);
  assert.match(result.report, /^hosts\[1\]\.containers\[0\]\.ip 172\.18\.0\.1: .*gateway/m);
  assert.deepEqual(shell.scripts, []);
});
