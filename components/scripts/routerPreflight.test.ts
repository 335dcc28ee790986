// The router preflight on a real host sandbox: a missing iptables and a running firewalld (a stand-in
// firewall-cmd that answers like the real one) stop the script before it changes anything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { firewalldCommands, firewalldCommandsValue, ROUTER_PREFLIGHT } from "./routerPreflight";
import { buildScript } from "./scriptBuilder";
import { SAY, shellQuote } from "./shell";
import { sandboxUnavailableReason, withHostSandbox } from "../../testing/hostSandbox";

const skip = sandboxUnavailableReason();
const INTERFACES = ["ens33.10", "ens33.20"];

// After the preflight the script makes one visible change, so a test sees whether it got that far.
function script(masquerade = true): string {
  return buildScript({
    title: "router preflight test",
    values: [firewalldCommandsValue(INTERFACES, masquerade)],
    uses: [...ROUTER_PREFLIGHT.uses, SAY],
    body: [...ROUTER_PREFLIGHT.lines, "printf 1 >/proc/sys/net/ipv4/ip_forward", "say changed"],
  });
}

test("the firewalld advice names every VLAN interface, forwarding, and masquerade only when wanted", () => {
  assert.deepEqual(firewalldCommands(INTERFACES, true), [
    "firewall-cmd --permanent --new-zone=macvlan-overlay",
    "firewall-cmd --permanent --zone=macvlan-overlay --add-interface=ens33.10",
    "firewall-cmd --permanent --zone=macvlan-overlay --add-interface=ens33.20",
    "firewall-cmd --permanent --zone=macvlan-overlay --add-forward",
    "firewall-cmd --permanent --zone=macvlan-overlay --add-masquerade",
    "firewall-cmd --reload",
  ]);
  assert.equal(firewalldCommands(INTERFACES, false).some((line) => line.includes("masquerade")), false);
});

test("with firewalld running the script stops with the firewall-cmd commands and changes nothing", { skip }, () =>
  withHostSandbox({ extraDirs: ["/usr/local/sbin"] }, (box) => {
    box.writeFile("/usr/local/sbin/firewall-cmd", "#!/bin/sh\n[ \"$1\" = --state ] && { echo running; exit 0; }\nexit 2\n", "755");
    const before = box.snapshot();
    const result = box.run(`sh -c ${shellQuote(script())}`);
    assert.equal(result.status, 1);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      [
        "error: firewalld is running on this router: it rejects forwarded traffic before the macvlan-overlay rules see it.",
        "Either let the VLAN interfaces forward under firewalld (intra-zone forwarding, firewalld 0.9 or newer):",
        ...firewalldCommands(INTERFACES, true).map((line) => `  ${line}`),
        "and set router.masquerade to false if firewalld masquerades, or stop it: systemctl disable --now firewalld.",
        "Nothing was changed on this host.",
        "",
      ].join("\n"),
    );
    assert.equal(box.snapshot(), before);
  }),
);

test("with firewalld installed but stopped the script goes on", { skip }, () =>
  withHostSandbox({ extraDirs: ["/usr/local/sbin"] }, (box) => {
    box.writeFile("/usr/local/sbin/firewall-cmd", "#!/bin/sh\n[ \"$1\" = --state ] && { echo 'not running'; exit 252; }\nexit 2\n", "755");
    assert.equal(box.exec(`sh -c ${shellQuote(script())}`), "changed\n");
  }),
);

test("without iptables the script stops before any change, saying how to install it", { skip }, () =>
  withHostSandbox({}, (box) => {
    const before = box.snapshot();
    // Hide the iptables binary behind a non-executable file, in the sandbox's own mount namespace only.
    const binary = box.exec("readlink -f \"$(command -v iptables)\"").trim();
    box.exec(`: >/run/no-iptables && mount --bind /run/no-iptables ${shellQuote(binary)}`);
    const result = box.run(`sh -c ${shellQuote(script())}`);
    // util-linux's mount keeps its table in /run/mount: gone with the scratch file.
    box.exec(`umount ${shellQuote(binary)} && rm -rf /run/no-iptables /run/mount`);
    assert.equal(result.status, 1);
    assert.equal(
      result.stderr,
      "error: iptables is not installed on this router (Debian/Ubuntu: apt-get install iptables; RHEL: dnf install iptables-nft); nothing was changed on this host\n",
    );
    assert.equal(box.snapshot(), before);
  }),
);
