// The host shim for real, in host sandboxes: made on the VLAN link, converged in place (address,
// routes, parent), deleted exactly, never over a link it did not make; and the host reaches a
// macvlan "container" (a sibling macvlan moved into a second namespace) through it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { type HostSandbox, sandboxUnavailableReason, withHostSandbox } from "../../testing/hostSandbox";
import { shellcheckUnavailableReason } from "../../testing/prerequisites";
import { shellcheck } from "../../testing/shellcheck";
import { hostShimBootFragmentBody, hostShimDevice, hostShimStateFile, renderHostShim, renderHostShimDelete, shimDeviceOfRecord } from "./hostShim";

const skip = sandboxUnavailableReason();
const SHIM = { device: "mvo-shim10", parent: "ens33.10", address: "172.18.0.250", containerIps: ["172.18.0.3", "172.18.0.2"] };

function run(box: HostSandbox, script: string): string {
  const result = box.run("sh -s", { input: script });
  assert.equal(result.status, 0, `exit ${result.status}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** The shim as `ip` shows it: kind and parent, addresses, routes. */
function shimState(box: HostSandbox): string {
  const link = box.exec("ip -d -o link show dev mvo-shim10");
  const parent = /^\d+: mvo-shim10@([^:]+):/.exec(link)?.[1];
  const mode = / macvlan mode (\w+) /.exec(link)?.[1];
  const addresses = box.exec("ip -o -4 addr show dev mvo-shim10 | awk '{print $4}'").trim().split("\n").join(" ");
  const routes = box.exec("ip -4 route show dev mvo-shim10 | awk '{print $1}' | LC_ALL=C sort").trim().split("\n").join(" ");
  return `macvlan ${mode} on ${parent}, ${addresses}, routes ${routes}`;
}

function trunkWithTwoVlans(box: HostSandbox): void {
  // This kernel may lack 802.1Q: the VLAN links are veths, as a shim's parent they behave alike.
  box.exec("ip link add ens33.10 type veth peer name p10 && ip link add ens33.20 type veth peer name p20");
  box.exec("for l in p10 p20 ens33.10 ens33.20; do ip link set \"$l\" up; done");
}

test("names: the shim device, its record, and the device a record names", () => {
  assert.equal(hostShimDevice(4094), "mvo-shim4094");
  assert.equal(hostShimStateFile("mvo-shim10"), "/var/lib/macvlan-overlay/shim-mvo-shim10.before");
  assert.equal(shimDeviceOfRecord("shim-mvo-shim10.before"), "mvo-shim10");
  assert.equal(shimDeviceOfRecord("vlan-ens33.10.before"), undefined);
  assert.equal(shimDeviceOfRecord("shim-.before"), undefined);
});

test("the scripts and the boot fragment pass shellcheck", { skip: shellcheckUnavailableReason() }, () => {
  const script = renderHostShim(SHIM);
  for (const text of [script.create, script.delete, `#!/bin/sh\n${hostShimBootFragmentBody(SHIM)}`]) {
    const result = shellcheck(text);
    assert.ok(result.clean, `${text.split("\n")[1]}\n${result.output}`);
  }
});

test("the boot fragment makes the same shim again, each command tolerating what is there", () => {
  assert.equal(
    hostShimBootFragmentBody(SHIM),
    [
      "ip link show dev 'mvo-shim10' >/dev/null 2>&1 || ip link add link 'ens33.10' name 'mvo-shim10' type macvlan mode bridge",
      "ip addr replace '172.18.0.250/32' dev 'mvo-shim10'",
      "ip link set dev 'mvo-shim10' up",
      "ip route replace '172.18.0.2/32' dev 'mvo-shim10'",
      "ip route replace '172.18.0.3/32' dev 'mvo-shim10'",
      "",
    ].join("\n"),
  );
});

