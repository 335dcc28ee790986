import { test } from "node:test";
import assert from "node:assert/strict";
import type { Subinterface } from "../../topology/types";
import { MANAGED_MARKER } from "./managedFile";
import { persistenceBackend } from "./persistence";
import { type HostSandbox, sandboxUnavailableReason, trunkWithVethVlans, withHostSandbox } from "../../testing/hostSandbox";
import { bareVlan30, host1Vlan10, host1Vlan20 } from "../../testing/seed";
import { renderIfcfg, renderVlanSubinterface, VLAN_LINK_CREATED, vlanLinkMode, vlanStateFiles } from "./vlanSubinterface";

const skip = sandboxUnavailableReason();
const IFCFG_10 = "/etc/sysconfig/network-scripts/ifcfg-ens33.10";
const withFiles = renderVlanSubinterface({ subinterface: host1Vlan10, persistence: "network-scripts" });

test("renderIfcfg gives the seed's ifcfg-ens33.10 for host 1, value for value, under the marker", () => {
  assert.equal(
    renderIfcfg(host1Vlan10),
    [
      "# Managed by macvlan-overlay; removed by pulumi destroy.",
      "BOOTPROTO=none",
      "NAME=ens33.10",
      "DEVICE=ens33.10",
      "ONBOOT=yes",
      "IPADDR=192.168.22.10",
      "NETWORK=192.168.22.0",
      "PREFIX=24",
      "VLAN=yes",
      "",
    ].join("\n"),
  );
});

test("renderIfcfg leaves out IPADDR, NETWORK and PREFIX when the host has no address on the VLAN", () => {
  assert.equal(
    renderIfcfg(bareVlan30),
    `${MANAGED_MARKER}\nBOOTPROTO=none\nNAME=ens33.30\nDEVICE=ens33.30\nONBOOT=yes\nVLAN=yes\n`,
  );
});

test("network-scripts owns exactly the ifcfg file; none owns no interface file", () => {
  assert.deepEqual(persistenceBackend("network-scripts").vlanFiles(host1Vlan10), [
    { path: IFCFG_10, content: renderIfcfg(host1Vlan10) },
  ]);
  assert.deepEqual(persistenceBackend("none").vlanFiles(host1Vlan10), []);
  const none = renderVlanSubinterface({ subinterface: host1Vlan10, persistence: "none" });
  // `none` writes no file; it only removes, if it is ours, the ifcfg file an earlier network-scripts version wrote.
  assert.ok(!`${none.create}${none.delete}`.includes("put_file"));
  for (const text of [none.create, none.delete]) {
    assert.ok(text.includes(`\nSTALE_FILE_1='${IFCFG_10}'\n`), text);
    assert.ok(text.includes('\ndrop_stale_file "$STALE_FILE_1"\n'), text);
  }
  assert.ok(!`${none.create}${none.delete}`.includes("ifup"));
});

test("vlanLinkMode reads how create got the link from its output", () => {
  assert.deepEqual(vlanLinkMode(`ens33.10: ${VLAN_LINK_CREATED}\n`, "ens33.10"), { mode: "created" });
  assert.deepEqual(vlanLinkMode("x\nens33.10: vlan link: adopted existing veth\n", "ens33.10"), {
    mode: "adopted",
    linkType: "veth",
  });
  assert.deepEqual(vlanLinkMode("ens33.10: vlan link: exists (made by an earlier create)\n", "ens33.10"), { mode: "kept" });
  assert.equal(vlanLinkMode("ens33.20: vlan link: adopted existing veth\n", "ens33.10"), undefined);
});

test("state records are named for the device inside STATE_DIR", () => {
  assert.deepEqual(vlanStateFiles("ens33.10"), {
    before: "/var/lib/macvlan-overlay/vlan-ens33.10.before",
    address: "/var/lib/macvlan-overlay/vlan-ens33.10.address",
  });
});

function run(box: HostSandbox, text: string, shell = "sh"): string {
  const result = box.run(text, { shell });
  assert.equal(result.status, 0, `exit ${result.status}\n${result.stdout}${result.stderr}`);
  assert.equal(result.stderr, "");
  return result.stdout;
}

function lines(...items: string[]): string {
  return items.map((item) => `${item}\n`).join("");
}

function has8021q(box: HostSandbox): boolean {
  const probe = box.run("ip link add link ens33 name ovltestq type vlan id 4000");
  if (probe.status === 0) {
    box.exec("ip link del ovltestq");
    return true;
  }
  return false;
}

