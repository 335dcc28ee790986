// A create or update that fails — a command failing after each change in turn, or the session
// dropping (SIGTERM, SIGHUP) — leaves the host exactly as it found it, and the next run converges.
// Real effects, in throw-away namespaces. The failure comes from stand-ins for `ip`, `iptables` and
// `sysctl` in /usr/local/sbin, the first directory of the PATH every script sets: each forwards to
// the real tool and, on the Nth call that changes something, fails (or signals the script) instead.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Subinterface } from "../../topology/types";
import { IP_FORWARD_SYSCTL_FILE } from "./persistence";
import { renderNatRouter } from "./natRouter";
import { renderPromiscuousMode } from "./promiscuousMode";
import { type HostSandbox, sandboxUnavailableReason, withHostSandbox } from "../../testing/hostSandbox";
import { host1Vlan10, seedRouter } from "../../testing/seed";
import { renderVlanSubinterface } from "./vlanSubinterface";
import type { HostScript } from "./shell";

const skip = sandboxUnavailableReason();

// /run/fault: "<tool|any> <n> <fail|TERM|HUP>"; /run/fault-calls counts changing calls per tool and in all.
const STAND_IN = `#!/bin/sh
tool=$(basename "$0")
changes=no
for arg in "$@"; do
  case "$tool:$arg" in
    ip:add | ip:del | ip:set | iptables:-A | iptables:-D | iptables:-I | sysctl:-w) changes=yes ;;
  esac
done
real=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$tool")
[ "$changes" = yes ] && [ -f /run/fault ] || exec "$real" "$@"
read -r target at action </run/fault
echo "$tool" >>/run/fault-calls
if [ "$target" = any ]; then n=$(wc -l </run/fault-calls); else n=$(grep -cx "$target" /run/fault-calls); fi
[ "$n" -eq "$at" ] && { [ "$target" = any ] || [ "$target" = "$tool" ]; } || exec "$real" "$@"
if [ "$action" = fail ]; then
  echo "stand-in $tool: injected failure of call $at: $*" >&2
  exit 1
fi
"$real" "$@"
kill -s "$action" "$PPID"
`;

function withFaultableHost(body: (box: HostSandbox) => void): Promise<void> {
  return withHostSandbox({ extraDirs: ["/usr/local/sbin"] }, (box) => {
    for (const tool of ["ip", "iptables", "sysctl"]) {
      box.writeFile(`/usr/local/sbin/${tool}`, STAND_IN, "0755");
    }
    box.exec("ip link add ens33 type veth peer name ovlpeer0\nip link set ovlpeer0 up");
    box.exec("ip link add ens33.10 type veth peer name ovlpeer1\nip link set ovlpeer1 up\nip link set ens33.10 up\nip link set ens33.10 down");
    box.primeFirewallTables();
    body(box);
  });
}

function runWithFault(box: HostSandbox, script: string, fault?: string): { status: number; stderr: string } {
  box.exec(fault === undefined ? "rm -f /run/fault /run/fault-calls" : `printf '%s\\n' '${fault}' >/run/fault; rm -f /run/fault-calls`);
  const result = box.run(script);
  box.exec("rm -f /run/fault /run/fault-calls");
  return result;
}

/** How many changing calls of ip/iptables/sysctl a clean run makes (counted by the stand-ins). */
function changingCalls(box: HostSandbox, script: string): number {
  box.exec("printf '%s\\n' 'any 0 fail' >/run/fault; rm -f /run/fault-calls");
  const result = box.run(script);
  assert.equal(result.status, 0, result.stderr);
  const count = Number(box.exec("[ -f /run/fault-calls ] && wc -l </run/fault-calls || echo 0").trim());
  box.exec("rm -f /run/fault /run/fault-calls");
  return count;
}

/**
 * From `start`: a run of `script` failing at each changing call in turn leaves the host at `start`,
 * and a clean run afterwards reaches `converged`; `reset` brings the host back to `start`.
 */
function failEachStepInTurn(box: HostSandbox, script: string, reset: () => void, action = "fail"): number {
  const start = box.snapshot();
  const steps = changingCalls(box, script);
  const converged = box.snapshot();
  reset();
  let failures = 0;
  for (let n = 1; n <= steps; n++) {
    const failed = runWithFault(box, script, `any ${n} ${action}`);
    if (failed.status === 0) {
      // A step with a fallback (ip_forward through /proc when sysctl fails) lets the run finish.
      assert.equal(box.snapshot(), converged, `call ${n}: a run that recovered from the failure converged`);
    } else {
      failures++;
      assert.equal(box.snapshot(), start, `call ${n} of ${steps} (${action}): the host is as the run found it\n${failed.stderr}`);
      assert.equal(runWithFault(box, script).status, 0, `call ${n}: the next run succeeds`);
      assert.equal(box.snapshot(), converged, `call ${n}: the next run converges`);
    }
    reset();
  }
  assert.ok(failures > 0, "some injected failure made the run fail");
  return steps;
}