test("create makes the shim; again changes nothing; updates converge address, routes and parent; delete leaves the host as before", { skip }, () =>
  withHostSandbox({}, (box) => {
    trunkWithTwoVlans(box);
    const before = box.snapshot();
    run(box, renderHostShim(SHIM).create);
    assert.equal(shimState(box), "macvlan bridge on ens33.10, 172.18.0.250/32, routes 172.18.0.2 172.18.0.3");
    const made = box.snapshot();
    assert.match(run(box, renderHostShim(SHIM).create), /mvo-shim10: exists on ens33\.10/);
    assert.equal(box.snapshot(), made);

    run(box, renderHostShim({ ...SHIM, address: "172.18.0.251", containerIps: ["172.18.0.2", "172.18.0.4"] }).create);
    assert.equal(shimState(box), "macvlan bridge on ens33.10, 172.18.0.251/32, routes 172.18.0.2 172.18.0.4");
    run(box, renderHostShim({ ...SHIM, parent: "ens33.20", address: "172.18.0.251", containerIps: [] }).create);
    assert.equal(shimState(box), "macvlan bridge on ens33.20, 172.18.0.251/32, routes ");

    assert.match(run(box, renderHostShimDelete("mvo-shim10")), /mvo-shim10: deleted with its address and routes/);
    assert.equal(box.snapshot(), before);
    assert.match(run(box, renderHostShimDelete("mvo-shim10")), /mvo-shim10: no record of a create, left as it is/);
  }),
);

test("a link of the shim's name that the program did not make is refused and never deleted", { skip }, () =>
  withHostSandbox({}, (box) => {
    trunkWithTwoVlans(box);
    box.exec("ip link add link ens33.20 name mvo-shim10 type macvlan mode bridge");
    const before = box.snapshot();
    const result = box.run("sh -s", { input: renderHostShim(SHIM).create });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /error: mvo-shim10 exists and was not made by macvlan-overlay; refusing to change it/);
    assert.equal(box.snapshot(), before);
    run(box, renderHostShimDelete("mvo-shim10"));
    assert.equal(box.snapshot(), before);
  }),
);

test("a create that fails at its last route rolls back: no shim, no record", { skip }, () =>
  withHostSandbox({ extraDirs: ["/usr/local/sbin"] }, (box) => {
    trunkWithTwoVlans(box);
    const before = box.snapshot();
    // A stand-in `ip`, first in the scripts' PATH, that refuses the route to 172.18.0.3 only.
    box.writeFile("/usr/local/sbin/ip", '#!/bin/sh\ncase "$*" in "route add 172.18.0.3/32 "*) echo "refused" >&2; exit 2 ;; esac\nexec /sbin/ip "$@"\n', "0755");
    const result = box.run("sh -s", { input: renderHostShim(SHIM).create });
    assert.equal(result.status, 2, result.stdout + result.stderr);
    assert.match(result.stdout, /mvo-shim10: route to 172\.18\.0\.2 added/);
    assert.match(result.stderr, /rollback: the changes this run had made are undone/);
    box.exec("rm /usr/local/sbin/ip");
    assert.equal(box.snapshot(), before);
  }),
);

test("the host reaches a macvlan container on its VLAN through the shim", { skip }, () =>
  withHostSandbox({}, (host) =>
    withHostSandbox({}, (container) => {
      trunkWithTwoVlans(host);
      // The container's interface: a macvlan sibling of the shim, moved into the container's namespace.
      host.exec("ip link add link ens33.10 name ctr0 type macvlan mode bridge");
      const moved = spawnSync("ip", ["-n", host.name, "link", "set", "ctr0", "netns", container.name], { encoding: "utf8" });
      assert.equal(moved.status, 0, moved.stderr);
      container.exec("ip addr add 172.18.0.2/24 dev ctr0 && ip link set ctr0 up");
      assert.notEqual(host.run("ping -c 1 -W 1 172.18.0.2").status, 0, "no way in without the shim");
      run(host, renderHostShim({ ...SHIM, containerIps: ["172.18.0.2"] }).create);
      const ping = host.run("ping -c 2 -W 2 172.18.0.2");
      assert.equal(ping.status, 0, ping.stdout + ping.stderr);
      assert.match(ping.stdout, /2 packets transmitted, 2 received/);
    }),
  ),
);
