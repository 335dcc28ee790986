// Test code: hosts as users have them, on the deployed lab — a reboot brings the overlay back with no
// script re-run (the boot unit), a router whose FORWARD chain already ends in REJECT still forwards,
// a create that would cut the operator off stops, a host presenting another key is refused, a sudo
// user and a bastion work. Each function is one e2e test's body (e2e/overlay.e2e.test.ts runs them).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderVlanSubinterface, shellQuote } from "../components/scripts";
import { BOOT_RUNNER_PATH, BOOT_UNIT_PATH, BOOT_UNIT_WANTS_LINK } from "../components/scripts/bootUnit";
import { runAsRoot } from "../components/scripts/privilege";
import { isSecretWrapper, listInput, type ResourceRecord } from "../testing/programHarness";
import { evaluate } from "../testing/stackEvaluation";
import { DockerOverSsh, KNOWN_HOSTS, LAB_DIR, labCommand, PROJECT_ROOT, sshRun } from "./labAccess";
import {
  assertMatrix, CROSS_VLAN, DEV_STACK, DOCKER_HOSTS, HOSTS, onHost, pingMatrix, SAME_VLAN, snapshotAll, target, type HostName,
} from "./labFixture";
import type { LabStack } from "./liveStack";

const ALL_HOSTS = Object.keys(HOSTS) as HostName[];
const LAB_KEY = path.join(LAB_DIR, "id_ed25519");
const TAGGED = "--comment macvlan-overlay";

const connectionOf = (resource: ResourceRecord): Record<string, any> =>
  (isSecretWrapper(resource.inputs.connection) ? resource.inputs.connection.value : resource.inputs.connection) as Record<string, any>;