const run = (box: HostSandbox, script: string) => {
  const result = runWithFault(box, script);
  assert.equal(result.status, 0, result.stderr);
};

const scripts: Array<[string, HostScript, number]> = [
  ["promiscuous mode", renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts" }), 1],
  ["vlan subinterface (network-scripts)", renderVlanSubinterface({ subinterface: host1Vlan10, persistence: "network-scripts" }), 2],
  ["nat router", renderNatRouter(seedRouter), 7],
];

for (const [what, script, expectedSteps] of scripts) {
  test(`${what}: a create failing at each change in turn leaves the host as it was; the next create converges`, { skip }, () =>
    withFaultableHost((box) => {
      const steps = failEachStepInTurn(box, script.create, () => run(box, script.delete));
      assert.ok(steps >= expectedSteps, `${steps} changing calls`);
    }),
  );
}

for (const signal of ["TERM", "HUP"]) {
  test(`a create whose session drops (SIG${signal}) after each change undoes what it did`, { skip }, () =>
    withFaultableHost((box) => {
      const vlan = renderVlanSubinterface({ subinterface: host1Vlan10, persistence: "network-scripts" });
      failEachStepInTurn(box, vlan.create, () => run(box, vlan.delete), signal);
    }),
  );
}

test("nat router: a create failing on its first iptables change leaves no ip_forward change and no sysctl file", { skip }, () =>
  withFaultableHost((box) => {
    const before = box.snapshot();
    const result = runWithFault(box, renderNatRouter(seedRouter).create, "iptables 1 fail");
    assert.equal(result.status, 1);
    assert.match(result.stderr, /stand-in iptables: injected failure of call 1: -w -t nat -I POSTROUTING 1 /);
    assert.equal(box.exec("cat /proc/sys/net/ipv4/ip_forward"), "0\n");
    assert.equal(box.run(`test -e ${IP_FORWARD_SYSCTL_FILE}`).status, 1);
    assert.equal(box.snapshot(), before);
  }),
);

test("vlan: an update to another address failing at each change leaves the old address and file; the next update converges", { skip }, () =>
  withFaultableHost((box) => {
    const first = renderVlanSubinterface({ subinterface: host1Vlan10, persistence: "network-scripts" });
    const moved: Subinterface = {
      ...host1Vlan10,
      address: { cidr: "192.168.22.12/24", address: "192.168.22.12", prefix: 24, network: "192.168.22.0" },
    };
    const second = renderVlanSubinterface({ subinterface: moved, persistence: "network-scripts" });
    run(box, first.create);
    const steps = failEachStepInTurn(box, second.create, () => {
      run(box, second.delete);
      run(box, first.create);
    });
    assert.ok(steps >= 2, `${steps} changing calls`);
  }),
);

test("nat router: an update to masquerade off removes only the MASQUERADE rules, ip_forward stays 1 throughout", { skip }, () =>
  withFaultableHost((box) => {
    const on = renderNatRouter(seedRouter);
    const off = renderNatRouter({ ...seedRouter, masquerade: false });
    run(box, on.create);
    const output = box.exec(off.create);
    assert.equal(
      output.split("\n").filter((line) => line.startsWith("iptables: removed")).join("\n"),
      [
        "iptables: removed (no longer wanted): -t nat -A POSTROUTING -o ens33.10 -m comment --comment macvlan-overlay -j MASQUERADE",
        "iptables: removed (no longer wanted): -t nat -A POSTROUTING -o ens33.20 -m comment --comment macvlan-overlay -j MASQUERADE",
      ].join("\n"),
    );
    assert.ok(!output.includes("ip_forward: 1 (was"), output);
    assert.equal(box.exec("cat /proc/sys/net/ipv4/ip_forward"), "1\n");
    const updated = box.snapshot();
    box.exec(off.create);
    assert.equal(box.snapshot(), updated, "a second update changes nothing");
    run(box, off.delete);
    assert.equal(box.exec("iptables-save | grep -c macvlan-overlay || true"), "0\n");
    assert.equal(box.exec("cat /proc/sys/net/ipv4/ip_forward"), "0\n");
  }),
);
