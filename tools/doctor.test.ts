// The doctor end to end against fake hosts: the dev stack loaded as validate loads it, facts and
// ping reports answered by a stand-in shell, one drift per kind, the exit codes (0 no drift, 1 drift,
// 2 usage or config error, 3 a host unreachable), --json, --host and the progress lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expectedHostState } from "../doctor/expected";
import type { Host, Topology } from "../topology";
import { connectivityProbes } from "../topology/probes";
import { spawnSync } from "node:child_process";
import { type HostShell, parseDoctorArgs, runDoctor, sshShell } from "./doctor";
import { loadStackTopology } from "./validate";

const DEV_STACK = path.join(__dirname, "..", "..", "Pulumi.dev.yaml");

interface Drift {
  /** host → item → what the host shows instead of the expectation. */
  readonly facts?: Record<string, Record<string, string>>;
  /** "from->to" pairs whose ping fails. */
  readonly unreachable?: readonly string[];
  /** Hosts whose check cannot run (exit 255, no probe lines). */
  readonly checkFails?: readonly string[];
  /** Hosts SSH cannot reach at all (every script: exit 255). */
  readonly down?: readonly string[];
}

/** A shell that answers the facts script with what the topology expects, except the drift. */
function fakeHosts(topology: Topology, drift: Drift, macs: ReadonlyMap<string, string> = new Map()): HostShell & { scripts: string[] } {
  const scripts: string[] = [];
  return {
    scripts,
    run(host: Host, script: string) {
      scripts.push(`${host.name}: ${script.split("\n")[1]}`);
      if ((drift.down ?? []).includes(host.name)) {
        return { status: 255, stdout: "", stderr: `ssh: connect to host ${host.address} port 22: No route to host\n` };
      }
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
  // Every host is read at once: a line as each starts, then one per host with its verdict.
  assert.deepEqual(log, [
    "[doctor] 1/3 host1 (10.213.70.11): reading",
    "[doctor] 2/3 host2 (10.213.70.12): reading",
    "[doctor] 3/3 router (10.213.70.13): reading",
    "[doctor] host1: 24 items, 0 differ",
    "[doctor] host2: 24 items, 0 differ",
    "[doctor] router: 24 items, 0 differ",
  ]);
  // Every host's facts, then on each docker host the program's own connectivity check.
  assert.deepEqual(shell.scripts, [
    "host1: # macvlan-overlay: doctor: read what the host holds (changes nothing)",
    "host2: # macvlan-overlay: doctor: read what the host holds (changes nothing)",
    "router: # macvlan-overlay: doctor: read what the host holds (changes nothing)",
    "host1: # macvlan-overlay: connectivity check between containers (changes nothing)",
    "host2: # macvlan-overlay: connectivity check between containers (changes nothing)",
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

test("a stack file with problems gets validate's report, exit 2 (a config error), and no host is read", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-doctor-"));
  const stack = path.join(dir, "Pulumi.bad.yaml");
  fs.writeFileSync(stack, fs.readFileSync(DEV_STACK, "utf8").replace("ip: 172.18.0.5", "ip: 172.18.0.1"));
  const shell = fakeHosts(devTopology(), {});
  const result = runDoctor({ stackFile: stack }, () => shell, () => undefined);
  assert.equal(result.exitCode, 2);
  assert.equal(result.report, `hosts[1].containers[0].ip 172.18.0.1: is the gateway of vlan 10\n${stack}: 1 problem`);
  assert.deepEqual(shell.scripts, []);
});

test("an unreachable host: exit 3, no repair line for it, and the other hosts still compared", () => {
  const log: string[] = [];
  const shell = fakeHosts(devTopology(), { down: ["host2"] });
  const result = runDoctor({ stackFile: DEV_STACK }, () => shell, (line) => log.push(line));
  assert.equal(result.exitCode, 3);
  assert.ok(log.includes("[doctor] host2: unreachable (exit 255: ssh: connect to host 10.213.70.12 port 22: No route to host)"), log.join("\n"));
  const sections = result.report.split("\n\n");
  assert.deepEqual(sections.find((part) => part.startsWith("## host2 ")), [
    "## host2 (docker, 10.213.70.12)",
    "unreachable: exit 255: ssh: connect to host 10.213.70.12 port 22: No route to host",
    "not compared: fix SSH to host2 (address, port, key, known_hosts) and run the doctor again",
  ].join("\n"));
  // The hosts it could reach are still compared; nothing differs on them, so no repair is advised at all.
  assert.ok(sections.some((part) => part.startsWith("## host1 ")) && sections.some((part) => part.startsWith("## router ")));
  assert.ok(result.report.endsWith("\n\ndoctor: 1 host(s) unreachable, not compared: host2\ndoctor: every host read matches the stack"), result.report);
  assert.ok(!/repair|reapply/.test(result.report), result.report);
  // host2 alone, unreachable: no repair advice at all.
  const alone = runDoctor({ stackFile: DEV_STACK, host: "host2" }, () => fakeHosts(devTopology(), { down: ["host2"] }), () => undefined);
  assert.equal(alone.exitCode, 3);
  assert.ok(!/repair|reapply|pulumi/.test(alone.report), alone.report);
  assert.match(alone.report, /\n\ndoctor: 1 host\(s\) unreachable, not compared: host2\ndoctor: no host could be read$/);
});

test("exit 3 wins over drift, and the drift found on the hosts read is still listed with its repair", () => {
  const topology = devTopology();
  const shell = fakeHosts(topology, { down: ["router"], facts: { host1: { "container bbox20": "missing" } } });
  const result = runDoctor({ stackFile: DEV_STACK }, () => shell, () => undefined);
  assert.equal(result.exitCode, 3);
  assert.match(result.report, /^container bbox20 +running mac-net20 172\.19\.0\.3 \* +missing +DIFFERS$/m);
  assert.match(result.report, /^ {2}pulumi refresh -s dev --yes {4}# the engine forgets what is gone: bbox20$/m);
  assert.match(result.report, /^ {2}pulumi config set reapply 1 -s dev && pulumi up -s dev$/m);
});

test("--host reads that host alone; an unknown name exits 2 naming the valid ones", () => {
  const shell = fakeHosts(devTopology(), {});
  const log: string[] = [];
  const result = runDoctor({ stackFile: DEV_STACK, host: "router" }, () => shell, (line) => log.push(line));
  assert.equal(result.exitCode, 0, result.report);
  assert.deepEqual(shell.scripts, ["router: # macvlan-overlay: doctor: read what the host holds (changes nothing)"]);
  assert.deepEqual(log, ["[doctor] 1/1 router (10.213.70.13): reading", "[doctor] router: 24 items, 0 differ"]);
  assert.deepEqual(result.report.split("\n\n").map((part) => part.split("\n")[0]), ["## router (router, 10.213.70.13)", "doctor: every host matches the stack"]);

  const unknown = runDoctor({ stackFile: DEV_STACK, host: "host9" }, () => shell, () => undefined);
  assert.deepEqual(unknown, { exitCode: 2, report: `--host host9: no such host in ${DEV_STACK} (hosts: host1, host2, router)` });
});

test("--json: per host reachable or not, each item with expected, found and differs, and the repair lines", () => {
  const shell = fakeHosts(devTopology(), { down: ["router"], facts: { host2: { "link ens33.10": "missing" } } });
  const result = runDoctor({ stackFile: DEV_STACK, json: true }, () => shell, () => undefined);
  assert.equal(result.exitCode, 3);
  const report = JSON.parse(result.report);
  assert.deepEqual(Object.keys(report), ["stackFile", "exitCode", "hosts", "differences", "unreachable", "summary", "repair"]);
  assert.equal(report.exitCode, 3);
  assert.deepEqual(report.unreachable, ["router"]);
  assert.deepEqual(
    report.hosts.map((h: any) => [h.name, h.reachable, h.error, h.differences, h.items.length]),
    [
      ["host1", true, undefined, 0, 24],
      ["host2", true, undefined, 1, 24],
      ["router", false, "exit 255: ssh: connect to host 10.213.70.13 port 22: No route to host", 0, 0],
    ],
  );
  assert.deepEqual(report.hosts[1].items.find((item: any) => item.differs), {
    item: "link ens33.10",
    expected: "vlan 10 on ens33, up",
    found: "missing",
    differs: true,
  });
  assert.deepEqual(report.repair, [
    "pulumi config set reapply 1 -s dev && pulumi up -s dev",
    "a re-created link does not give back the interfaces of containers that sat on it: replace them too,",
    "pulumi up -s dev --replace <urn>   (pulumi stack -s dev --show-urns | grep /container/)",
  ]);

  const clean = JSON.parse(runDoctor({ stackFile: DEV_STACK, json: true }, () => fakeHosts(devTopology(), {}), () => undefined).report);
  assert.deepEqual([clean.exitCode, clean.differences, clean.unreachable, clean.repair, clean.summary], [0, 0, [], [], "doctor: every host matches the stack"]);
  const badHost = JSON.parse(runDoctor({ stackFile: DEV_STACK, json: true, host: "nope" }, () => shell, () => undefined).report);
  assert.deepEqual(badHost, { stackFile: DEV_STACK, exitCode: 2, error: `--host nope: no such host in ${DEV_STACK} (hosts: host1, host2, router)` });
});

test("the command line: --help exits 0 with the usage, a usage error exits 2", () => {
  assert.deepEqual(parseDoctorArgs(["--help"]), { help: true });
  assert.deepEqual(parseDoctorArgs(["Pulumi.dev.yaml", "--host", "router", "--json"]), { stackFile: "Pulumi.dev.yaml", host: "router", json: true });
  assert.match(String(parseDoctorArgs(["Pulumi.dev.yaml", "--host"])), /^--host needs a host name\nusage: /);
  assert.match(String(parseDoctorArgs(["Pulumi.dev.yaml", "--cleanup", "--json"])), /^--json does not go with --cleanup/);
  assert.deepEqual(parseDoctorArgs(["-s", "dev"], path.dirname(DEV_STACK)), { stackFile: path.relative(process.cwd(), DEV_STACK) || DEV_STACK });

  const cli = path.join(__dirname, "doctor.js");
  const help = spawnSync(process.execPath, [cli, "--help"], { encoding: "utf8" });
  assert.deepEqual([help.status, help.stderr], [0, ""]);
  assert.match(help.stdout, /^usage: npm run doctor -- /);
  assert.match(help.stdout, /^exit: 0 no drift, 1 drift, 2 usage or config error, 3 one or more hosts unreachable \(wins over 1\)$/m);
  const wrong = spawnSync(process.execPath, [cli, "--frobnicate"], { encoding: "utf8" });
  assert.deepEqual([wrong.status, wrong.stdout, wrong.stderr.split("\n")[0]], [2, "", "unknown option --frobnicate"]);
});

test("over SSH every host is read at the same time: each stand-in ssh waits until all three have started", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-doctor-ssh-"));
  const fakeSsh = path.join(dir, "ssh");
  // A barrier: read one after another, the first host would wait for the others and give up (exit 255).
  fs.writeFileSync(
    fakeSsh,
    [
      "#!/bin/sh",
      'for arg; do case $arg in *@*) target=${arg#*@} ;; esac; done',
      "cat >/dev/null",
      `touch '${dir}'/started."$target"`,
      "i=0",
      `while [ "$(ls '${dir}' | grep -c '^started\.')" -lt 3 ]; do`,
      "  i=$((i + 1)); [ $i -le 100 ] || { echo \"$target: the other hosts never started\" >&2; exit 255; }; sleep 0.1",
      "done",
      "echo 'fact 0 missing'",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const log: string[] = [];
  const result = runDoctor({ stackFile: DEV_STACK }, (topology) => sshShell(topology, dir, { ssh: fakeSsh }), (line) => log.push(line));
  // Every host answered (its facts are nonsense, so everything differs): none is unreachable.
  assert.deepEqual(
    log.filter((line) => / items, \d+ differ$|unreachable/.test(line)).map((line) => line.replace(/\d+ items, \d+ differ$/, "read")),
    ["[doctor] host1: read", "[doctor] host2: read", "[doctor] router: read"],
    result.report,
  );
  assert.equal(result.exitCode, 1);
});
