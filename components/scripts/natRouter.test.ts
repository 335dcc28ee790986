import { test } from "node:test";
import assert from "node:assert/strict";
import { MANAGED_MARKER } from "./managedFile";
import { describeRule, NAT_ROUTER_STATE_FILE, renderNatRouter, type RouterRule, routerRules } from "./natRouter";
import { IP_FORWARD_SYSCTL_FILE, persistenceBackend } from "./persistence";
import { type HostSandbox, sandboxUnavailableReason, withHostSandbox } from "../../testing/hostSandbox";
import { seedRouter } from "../../testing/seed";

const skip = sandboxUnavailableReason();
const script = renderNatRouter(seedRouter);
const rules = routerRules(seedRouter);

test("the seed router's rules: 2 MASQUERADE then 4 FORWARD, in the seed's order, tagged", () => {
  assert.deepEqual(rules.map(describeRule), [
    "-t nat -A POSTROUTING -o ens33.10 -m comment --comment macvlan-overlay -j MASQUERADE",
    "-t nat -A POSTROUTING -o ens33.20 -m comment --comment macvlan-overlay -j MASQUERADE",
    "-t filter -A FORWARD -i ens33.10 -o ens33.20 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment macvlan-overlay -j ACCEPT",
    "-t filter -A FORWARD -i ens33.20 -o ens33.10 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment macvlan-overlay -j ACCEPT",
    "-t filter -A FORWARD -i ens33.10 -o ens33.20 -m comment --comment macvlan-overlay -j ACCEPT",
    "-t filter -A FORWARD -i ens33.20 -o ens33.10 -m comment --comment macvlan-overlay -j ACCEPT",
  ]);
  assert.deepEqual(rules[0], {
    table: "nat",
    chain: "POSTROUTING",
    spec: ["-o", "ens33.10", "-m", "comment", "--comment", "macvlan-overlay", "-j", "MASQUERADE"],
  });
});

test("without masquerade only the FORWARD rules remain", () => {
  assert.deepEqual(
    routerRules({ interfaces: seedRouter.interfaces, masquerade: false }).map(describeRule),
    rules.slice(2).map(describeRule),
  );
});

test("three interfaces give every ordered pair, established rules first", () => {
  const pairs = routerRules({ interfaces: ["a", "b", "c"], masquerade: false }).map((rule) =>
    `${rule.spec[1]}>${rule.spec[3]}${rule.spec.includes("conntrack") ? " est" : ""}`,
  );
  assert.deepEqual(pairs, [
    "a>b est", "a>c est", "b>a est", "b>c est", "c>a est", "c>b est",
    "a>b", "a>c", "b>a", "b>c", "c>a", "c>b",
  ]);
});

test("repeated router interfaces are refused", () => {
  assert.throws(() => routerRules({ interfaces: ["ens33.10", "ens33.10"], masquerade: true }), /distinct/);
});

test("iptables rules are declared not persisted by every backend; ip_forward is", () => {
  for (const persistence of ["network-scripts", "none"] as const) {
    assert.equal(persistenceBackend(persistence).persists.iptables, false);
    assert.equal(persistenceBackend(persistence).persists.ipForward, true);
    assert.deepEqual(persistenceBackend(persistence).ipForwardFiles(), [
      { path: IP_FORWARD_SYSCTL_FILE, content: `${MANAGED_MARKER}\nnet.ipv4.ip_forward = 1\n` },
    ]);
  }
  assert.equal(IP_FORWARD_SYSCTL_FILE, "/etc/sysctl.d/90-macvlan-overlay.conf");
});

function run(box: HostSandbox, text: string, shell = "sh"): string {
  const result = box.run(text, { shell });
  assert.equal(result.status, 0, `exit ${result.status}\n${result.stdout}${result.stderr}`);
  assert.equal(result.stderr, "");
  return result.stdout;
}

function ruleLines(verb: string, list: readonly RouterRule[]): string[] {
  return list.map((rule) => `iptables: ${verb}: ${describeRule(rule)}\n`);
}

/** Our rules as iptables-save prints them, per table, in chain order. */
function savedRules(box: HostSandbox): string {
  return box.exec("iptables-save | grep -e '^\\*' -e 'macvlan-overlay'");
}

function expectedSavedRules(list: readonly RouterRule[]): string {
  const table = (name: string) => [
    `*${name}\n`,
    ...list.filter((rule) => rule.table === name).map((rule) => `-A ${rule.chain} ${rule.spec.join(" ")}\n`),
  ];
  return [...table("filter"), ...table("nat")].join("");
}

