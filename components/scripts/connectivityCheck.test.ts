import { test } from "node:test";
import assert from "node:assert/strict";
import { inPlanOrder, parseConnectivityReport, type Probe, renderConnectivityCheck } from "./connectivityCheck";
import { type HostSandbox, sandboxUnavailableReason, withHostSandbox } from "../../testing/hostSandbox";

const skip = sandboxUnavailableReason();

const probes: Probe[] = [
  { from: "bbox10", to: "bbox30", toIp: "172.18.0.5", kind: "same-vlan", expectReachable: true },
  { from: "bbox10", to: "bbox40", toIp: "172.19.0.4", kind: "routed", expectReachable: false },
  { from: "bbox20", to: "bbox40", toIp: "172.19.0.4", kind: "same-vlan", expectReachable: true },
  { from: "ghost", to: "bbox30", toIp: "172.18.0.5", kind: "same-vlan", expectReachable: false },
];

/** The lanes of a rendered check: per background group, its run_pings and report calls. */
function lanesOf(text: string): string[][] {
  const lanes: string[][] = [];
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (line === "{") lanes.push([]);
    else if (line.startsWith("run_pings ") || line.startsWith("report ")) lanes[lanes.length - 1].push(line);
  }
  return lanes;
}

test("one docker exec per source container with all its IPs, then one report call per probe", () => {
  const text = renderConnectivityCheck({ probes: probes.slice(0, 3) });
  assert.deepEqual(lanesOf(text), [
    ["run_pings 'bbox10' '172.18.0.5' '172.19.0.4'", "report '1' 'bbox30' '172.18.0.5' 'same-vlan' 'reachable'", "report '2' 'bbox40' '172.19.0.4' 'routed' 'unreachable'"],
    ["run_pings 'bbox20' '172.19.0.4'", "report '1' 'bbox40' '172.19.0.4' 'same-vlan' 'reachable'"],
  ]);
  assert.match(text, /^PROBES='3'$/m);
  assert.match(text, /^PING_COUNT='3'$/m);
  assert.match(text, /^PING_TIMEOUT='2'$/m);
  assert.equal(text.split("\n").filter((line) => !line.startsWith("#") && line.includes("docker exec")).length, 1);
});

test("source containers are dealt round-robin over at most parallelSources lanes (default 8)", () => {
  const many: Probe[] = Array.from({ length: 10 }, (_, i) => ({
    from: `c${i}`, to: "gateway", toIp: "172.18.0.1", kind: "gateway", expectReachable: true,
  }));
  const sourcesPerLane = (text: string) => lanesOf(text).map((lane) => lane.filter((l) => l.startsWith("run_pings")).map((l) => l.split(" ")[1]));
  assert.deepEqual(sourcesPerLane(renderConnectivityCheck({ probes: many, parallelSources: 3 })), [
    ["'c0'", "'c3'", "'c6'", "'c9'"],
    ["'c1'", "'c4'", "'c7'"],
    ["'c2'", "'c5'", "'c8'"],
  ]);
  assert.equal(lanesOf(renderConnectivityCheck({ probes: many })).length, 8);
  assert.equal(lanesOf(renderConnectivityCheck({ probes: many.slice(0, 2) })).length, 2);
  assert.throws(() => renderConnectivityCheck({ probes: many, parallelSources: 0 }), /parallelSources must be a positive integer, got 0/);
});

test("count and timeout can be set, and must be positive integers", () => {
  const text = renderConnectivityCheck({ probes, count: 1, timeoutSeconds: 5 });
  assert.match(text, /^PING_COUNT='1'$/m);
  assert.match(text, /^PING_TIMEOUT='5'$/m);
  assert.throws(() => renderConnectivityCheck({ probes, count: 0 }), /count must be a positive integer/);
  assert.throws(() => renderConnectivityCheck({ probes, timeoutSeconds: 1.5 }), /timeoutSeconds must be a positive integer/);
});

test("the check changes nothing on the host: no state, no files, no ip or iptables", () => {
  const code = renderConnectivityCheck({ probes })
    .split("\n")
    .filter((line) => !line.startsWith("#"))
    .join("\n");
  for (const word of ["STATE_DIR", "mkdir", "rm ", ">/etc", "ip link", "ip addr", "iptables", "sysctl"]) {
    assert.ok(!code.includes(word), word);
  }
});