for (const shell of ["sh", "bash"]) {
  test(`vlan (${shell}): create adopts an existing veth, a second create changes nothing, delete restores`, { skip }, () =>
    withHostSandbox({}, (box) => {
      trunkWithVethVlans(box, ["ens33.10"]);
      const before = box.snapshot();

      const first = run(box, withFiles.create, shell);
      assert.equal(
        first,
        lines(
          "ens33.10: recorded previous state (link present, down)",
          "ens33.10: vlan link: adopted existing veth",
          "/etc/sysconfig/network-scripts: directory created",
          `${IFCFG_10}: written`,
          "ens33.10: address 192.168.22.10/24 added",
          "ens33.10: up (was down)",
        ),
      );
      assert.deepEqual(vlanLinkMode(first, "ens33.10"), { mode: "adopted", linkType: "veth" });
      assert.match(box.exec("ip -o -4 addr show dev ens33.10"), /^\d+: ens33\.10 +inet 192\.168\.22\.10\/24 scope global ens33\.10/);
      assert.match(box.exec("ip -o link show dev ens33.10"), /<[^>]*,UP,[^>]*>/);
      assert.equal(box.exec(`cat ${IFCFG_10}`), renderIfcfg(host1Vlan10));
      assert.equal(box.exec(`stat -c %a ${IFCFG_10}`), "644\n");
      assert.equal(box.exec(`cat ${vlanStateFiles("ens33.10").before}`), "link=present\nup=no\n");
      assert.equal(box.exec(`cat ${vlanStateFiles("ens33.10").address}`), "192.168.22.10/24\n");
      const created = box.snapshot();

      assert.equal(
        run(box, withFiles.create, shell),
        lines(
          "ens33.10: vlan link: adopted existing veth",
          `${IFCFG_10}: unchanged`,
          "ens33.10: address 192.168.22.10/24 already present",
          "ens33.10: already up",
        ),
      );
      assert.equal(box.snapshot(), created, "a second create changes nothing");

      assert.equal(
        run(box, withFiles.delete, shell),
        lines(
          "ens33.10: address 192.168.22.10/24 removed",
          "ens33.10: down (restored), link kept (it existed before create)",
          `${IFCFG_10}: removed`,
          "/etc/sysconfig/network-scripts: directory removed (create made it)",
        ),
      );
      assert.equal(box.snapshot(), before, "delete restores the state before create");

      assert.equal(
        run(box, withFiles.delete, shell),
        lines("ens33.10: no record of a create, link left as it is", `${IFCFG_10}: already absent`),
      );
      assert.equal(box.snapshot(), before, "a second delete changes nothing");
    }),
  );
}

test("vlan: a never-up adopted link differs after delete only by the default qdisc the kernel gave it", { skip }, () =>
  withHostSandbox({}, (box) => {
    trunkWithVethVlans(box, ["ens33.10"], { everUp: false });
    const before = box.snapshot();
    const neverUp = "ens33.10@ovlpeer1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN";
    assert.ok(before.includes(neverUp), before);
    run(box, withFiles.create);
    run(box, withFiles.delete);
    const after = box.snapshot();
    assert.notEqual(after, before);
    assert.equal(after, before.replace(neverUp, neverUp.replace("qdisc noop", "qdisc noqueue")));
  }),
);

test("vlan: an adopted link that was already up with the address keeps both after delete", { skip }, () =>
  withHostSandbox({}, (box) => {
    trunkWithVethVlans(box, ["ens33.10"]);
    box.exec("ip addr add 192.168.22.10/24 dev ens33.10\nip link set ens33.10 up");
    const before = box.snapshot();
    assert.equal(
      run(box, withFiles.create),
      lines(
        "ens33.10: recorded previous state (link present, up)",
        "ens33.10: vlan link: adopted existing veth",
        "/etc/sysconfig/network-scripts: directory created",
        `${IFCFG_10}: written`,
        "ens33.10: address 192.168.22.10/24 already present",
        "ens33.10: already up",
      ),
    );
    assert.equal(box.run(`test -e ${vlanStateFiles("ens33.10").address}`).status, 1, "no address recorded as added");
    assert.equal(
      run(box, withFiles.delete),
      lines(
        "ens33.10: link kept (it existed before create)",
        `${IFCFG_10}: removed`,
        "/etc/sysconfig/network-scripts: directory removed (create made it)",
      ),
    );
    assert.equal(box.snapshot(), before);
  }),
);