for (const shell of ["sh", "bash"]) {
  test(`nat router (${shell}): create sets ip_forward and the rules, a second create changes nothing, delete restores`, { skip }, () =>
    withHostSandbox({ ipForward: "0" }, (box) => {
      box.primeFirewallTables();
      const before = box.snapshot();

      assert.equal(
        run(box, script.create, shell),
        [
          "ip_forward: recorded previous value 0\n",
          `${IP_FORWARD_SYSCTL_FILE}: written\n`,
          "ip_forward: 1 (was 0)\n",
          ...ruleLines("added", rules),
        ].join(""),
      );
      assert.equal(savedRules(box), expectedSavedRules(rules));
      assert.equal(box.exec(`cat ${IP_FORWARD_SYSCTL_FILE}`), `${MANAGED_MARKER}\nnet.ipv4.ip_forward = 1\n`);
      assert.equal(box.exec("cat /proc/sys/net/ipv4/ip_forward"), "1\n");
      assert.equal(box.exec(`cat ${NAT_ROUTER_STATE_FILE}`), "ip_forward=0\n");
      const created = box.snapshot();

      assert.equal(
        run(box, script.create, shell),
        [`${IP_FORWARD_SYSCTL_FILE}: unchanged\n`, "ip_forward: already 1\n", ...ruleLines("exists", rules)].join(""),
      );
      assert.equal(box.snapshot(), created, "a second create changes nothing");

      assert.equal(
        run(box, script.delete, shell),
        [...ruleLines("removed", [...rules].reverse()), `${IP_FORWARD_SYSCTL_FILE}: removed\n`, "ip_forward: 0 (restored)\n"].join(""),
      );
      assert.equal(box.snapshot(), before, "delete restores the state before create");

      assert.equal(
        run(box, script.delete, shell),
        [
          ...ruleLines("already absent", [...rules].reverse()),
          `${IP_FORWARD_SYSCTL_FILE}: already absent\n`,
          "ip_forward: no record of a create, left at 0\n",
        ].join(""),
      );
      assert.equal(box.snapshot(), before, "a second delete changes nothing");
    }),
  );
}

test("nat router: ip_forward 1 before create stays 1 after delete", { skip }, () =>
  withHostSandbox({ ipForward: "1" }, (box) => {
    box.primeFirewallTables();
    const before = box.snapshot();
    const output = run(box, script.create);
    assert.ok(output.startsWith(`ip_forward: recorded previous value 1\n${IP_FORWARD_SYSCTL_FILE}: written\nip_forward: already 1\n`), output);
    assert.equal(box.exec(`cat ${NAT_ROUTER_STATE_FILE}`), "ip_forward=1\n");
    assert.ok(run(box, script.delete).endsWith("ip_forward: already 1\n"));
    assert.equal(box.exec("cat /proc/sys/net/ipv4/ip_forward"), "1\n");
    assert.equal(box.snapshot(), before);
  }),
);

test("nat router: delete removes a rule added twice by hand, and leaves other rules alone", { skip }, () =>
  withHostSandbox({}, (box) => {
    box.primeFirewallTables();
    box.exec("iptables -w -A FORWARD -i ens33.10 -o eth9 -j ACCEPT\niptables -w -t nat -A POSTROUTING -o eth9 -j MASQUERADE");
    const before = box.snapshot();
    run(box, script.create);
    box.exec(`iptables -w -t nat -A POSTROUTING ${rules[0].spec.join(" ")}`);
    assert.equal(box.exec(`iptables-save -t nat | grep -c -- '-o ens33.10 .*macvlan-overlay'`), "2\n");
    run(box, script.delete);
    assert.equal(box.snapshot(), before);
  }),
);

test("nat router: a foreign sysctl file of our name makes create fail and stay untouched", { skip }, () =>
  withHostSandbox({}, (box) => {
    box.primeFirewallTables();
    box.writeFile(IP_FORWARD_SYSCTL_FILE, "net.ipv4.ip_forward = 0\n");
    const before = box.snapshot();
    const result = box.run(script.create);
    assert.equal(result.status, 1);
    assert.equal(
      result.stderr,
      `error: ${IP_FORWARD_SYSCTL_FILE} exists and is not managed by macvlan-overlay (no marker line); refusing to change it\n`,
    );
    assert.equal(box.snapshot(), before);
  }),
);