test("the report parser reads every probe line with its RTT and ignores the rest", () => {
  const stdout = [
    "probe\tbbox10\tgateway\t172.18.0.1\tgateway\treachable\treachable\t0.412",
    "probe\tbbox10\tbbox40\t172.19.0.4\trouted\treachable\tunreachable\t-",
    "connectivity: 1 of 2 probes differ from the expectation",
    "",
  ].join("\n");
  assert.deepEqual(parseConnectivityReport(stdout), [
    { from: "bbox10", to: "gateway", toIp: "172.18.0.1", kind: "gateway", expected: "reachable", result: "reachable", rttMs: 0.412 },
    { from: "bbox10", to: "bbox40", toIp: "172.19.0.4", kind: "routed", expected: "reachable", result: "unreachable", rttMs: null },
  ]);
});

// A stand-in for the docker CLI: bbox10 and bbox20 run; `exec` runs the command on the sandbox itself,
// where a stand-in ping answers only 172.18.0.5 (busybox's summary line, 0.250 ms average).
const FAKE_DOCKER = `#!/bin/sh
echo "$1 $2 $3" >>/run/docker-calls.log
case "$1" in
  inspect)
    case "$4" in
      bbox10 | bbox20) echo true ;;
      *) echo "Error: No such object: $4" >&2; exit 1 ;;
    esac
    ;;
  exec)
    shift 2
    exec "$@"
    ;;
  *) exit 64 ;;
esac
`;
const FAKE_PING = `#!/bin/sh
for last in "$@"; do :; done
echo "ping $*" >>/run/ping-calls.log
[ "$last" = 172.18.0.5 ] || exit 1
echo "round-trip min/avg/max = 0.100/0.250/0.400 ms"
`;

const byProbe = (a: { from: string; to: string }, b: { from: string; to: string }) =>
  `${a.from} ${a.to}`.localeCompare(`${b.from} ${b.to}`);

function withFakeDocker(body: (box: HostSandbox) => void): Promise<void> {
  return withHostSandbox({ extraDirs: ["/usr/local/bin"] }, (box) => {
    box.writeFile("/usr/local/bin/docker", FAKE_DOCKER, "0755");
    box.writeFile("/usr/local/bin/ping", FAKE_PING, "0755");
    body(box);
  });
}

test("every probe runs and reports; any differing result makes the exit status 1; the script comes on stdin", { skip }, () =>
  withFakeDocker((box) => {
    const before = box.snapshot();
    const result = box.run("sh -s", { input: renderConnectivityCheck({ probes }) });
    // Lanes run at once, so lines come in the order they finish: compared sorted.
    assert.deepEqual(parseConnectivityReport(result.stdout).sort(byProbe), [
      { from: "bbox10", to: "bbox30", toIp: "172.18.0.5", kind: "same-vlan", expected: "reachable", result: "reachable", rttMs: 0.25 },
      { from: "bbox10", to: "bbox40", toIp: "172.19.0.4", kind: "routed", expected: "unreachable", result: "unreachable", rttMs: null },
      { from: "bbox20", to: "bbox40", toIp: "172.19.0.4", kind: "same-vlan", expected: "reachable", result: "unreachable", rttMs: null },
      {
        from: "ghost", to: "bbox30", toIp: "172.18.0.5", kind: "same-vlan", expected: "unreachable",
        result: "error (container ghost is not running)", rttMs: null,
      },
    ]);
    assert.ok(result.stdout.endsWith("connectivity: 2 of 4 probes differ from the expectation\n"), result.stdout);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, "");
    assert.equal(
      box.exec("sort /run/docker-calls.log; rm /run/docker-calls.log"),
      ["exec bbox10 sh", "exec bbox20 sh", "inspect -f {{.State.Running}}", "inspect -f {{.State.Running}}", "inspect -f {{.State.Running}}", ""].join("\n"),
    );
    assert.equal(
      box.exec("sort /run/ping-calls.log; rm /run/ping-calls.log"),
      ["ping -c 3 -W 2 172.18.0.5", "ping -c 3 -W 2 172.19.0.4", "ping -c 3 -W 2 172.19.0.4", ""].join("\n"),
    );
    assert.equal(box.snapshot(), before, "the check changed nothing");
  }),
);

test("all probes as expected exits 0, with the chosen count and timeout", { skip }, () =>
  withFakeDocker((box) => {
    const result = box.run("sh -s", { input: renderConnectivityCheck({ probes: probes.slice(0, 2), count: 1, timeoutSeconds: 5 }) });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.stdout.endsWith("connectivity: all 2 probes as expected\n"), result.stdout);
    assert.match(box.exec("cat /run/ping-calls.log"), /^ping -c 1 -W 5 172\.18\.0\.5$/m);
  }),
);