test("vlan: with persistence none nothing is written outside STATE_DIR and delete restores", { skip }, () =>
  withHostSandbox({}, (box) => {
    const none = renderVlanSubinterface({ subinterface: host1Vlan10, persistence: "none" });
    trunkWithVethVlans(box, ["ens33.10"]);
    const before = box.snapshot();
    assert.equal(
      run(box, none.create),
      lines(
        "ens33.10: recorded previous state (link present, down)",
        "ens33.10: vlan link: adopted existing veth",
        "ens33.10: address 192.168.22.10/24 added",
        "ens33.10: up (was down)",
      ),
    );
    assert.equal(box.exec("find /etc/sysconfig /etc/sysctl.d -mindepth 1"), "");
    const created = box.snapshot();
    run(box, none.create);
    assert.equal(box.snapshot(), created);
    run(box, none.delete);
    assert.equal(box.snapshot(), before);
  }),
);

test("vlan: a subinterface without an address gets no address and an ifcfg without IPADDR", { skip }, () =>
  withHostSandbox({}, (box) => {
    const bare = renderVlanSubinterface({ subinterface: bareVlan30, persistence: "network-scripts" });
    trunkWithVethVlans(box, ["ens33.30"]);
    const before = box.snapshot();
    assert.equal(
      run(box, bare.create),
      lines(
        "ens33.30: recorded previous state (link present, down)",
        "ens33.30: vlan link: adopted existing veth",
        "/etc/sysconfig/network-scripts: directory created",
        "/etc/sysconfig/network-scripts/ifcfg-ens33.30: written",
        "ens33.30: up (was down)",
      ),
    );
    assert.equal(box.exec("ip -o -4 addr show dev ens33.30"), "");
    assert.equal(box.exec("cat /etc/sysconfig/network-scripts/ifcfg-ens33.30"), renderIfcfg(bareVlan30));
    run(box, bare.delete);
    assert.equal(box.snapshot(), before);
  }),
);

test("vlan: a foreign ifcfg file of the same name makes create fail and stay untouched", { skip }, () =>
  withHostSandbox({}, (box) => {
    trunkWithVethVlans(box, ["ens33.10"]);
    box.writeFile(IFCFG_10, "DEVICE=ens33.10\nONBOOT=yes\n");
    const before = box.snapshot();
    const result = box.run(withFiles.create);
    assert.equal(result.status, 1);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      `error: ${IFCFG_10} exists and is not managed by macvlan-overlay (no marker line); refusing to change it\n`,
    );
    assert.equal(box.snapshot(), before, "nothing changed, not even a state record");
    assert.equal(
      run(box, withFiles.delete),
      lines("ens33.10: no record of a create, link left as it is", `${IFCFG_10}: not ours (no marker line), left in place`),
    );
    assert.equal(box.snapshot(), before);
  }),
);

test("vlan: our ifcfg file with other content is rewritten, and only it", { skip }, () =>
  withHostSandbox({}, (box) => {
    trunkWithVethVlans(box, ["ens33.10"]);
    const stale = `${MANAGED_MARKER}\nDEVICE=ens33.10\nIPADDR=10.9.9.9\n`;
    box.writeFile(IFCFG_10, stale);
    const before = box.snapshot();
    const output = run(box, withFiles.create);
    assert.ok(output.includes(`${IFCFG_10}: rewritten (content differed)\n`), output);
    assert.ok(!output.includes("directory created"), "the directory existed");
    assert.equal(box.exec(`cat ${IFCFG_10}`), renderIfcfg(host1Vlan10));
    assert.equal(box.exec("ls -A /etc/sysconfig/network-scripts"), "ifcfg-ens33.10\n", "no temporary file left");
    run(box, withFiles.delete);
    assert.equal(box.run(`test -e ${IFCFG_10}`).status, 1, "delete removes our file");
    box.writeFile(IFCFG_10, stale);
    assert.equal(box.snapshot(), before, "apart from that file, delete restored everything");
  }),
);

test("vlan: two subinterfaces share the directory create made; it goes with the last delete", { skip }, () =>
  withHostSandbox({}, (box) => {
    const twenty = renderVlanSubinterface({ subinterface: host1Vlan20, persistence: "network-scripts" });
    trunkWithVethVlans(box, ["ens33.10", "ens33.20"]);
    const before = box.snapshot();
    run(box, withFiles.create);
    const second = run(box, twenty.create);
    assert.ok(!second.includes("directory created"), second);
    const firstDelete = run(box, withFiles.delete);
    assert.ok(firstDelete.endsWith("/etc/sysconfig/network-scripts: still in use, left in place\n"), firstDelete);
    assert.equal(box.exec("ls -A /etc/sysconfig/network-scripts"), "ifcfg-ens33.20\n");
    const lastDelete = run(box, twenty.delete);
    assert.ok(lastDelete.endsWith("/etc/sysconfig/network-scripts: directory removed (create made it)\n"), lastDelete);
    assert.equal(box.snapshot(), before);
  }),
);

