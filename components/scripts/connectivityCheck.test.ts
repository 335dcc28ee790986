import { test } from "node:test";
import assert from "node:assert/strict";
import { type Probe, renderConnectivityCheck } from "./connectivityCheck";
import { type HostSandbox, sandboxUnavailableReason, withHostSandbox } from "./testing/hostSandbox";

const skip = sandboxUnavailableReason();

const probes: Probe[] = [
  { from: "bbox10", to: "bbox30", toIp: "172.18.0.5", expectReachable: true },
  { from: "bbox10", to: "bbox40", toIp: "172.19.0.4", expectReachable: false },
  { from: "bbox20", to: "bbox40", toIp: "172.19.0.4", expectReachable: true },
  { from: "ghost", to: "bbox30", toIp: "172.18.0.5", expectReachable: false },
];

test("each probe becomes one quoted probe call, with the expectation spelled out", () => {
  const text = renderConnectivityCheck({ probes: probes.slice(0, 2) });
  const calls = text.split("\n").filter((line) => line.startsWith("probe "));
  assert.deepEqual(calls, [
    "probe 'bbox10' 'bbox30' '172.18.0.5' 'reachable'",
    "probe 'bbox10' 'bbox40' '172.19.0.4' 'unreachable'",
  ]);
  assert.match(text, /^PING_COUNT='3'$/m);
  assert.match(text, /^PING_TIMEOUT='2'$/m);
  assert.match(text, /docker exec "\$1" ping -c "\$PING_COUNT" -W "\$PING_TIMEOUT" "\$3"/);
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

// A stand-in for the docker CLI: bbox10 and bbox20 run; only 172.18.0.5 answers pings.
const FAKE_DOCKER = `#!/bin/sh
echo "$*" >>/run/docker-calls.log
case "$1" in
  inspect)
    case "$4" in
      bbox10 | bbox20) echo true ;;
      *) echo "Error: No such object: $4" >&2; exit 1 ;;
    esac
    ;;
  exec)
    [ "$3" = ping ] || exit 127
    [ "$8" = 172.18.0.5 ]
    ;;
  *) exit 64 ;;
esac
`;

function withFakeDocker(body: (box: HostSandbox) => void): Promise<void> {
  return withHostSandbox({ extraDirs: ["/usr/local/bin"] }, (box) => {
    box.writeFile("/usr/local/bin/docker", FAKE_DOCKER, "0755");
    body(box);
  });
}

test("every probe runs and prints its line; any differing result makes the exit status 1", { skip }, () =>
  withFakeDocker((box) => {
    const before = box.snapshot();
    const result = box.run(renderConnectivityCheck({ probes }));
    assert.equal(
      result.stdout,
      [
        "probe bbox10 -> bbox30 (172.18.0.5): expected reachable, got reachable",
        "probe bbox10 -> bbox40 (172.19.0.4): expected unreachable, got unreachable",
        "probe bbox20 -> bbox40 (172.19.0.4): expected reachable, got unreachable",
        "probe ghost -> bbox30 (172.18.0.5): expected unreachable, got error (container ghost is not running)",
        "connectivity: 2 of 4 probes differ from the expectation",
        "",
      ].join("\n"),
    );
    assert.equal(result.status, 1);
    assert.equal(result.stderr, "");
    assert.equal(
      box.exec("cat /run/docker-calls.log; rm /run/docker-calls.log"),
      [
        "inspect -f {{.State.Running}} bbox10",
        "exec bbox10 ping -c 3 -W 2 172.18.0.5",
        "inspect -f {{.State.Running}} bbox10",
        "exec bbox10 ping -c 3 -W 2 172.19.0.4",
        "inspect -f {{.State.Running}} bbox20",
        "exec bbox20 ping -c 3 -W 2 172.19.0.4",
        "inspect -f {{.State.Running}} ghost",
        "",
      ].join("\n"),
    );
    assert.equal(box.snapshot(), before, "the check changed nothing");
  }),
);

test("all probes as expected exits 0, with the chosen count and timeout", { skip }, () =>
  withFakeDocker((box) => {
    const result = box.run(renderConnectivityCheck({ probes: probes.slice(0, 2), count: 1, timeoutSeconds: 5 }));
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.stdout.endsWith("connectivity: all 2 probes as expected\n"), result.stdout);
    assert.match(box.exec("cat /run/docker-calls.log"), /^exec bbox10 ping -c 1 -W 5 172\.18\.0\.5$/m);
  }),
);