test("a probe that gives no line (a lane lost) fails the check, never passes it", { skip }, () =>
  withFakeDocker((box) => {
    const script = renderConnectivityCheck({ probes: probes.slice(0, 2) });
    const lost = script.split("\n").filter((line) => !line.includes("report '2'")).join("\n");
    assert.notEqual(lost, script);
    const result = box.run("sh -s", { input: lost });
    assert.equal(parseConnectivityReport(result.stdout).length, 1);
    assert.ok(result.stdout.endsWith("connectivity: 1 of 2 probes gave no result\n"), result.stdout);
    assert.equal(result.status, 1);
  }),
);

// docker exec waits (up to 3 s) until WANT execs have started: it passes only if that many sources
// are probing at once.
const BARRIER_DOCKER = `#!/bin/sh
case "$1" in
  inspect) echo true ;;
  exec)
    echo started >>/run/exec-starts
    tries=0
    while [ "$(wc -l </run/exec-starts)" -lt "$(cat /run/want)" ]; do
      tries=$((tries + 1))
      [ "$tries" -le 30 ] || { echo "$2 waited alone" >>/run/alone.log; break; }
      sleep 0.1
    done
    shift 2
    exec "$@"
    ;;
esac
`;

test("source containers in different lanes probe at once; one lane runs them one after another", { skip }, () =>
  withHostSandbox({ extraDirs: ["/usr/local/bin"] }, (box) => {
    box.writeFile("/usr/local/bin/docker", BARRIER_DOCKER, "0755");
    box.writeFile("/usr/local/bin/ping", FAKE_PING, "0755");
    const four: Probe[] = ["a", "b", "c", "d"].map((from) => ({ from, to: "bbox30", toIp: "172.18.0.5", kind: "same-vlan", expectReachable: true }));
    const runWith = (lanes: number) => {
      box.exec(`echo 2 >/run/want; : >/run/exec-starts; rm -f /run/alone.log`);
      const result = box.run("sh -s", { input: renderConnectivityCheck({ probes: four, parallelSources: lanes }) });
      return { result, alone: box.exec("cat /run/alone.log 2>/dev/null || true") };
    };
    const twoLanes = runWith(2);
    assert.equal(twoLanes.alone, "", "two execs started together");
    assert.equal(twoLanes.result.status, 0, twoLanes.result.stdout);
    assert.ok(twoLanes.result.stdout.endsWith("connectivity: all 4 probes as expected\n"));
    const oneLane = runWith(1);
    assert.equal(oneLane.alone, "a waited alone\n", "with one lane the first exec is alone");
    assert.equal(oneLane.result.status, 0, oneLane.result.stdout);
  }),
);

test("reports come back in the plan's order, whatever order the lanes finished in; unplanned ones last", () => {
  const line = (p: Probe, result: string) => `probe\t${p.from}\t${p.to}\t${p.toIp}\t${p.kind}\t${p.expectReachable ? "reachable" : "unreachable"}\t${result}\t-`;
  const stray: Probe = { from: "bbox99", to: "gateway", toIp: "172.18.0.1", kind: "gateway", expectReachable: true };
  const stdout = [line(probes[2], "reachable"), line(stray, "reachable"), line(probes[0], "unreachable"), line(probes[1], "unreachable")].join("\n");
  assert.deepEqual(
    inPlanOrder(parseConnectivityReport(stdout), probes).map((r) => `${r.from}>${r.to}`),
    ["bbox10>bbox30", "bbox10>bbox40", "bbox20>bbox40", "bbox99>gateway"],
  );
});

test("with commit confirmed on, a failing check on an armed host says when it reverts and which reapply to set; unarmed, nothing more", { skip }, () =>
  withFakeDocker((box) => {
    const script = renderConnectivityCheck({ probes, nextReapply: 4 });
    assert.equal(box.run("sh -s", { input: script }).stderr, "", "nothing armed: no note");
    box.exec("mkdir -p /var/lib/macvlan-overlay/revert && echo 1796300000 >/var/lib/macvlan-overlay/revert/deadline");
    const result = box.run("sh -s", { input: script });
    assert.equal(result.status, 1);
    assert.equal(
      result.stderr,
      "commit confirmed: no Confirm runs after a failed check; this host, and each host this update armed, reverts at about 2026-12-03T12:13:20Z. The stack's state holds the new inputs: after fixing the cause, run pulumi config set reapply 4, then pulumi up\n",
    );
    assert.equal(renderConnectivityCheck({ probes }).includes("armed_note"), false, "off: the script is as before");
  }),
);