test("vlan: an update to another address swaps it, and delete still restores the start", { skip }, () =>
  withHostSandbox({}, (box) => {
    const moved: Subinterface = {
      ...host1Vlan10,
      address: { cidr: "192.168.22.12/24", address: "192.168.22.12", prefix: 24, network: "192.168.22.0" },
    };
    const updated = renderVlanSubinterface({ subinterface: moved, persistence: "network-scripts" });
    trunkWithVethVlans(box, ["ens33.10"]);
    const before = box.snapshot();
    run(box, withFiles.create);
    const output = run(box, updated.create);
    assert.ok(output.includes("ens33.10: address 192.168.22.10/24 removed\n"), output);
    assert.ok(output.includes("ens33.10: address 192.168.22.12/24 added\n"), output);
    assert.ok(output.includes(`${IFCFG_10}: rewritten (content differed)\n`), output);
    assert.equal(box.exec("ip -o -4 addr show dev ens33.10").match(/inet \S+/g)?.join(","), "inet 192.168.22.12/24");
    run(box, updated.delete);
    assert.equal(box.snapshot(), before);
  }),
);

test("vlan: a missing parent fails clearly and changes nothing", { skip }, () =>
  withHostSandbox({}, (box) => {
    box.primeFirewallTables();
    const before = box.snapshot();
    const result = box.run(withFiles.create);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, "error: ens33.10: parent interface ens33 does not exist\n");
    assert.equal(box.snapshot(), before);
  }),
);

test("vlan: without kernel 802.1Q, create of a missing link fails clearly and leaves nothing behind", { skip }, (t) =>
  withHostSandbox({}, (box) => {
    trunkWithVethVlans(box, []);
    if (has8021q(box)) {
      t.skip("this kernel has 802.1Q; the create path is tested instead");
      return;
    }
    const before = box.snapshot();
    const result = box.run(withFiles.create);
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /^error: ens33\.10: cannot create the 802\.1Q link on ens33: .+ \(does the kernel have 802\.1Q, module 8021q\?\)\nrollback: the changes this run had made are undone\n$/,
    );
    assert.equal(box.snapshot(), before, "the failed first create rolled back its record");
  }),
);

test("vlan: with kernel 802.1Q, create makes the link and delete removes it", { skip }, (t) =>
  withHostSandbox({}, (box) => {
    trunkWithVethVlans(box, []);
    if (!has8021q(box)) {
      t.skip("this kernel lacks 802.1Q (CONFIG_VLAN_8021Q unset)");
      return;
    }
    const before = box.snapshot();
    const first = run(box, withFiles.create);
    assert.deepEqual(vlanLinkMode(first, "ens33.10"), { mode: "created" });
    assert.match(box.exec("ip -d -o link show dev ens33.10"), / vlan protocol 802\.1Q id 10 /);
    const created = box.snapshot();
    assert.deepEqual(vlanLinkMode(run(box, withFiles.create), "ens33.10"), { mode: "kept" });
    assert.equal(box.snapshot(), created);
    run(box, withFiles.delete);
    assert.equal(box.snapshot(), before);
  }),
);

// A stand-in for RHEL's ifup/ifdown: reads the ifcfg file like network-scripts does and makes the link
// (a veth, as this kernel has no 802.1Q). Logs each call so the test sees which path the script took.
const FAKE_IFUP = `#!/bin/sh
set -eu
echo "ifup $1" >>/run/ifup-calls.log
. "/etc/sysconfig/network-scripts/ifcfg-$1"
ip link add "$DEVICE" type veth peer name ovlpeer-ifup
ip addr add "$IPADDR/$PREFIX" dev "$DEVICE"
ip link set dev "$DEVICE" up
`;
const FAKE_IFDOWN = `#!/bin/sh
set -eu
echo "ifdown $1" >>/run/ifup-calls.log
ip link del "$1"
`;