test("nat router: without a working sysctl binary, ip_forward is written to /proc directly", { skip }, () =>
  withHostSandbox({}, (box) => {
    box.primeFirewallTables();
    // Inside the sandbox's own mount namespace only: a non-executable file over sysctl.
    box.exec("touch /run/no-sysctl && mount --bind /run/no-sysctl /usr/sbin/sysctl");
    assert.notEqual(box.run("sysctl -n net.ipv4.ip_forward").status, 0, "sysctl is really unusable");
    assert.ok(run(box, script.create).includes("ip_forward: 1 (was 0)\n"));
    assert.equal(box.exec("cat /proc/sys/net/ipv4/ip_forward"), "1\n");
    assert.ok(run(box, script.delete).endsWith("ip_forward: 0 (restored)\n"));
    assert.equal(box.exec("cat /proc/sys/net/ipv4/ip_forward"), "0\n");
  }),
);

test("nat router: in a brand-new netns the only trace left is the empty tables iptables-nft made, which priming accounts for", { skip }, async () => {
  const unprimed = await withHostSandbox({}, (box) => {
    const before = box.snapshot();
    assert.ok(!before.includes("*nat") && !before.includes("*filter"), "a new netns has no tables at all");
    box.exec("iptables -w -S >/dev/null\niptables -w -t nat -S >/dev/null");
    assert.equal(box.snapshot(), before, "listing the rules does not create the tables (iptables-nft 1.8.9)");
    run(box, script.create);
    run(box, script.delete);
    const after = box.snapshot();
    assert.notEqual(after, before);
    return after;
  });
  const primedOnly = await withHostSandbox({}, (box) => {
    box.primeFirewallTables();
    return box.snapshot();
  });
  assert.equal(unprimed, primedOnly, "after create+delete the netns looks exactly like one that was only primed");
});

test("nat router: the machine's own ip_forward is untouched while the sandbox's changes", { skip }, async () => {
  const { execFileSync } = await import("node:child_process");
  const read = () => execFileSync("cat", ["/proc/sys/net/ipv4/ip_forward"], { encoding: "utf8" });
  const forwardBefore = read();
  await withHostSandbox({ ipForward: "0" }, (box) => {
    box.primeFirewallTables();
    run(box, script.create);
    assert.equal(read(), forwardBefore);
    run(box, script.delete);
  });
  assert.equal(read(), forwardBefore);
});

// A stand-in iptables, first in the scripts' PATH, that SIGKILLs the script (the one signal no trap
// sees) as it is about to insert its third rule.
const KILL_AT_THIRD_INSERT = `#!/bin/sh
case " $* " in
  *" -I "*)
    echo insert >>/run/inserts
    [ "$(wc -l </run/inserts)" -ne 3 ] || { kill -KILL "$PPID"; exit 1; }
    ;;
esac
exec "$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v iptables)" "$@"
`;

test("nat router: delete after a create killed (SIGKILL) after two rules restores the start", { skip }, () =>
  withHostSandbox({ extraDirs: ["/usr/local/sbin"] }, (box) => {
    box.primeFirewallTables();
    box.writeFile("/usr/local/sbin/iptables", KILL_AT_THIRD_INSERT, "0755");
    const before = box.snapshot();
    const killed = box.run(script.create);
    box.exec("rm /run/inserts");
    assert.notEqual(killed.status, 0, "the create was killed");
    assert.equal(savedRules(box), expectedSavedRules(rules.slice(0, 2)));
    assert.equal(
      run(box, script.delete),
      [
        ...ruleLines("already absent", rules.slice(2).reverse()),
        ...ruleLines("removed", rules.slice(0, 2).reverse()),
        `${IP_FORWARD_SYSCTL_FILE}: removed\n`,
        "ip_forward: 0 (restored)\n",
      ].join(""),
    );
    assert.equal(box.snapshot(), before);
  }),
);

test("nat router: a chain that ends in REJECT gets our rules ahead of it, in order, and keeps its own after delete", { skip }, () =>
  withHostSandbox({}, (box) => {
    box.primeFirewallTables();
    box.exec("iptables -A FORWARD -j REJECT");
    const before = box.snapshot();
    run(box, script.create);
    const forward = rules.filter((rule) => rule.chain === "FORWARD").map((rule) => `-A FORWARD ${rule.spec.join(" ")}`);
    assert.deepEqual(box.exec("iptables -S FORWARD").trim().split("\n"), ["-P FORWARD ACCEPT", ...forward, "-A FORWARD -j REJECT --reject-with icmp-port-unreachable"]);
    run(box, script.create);
    assert.deepEqual(box.exec("iptables -S FORWARD").trim().split("\n").length, forward.length + 2, "a second create adds nothing");
    run(box, script.delete);
    assert.equal(box.snapshot(), before);
  }),
);