/** ssh as pulumi-command does it: only the pinned key accepted (a known_hosts of that key alone), a connection of its own. */
function sshPinned(address: string, hostKey: string, script: string, extra: string[] = []): { status: number; stdout: string; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-pinned-"));
  try {
    const knownHosts = path.join(dir, "known_hosts");
    fs.writeFileSync(knownHosts, `${address} ${hostKey}\n`);
    const result = spawnSync(
      "ssh",
      [
        "-i", LAB_KEY, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", `UserKnownHostsFile=${knownHosts}`,
        "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10", "-o", "ControlMaster=no", "-o", "ControlPath=none",
        ...extra, `root@${address}`, script,
      ],
      { encoding: "utf8", timeout: 300_000 },
    );
    return { status: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The router's FORWARD chain, one rule per line. */
const forwardChain = () => onHost("router", "iptables -w -S FORWARD").trim().split("\n");

/**
 * With the router's rules deleted and a REJECT appended to FORWARD (as firewalls ship), the router's
 * create puts its rules ahead of the REJECT, and routed pings pass; the REJECT is taken out after.
 */
export function routerRulesGoAheadOfAReject(live: LabStack): void {
  let created = false;
  try {
    onHost("router", "iptables -w -A FORWARD -j REJECT");
    live.runScript("router/nat/rules", "create");
    created = true;
    const forward = forwardChain();
    const reject = forward.indexOf("-A FORWARD -j REJECT --reject-with icmp-port-unreachable");
    assert.ok(reject > 0, forward.join("\n"));
    assert.equal(forward.slice(1, reject).filter((rule) => rule.includes(TAGGED)).length, 4, forward.join("\n"));
    assert.ok(forward.slice(reject + 1).every((rule) => !rule.includes(TAGGED)), `no rule of ours after the REJECT:\n${forward.join("\n")}`);
    assertMatrix(pingMatrix("router rules back ahead of a REJECT", CROSS_VLAN(true)));
  } finally {
    // Whatever failed, the router is left as deployed for the tests after this one.
    sshRun(target("router"), "while iptables -w -D FORWARD -j REJECT 2>/dev/null; do :; done");
    if (!created) live.runScript("router/nat/rules", "create");
  }
}

/** Each host: the boot unit enabled, its runner, and one fragment per concern in run order. */
export function bootUnitOnEveryHost(): void {
  for (const host of ALL_HOSTS) {
    const listing = onHost(host, `readlink ${BOOT_UNIT_WANTS_LINK}; test -f ${BOOT_RUNNER_PATH} && echo runner; ls /etc/macvlan-overlay/boot.d`);
    assert.equal(
      listing,
      `${BOOT_UNIT_PATH}\nrunner\n10-promisc-ens33.sh\n20-vlan-ens33.10.sh\n20-vlan-ens33.20.sh\n${host === "router" ? "30-router.sh\n" : ""}`,
      host,
    );
  }
}

/**
 * Each host rebooted in turn: the boot unit brings promiscuous mode, the VLAN links, the rules and
 * ip_forward back before dockerd restarts the containers, and the ping matrix is green after each boot; no script is re-run.
 */
export function rebootsNeedNoRerun(hosts: readonly HostName[]): void {
  for (const host of hosts) {
    const bootBefore = onHost(host, "cat /proc/sys/kernel/random/boot_id").trim();
    const reboot = labCommand("reboot", host);
    assert.equal(reboot.status, 0, reboot.stdout + reboot.stderr);
    assert.notEqual(onHost(host, "cat /proc/sys/kernel/random/boot_id").trim(), bootBefore, `${host}: a new boot`);
    console.log(`${host} after its reboot: ${onHost(host, "ip -br link | grep ens33").trim().replace(/\n/g, "; ")}`);
    assert.match(onHost(host, "ip -d link show dev ens33"), /promiscuity [1-9]/, `${host}: ens33 promiscuous again`);
    for (const vlan of [10, 20]) {
      assert.match(onHost(host, `ip -o -d link show dev ens33.${vlan}`), new RegExp(`[<,]UP[,>].* vlan protocol 802\\.1Q id ${vlan} `), `${host}: ens33.${vlan} back and up`);
    }
    if (DOCKER_HOSTS.includes(host)) {
      // dockerd restarts the containers (restart unless-stopped) on its own time after the boot
      const running = onHost(host, "i=0; while [ $i -lt 180 ]; do n=$(docker ps --filter status=running -q 2>/dev/null | wc -l); [ \"$n\" = 2 ] && break; sleep 1; i=$((i+1)); done; echo $n");
      assert.equal(running.trim(), "2", `${host}: both containers running again`);
    }
    assert.match(onHost("router", "iptables -w -S FORWARD"), /-A FORWARD -i ens33\.10 -o ens33\.20 -m comment --comment macvlan-overlay -j ACCEPT/);
    assert.equal(onHost("router", "sysctl -n net.ipv4.ip_forward").trim(), "1");
    assertMatrix(pingMatrix(`${host} rebooted, nothing re-run`, [...SAME_VLAN, ...CROSS_VLAN(true)]));
  }
}

/** A create that would move the route back to the operator onto a new link stops and changes nothing. */
export function routeGuardStopsALockout(): void {
  const client = onHost("host1", "echo \"${SSH_CONNECTION%% *}\"").trim();
  assert.match(client, /^10\.213\.70\.\d+$/);
  // A /25 around the operator's address beats the management /24: validation would refuse it, so render it directly.
  const last = Number(client.split(".")[3]);
  const address = `10.213.70.${last < 128 ? 100 : 200}`;
  const subinterface = { vlan: 30, parent: "ens33", device: "ens33.30", address: { cidr: `${address}/25`, address, prefix: 25, network: last < 128 ? "10.213.70.0" : "10.213.70.128" } };
  const script = renderVlanSubinterface({ subinterface, persistence: "network-scripts" });
  const stateBefore = snapshotAll().host1;
  const result = sshRun(target("host1"), script.create);
  assert.equal(result.status, 1, result.stdout + result.stderr);
  assert.match(result.stderr, new RegExp(`^error: ens33\\.30: adding ${address}/25 would move the route back to this SSH session's client ${client.replace(/\./g, "\\.")} onto ens33\\.30 .*nothing was changed on ens33\\.30$`, "m"));
  assert.equal(snapshotAll().host1, stateBefore);
}

/** A host presenting another key than the pinned one: the host commands and Docker are both refused. */
export function anotherHostKeyIsRefused(): void {
  const routerKey = fs.readFileSync(KNOWN_HOSTS, "utf8").split("\n").find((line) => line.startsWith(`${HOSTS.router} `))!.split(" ").slice(1).join(" ");
  const wrong = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovl-wrongkey-")), "known_hosts");
  try {
    fs.writeFileSync(wrong, fs.readFileSync(KNOWN_HOSTS, "utf8").replace(new RegExp(`^${HOSTS.host1.replace(/\./g, "\\.")} .*$`, "m"), `${HOSTS.host1} ${routerKey}`));
    const evaluation = evaluate({ stackFile: DEV_STACK, cwd: PROJECT_ROOT, config: { "macvlan-overlay:sshKnownHostsFile": wrong } });
    assert.equal(evaluation.error, undefined);
    const promisc = evaluation.resources.find((r) => r.name === "host1/trunk/promisc/ens33")!;
    assert.equal(connectionOf(promisc).hostKey, routerKey);
    const refused = sshPinned(HOSTS.host1, connectionOf(promisc).hostKey, "touch /run/ovl-must-not-run");
    assert.equal(refused.status, 255);
    assert.match(refused.stderr, /Host key verification failed/);
    const provider = evaluation.resources.find((r) => r.name === "host1/docker")!;
    const docker = new DockerOverSsh(provider.inputs.host, listInput(provider.inputs.sshOpts), { multiplex: false });
    try {
      const result = docker.run(["ps"]);
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /Host key verification failed|exit status 255/, result.stderr);
    } finally {
      docker.dispose();
    }
    assert.equal(onHost("host1", "test -e /run/ovl-must-not-run && echo ran || echo absent").trim(), "absent");
  } finally {
    fs.rmSync(path.dirname(wrong), { recursive: true, force: true });
  }
}

/** A sudo user with NOPASSWD runs a host script as root; one without it gets the clear error. */
export function sudoUsers(live: LabStack): void {
  onHost("host2", [
    "useradd -M -d / -s /bin/sh ovlsudo",
    "useradd -M -d / -s /bin/sh ovlnopw",
    // useradd leaves the password locked ("!"), and sshd without PAM refuses a locked account
    "usermod -p '*' ovlsudo",
    "usermod -p '*' ovlnopw",
    // the lab's authorized_keys sits in a folder only root reads: each user gets its own copy
    "mkdir -p /etc/ssh/authorized_keys.d",
    `for u in ovlsudo ovlnopw; do printf '%s\\n' ${shellQuote(fs.readFileSync(`${LAB_KEY}.pub`, "utf8").trim())} >/etc/ssh/authorized_keys.d/$u; chown $u /etc/ssh/authorized_keys.d/$u; chmod 600 /etc/ssh/authorized_keys.d/$u; done`,
    "printf 'ovlsudo ALL=(root) NOPASSWD: ALL\\novlnopw ALL=(root) ALL\\n' >/etc/sudoers.d/ovl-e2e",
    "chmod 440 /etc/sudoers.d/ovl-e2e",
  ].join("\n"));
  try {
    const create = live.entry("host2/vlan10/link/ens33.10").resource.inputs.create as string;
    const asSudo = sshRun({ ...target("host2"), user: "ovlsudo", multiplex: false }, runAsRoot(create, { sshUser: "ovlsudo", hostName: "host2" }));
    assert.equal(asSudo.status, 0, asSudo.stderr);
    assert.match(asSudo.stdout, /^ens33\.10: address 192\.168\.22\.11\/24 already present$/m);
    const asUser = sshRun({ ...target("host2"), user: "ovlnopw", multiplex: false }, runAsRoot(create, { sshUser: "ovlnopw", hostName: "host2" }));
    assert.equal(asUser.status, 1);
    assert.equal(asUser.stdout, "");
    assert.match(asUser.stderr, /^error: host2: user ovlnopw cannot run sudo without a password here \(sudo -n true failed\)/);
  } finally {
    onHost("host2", "rm -f /etc/sudoers.d/ovl-e2e /etc/ssh/authorized_keys.d/ovlsudo /etc/ssh/authorized_keys.d/ovlnopw; rmdir /etc/ssh/authorized_keys.d; userdel ovlsudo; userdel ovlnopw");
  }
}

/** Every docker host through the router as bastion: its host scripts and its Docker. */
export function throughABastion(): void {
  const evaluation = evaluate({ stackFile: DEV_STACK, cwd: PROJECT_ROOT, config: { "macvlan-overlay:sshProxy": JSON.stringify({ host: HOSTS.router }) } });
  assert.equal(evaluation.error, undefined);
  for (const host of DOCKER_HOSTS) {
    const promisc = evaluation.resources.find((r) => r.name === `${host}/trunk/promisc/ens33`)!;
    const { proxy, hostKey } = connectionOf(promisc);
    assert.equal(proxy.host, HOSTS.router);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-jump-"));
    try {
      const knownHosts = path.join(dir, "known_hosts");
      fs.writeFileSync(knownHosts, `${proxy.host} ${proxy.hostKey}\n`);
      const jump = `ProxyCommand=ssh -i ${LAB_KEY} -o BatchMode=yes -o IdentitiesOnly=yes -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o ControlPath=none -p ${proxy.port} -W %h:%p ${proxy.user}@${proxy.host}`;
      const seen = sshPinned(HOSTS[host], hostKey, `echo "\${SSH_CONNECTION%% *}"; ${promisc.inputs.create}`, ["-o", jump]);
      assert.equal(seen.status, 0, seen.stderr);
      assert.equal(seen.stdout.split("\n")[0], HOSTS.router, `${host}: the session comes from the bastion`);
      assert.match(seen.stdout, /ens33: promisc already on/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const provider = evaluation.resources.find((r) => r.name === `${host}/docker`)!;
    assert.match(listInput(provider.inputs.sshOpts).join(" "), /ProxyCommand=/);
    const docker = new DockerOverSsh(provider.inputs.host, listInput(provider.inputs.sshOpts), { multiplex: false });
    try {
      assert.equal(docker.must(["ps", "--format", "{{.Names}}"]).split("\n").length, 2, `${host}: Docker through the bastion`);
    } finally {
      docker.dispose();
    }
  }
}