test("vlan: on a network-scripts host (ifup-eth and ifup present) create brings the link up with ifup", { skip }, () =>
  withHostSandbox({ extraDirs: ["/usr/local/sbin"] }, (box) => {
    trunkWithVethVlans(box, []);
    box.writeFile("/etc/sysconfig/network-scripts/ifup-eth", "", "0755");
    box.writeFile("/usr/local/sbin/ifup", FAKE_IFUP, "0755");
    box.writeFile("/usr/local/sbin/ifdown", FAKE_IFDOWN, "0755");
    const calls = () => box.exec("cat /run/ifup-calls.log; rm -f /run/ifup-calls.log");
    const before = box.snapshot();

    const first = run(box, withFiles.create);
    assert.equal(
      first,
      lines(
        "ens33.10: recorded previous state (link absent)",
        `${IFCFG_10}: written`,
        "ens33.10: vlan link: created (802.1Q)",
        "ens33.10: brought up by ifup",
        "ens33.10: address 192.168.22.10/24 already present",
        "ens33.10: already up",
      ),
    );
    assert.equal(calls(), "ifup ens33.10\n");
    const created = box.snapshot();
    assert.equal(
      run(box, withFiles.create),
      lines(
        "ens33.10: vlan link: exists (made by an earlier create)",
        `${IFCFG_10}: unchanged`,
        "ens33.10: address 192.168.22.10/24 already present",
        "ens33.10: already up",
      ),
    );
    assert.equal(box.run("test -e /run/ifup-calls.log").status, 1, "no second ifup");
    assert.equal(box.snapshot(), created);

    assert.equal(run(box, withFiles.delete), lines("ens33.10: vlan link deleted (create made it)", `${IFCFG_10}: removed`));
    assert.equal(calls(), "ifdown ens33.10\n");
    assert.equal(box.snapshot(), before);
  }),
);

/**
 * The script cut just before `line`, its rollback trap dropped: what a create killed by SIGKILL at
 * that point (the one signal no trap sees) has done.
 */
function cutBefore(text: string, line: string): string {
  const at = text.split("\n").indexOf(line);
  assert.ok(at > 0, `no line ${line}`);
  return `${text.split("\n").slice(0, at).join("\n")}\ntrap - EXIT\n`;
}

test("vlan: delete after a create killed (SIGKILL) before the address step restores the start", { skip }, () =>
  withHostSandbox({}, (box) => {
    trunkWithVethVlans(box, ["ens33.10"]);
    const before = box.snapshot();
    const partial = cutBefore(withFiles.create, 'if [ -f "$ADDED" ] && ! recorded "$ADDED" "$ADDRESS"; then');
    assert.equal(
      run(box, partial),
      lines(
        "ens33.10: recorded previous state (link present, down)",
        "ens33.10: vlan link: adopted existing veth",
        "/etc/sysconfig/network-scripts: directory created",
        `${IFCFG_10}: written`,
      ),
    );
    assert.equal(
      run(box, withFiles.delete),
      lines(
        "ens33.10: link kept (it existed before create)",
        `${IFCFG_10}: removed`,
        "/etc/sysconfig/network-scripts: directory removed (create made it)",
      ),
    );
    assert.equal(box.snapshot(), before);
    run(box, partial);
    run(box, withFiles.create);
    run(box, withFiles.delete);
    assert.equal(box.snapshot(), before, "a full create after a partial one is still undone exactly");
  }),
);

test("vlan: the two VLAN creates of a host run in parallel without a shared record, and so do their deletes", { skip }, () =>
  withHostSandbox({}, (box) => {
    const twenty = renderVlanSubinterface({ subinterface: host1Vlan20, persistence: "network-scripts" });
    trunkWithVethVlans(box, ["ens33.10", "ens33.20"]);
    const before = box.snapshot();
    box.writeFile("/run/create10", withFiles.create);
    box.writeFile("/run/create20", twenty.create);
    box.writeFile("/run/delete10", withFiles.delete);
    box.writeFile("/run/delete20", twenty.delete);
    let created: string | undefined;
    for (let round = 0; round < 5; round++) {
      // Which of the two prints "directory created" is a race: their output stays out of the snapshot.
      box.exec("sh /run/create10 >/dev/null & a=$!; sh /run/create20 >/dev/null & b=$!; wait $a && wait $b");
      assert.equal(
        box.exec("ls /var/lib/macvlan-overlay | grep -v '^create[0-9]*$' | grep created-dir"),
        "created-dir_etc_sysconfig_network-scripts@vlan-ens33.10\ncreated-dir_etc_sysconfig_network-scripts@vlan-ens33.20\n",
      );
      const now = box.snapshot();
      assert.equal(now, created ?? now, `round ${round}: parallel creates reach the same state`);
      created = now;
      box.exec("sh /run/delete10 >/dev/null & a=$!; sh /run/delete20 >/dev/null & b=$!; wait $a && wait $b");
      assert.equal(box.run("test -e /var/lib/macvlan-overlay").status, 1, `round ${round}: no record left, and the state folder is gone`);
      assert.equal(box.run("test -e /etc/sysconfig/network-scripts").status, 1, `round ${round}: the directory the creates made is gone`);
    }
    box.exec("rm -f /run/create10 /run/create20 /run/delete10 /run/delete20");
    assert.equal(box.snapshot(), before);
  }),
);
