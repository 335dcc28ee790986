// The program under Pulumi's mocks, for the dev stack: the resource graph is the seed's topology,
// value for value; ordering, secrets and determinism hold.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import {
  renderConnectivityCheck,
  renderDockerEngineCheck,
  renderNatRouter,
  renderPromiscuousMode,
  renderVlanSubinterface,
} from "../components/scripts";
import type { Subinterface } from "../topology";
import { isSecretWrapper, listInput, type Evaluation, type ResourceRecord } from "./programHarness";
import { DEV_STACK, evaluate, FAKE_KEY, fakeProjectDir, PROJECT_ROOT } from "./stackEvaluation";

const ofType = (resources: ResourceRecord[], type: string) => resources.filter((r) => r.type === type);
const named = (resources: ResourceRecord[], name: string) => {
  const found = resources.find((r) => r.name === name);
  assert.ok(found, `no resource named ${name}`);
  return found;
};
const unwrapSecret = (value: any): any => {
  assert.ok(isSecretWrapper(value), "value is not a secret");
  return value.value;
};

function seedSubinterface(device: string, vlan: number, cidr?: string): Subinterface {
  if (cidr === undefined) {
    return { vlan, parent: "ens33", device };
  }
  const [address, prefix] = cidr.split("/");
  const network = address.split(".").slice(0, 3).join(".") + ".0";
  return { vlan, parent: "ens33", device, address: { cidr, address, prefix: Number(prefix), network } };
}

describe("the dev stack under mocks", () => {
  let dev: Evaluation;
  before(() => {
    dev = evaluate({ stackFile: DEV_STACK });
    assert.equal(dev.error, undefined);
  });

  test("each docker host has its own Docker provider over ssh:// with the lab key and known_hosts", () => {
    const providers = ofType(dev.resources, "pulumi:providers:docker");
    assert.deepEqual(
      providers.map((p) => [p.name, p.inputs.host]).sort(),
      [
        ["host1/docker", "ssh://root@10.213.70.11:22"],
        ["host2/docker", "ssh://root@10.213.70.12:22"],
      ],
    );
    for (const provider of providers) {
      const opts = listInput(provider.inputs.sshOpts);
      assert.ok(opts.some((o) => o.endsWith(path.join(".lab", "id_ed25519"))), opts.join(" "));
      assert.ok(opts.some((o) => /^UserKnownHostsFile=.*\.lab\/known_hosts$/.test(o)), opts.join(" "));
      assert.ok(opts.includes("StrictHostKeyChecking=yes"));
    }
  });

  test("two macvlan networks per docker host with the seed's subnets, gateways and parents", () => {
    const networks = ofType(dev.resources, "docker:index/network:Network").map((n) => ({
      host: n.provider!.includes("host1/docker") ? "host1" : "host2",
      name: n.inputs.name,
      driver: n.inputs.driver,
      options: n.inputs.options,
      ipam: n.inputs.ipamConfigs,
    }));
    const expected = ["host1", "host2"].flatMap((host) => [
      {
        host,
        name: "mac-net10",
        driver: "macvlan",
        options: { parent: "ens33.10", macvlan_mode: "bridge" },
        ipam: [{ subnet: "172.18.0.0/24", gateway: "172.18.0.1" }],
      },
      {
        host,
        name: "mac-net20",
        driver: "macvlan",
        options: { parent: "ens33.20", macvlan_mode: "bridge" },
        ipam: [{ subnet: "172.19.0.0/24", gateway: "172.19.0.1" }],
      },
    ]);
    const key = (n: { host: string; name: string }) => `${n.host}/${n.name}`;
    assert.deepEqual(
      networks.sort((a, b) => key(a).localeCompare(key(b))),
      expected.sort((a, b) => key(a).localeCompare(key(b))),
    );
  });

  test("four busybox containers with the seed's IPs on the right host, network and a stable 02: MAC", () => {
    const containers = ofType(dev.resources, "docker:index/container:Container");
    const seen = containers.map((c) => ({
      host: c.provider!.includes("host1/docker") ? "host1" : "host2",
      name: c.inputs.name,
      network: c.inputs.networksAdvanced[0].name,
      ip: c.inputs.networksAdvanced[0].ipv4Address,
      tty: c.inputs.tty,
      stdinOpen: c.inputs.stdinOpen,
      restart: c.inputs.restart,
    }));
    const like = (host: string, name: string, network: string, ip: string) => ({
      host, name, network, ip, tty: true, stdinOpen: true, restart: "unless-stopped",
    });
    assert.deepEqual(
      seen.sort((a, b) => a.name.localeCompare(b.name)),
      [
        like("host1", "bbox10", "mac-net10", "172.18.0.2"),
        like("host1", "bbox20", "mac-net20", "172.19.0.3"),
        like("host2", "bbox30", "mac-net10", "172.18.0.5"),
        like("host2", "bbox40", "mac-net20", "172.19.0.4"),
      ],
    );
    for (const container of containers) {
      const host = container.provider!.includes("host1/docker") ? "host1" : "host2";
      const macId = named(dev.resources, `${host}/container/${container.inputs.name}/mac`);
      assert.equal(macId.inputs.byteLength, 5);
      const hex: string = macId.state.hex;
      assert.equal(container.inputs.networksAdvanced[0].macAddress, `02:${hex.match(/../g)!.join(":")}`);
      const image = named(dev.resources, `${host}/container/${container.inputs.name}/image`);
      assert.equal(image.inputs.name, "busybox:latest");
      assert.equal(image.inputs.keepLocally, true);
      assert.equal(container.inputs.image, image.state.imageId);
    }
  });

  test("one promisc command per host and one subinterface command per host and VLAN, with the seed's values", () => {
    const commands = ofType(dev.resources, "command:remote:Command");
    const promisc = commands.filter((c) => c.name.includes("/promisc/")).map((c) => c.name).sort();
    assert.deepEqual(promisc, ["host1/trunk/promisc/ens33", "host2/trunk/promisc/ens33", "router/trunk/promisc/ens33"]);
    const script = renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts", boot: true, confirmWithinSeconds: 600 });
    for (const name of promisc) {
      assert.equal(named(dev.resources, name).inputs.create, script.create);
      assert.equal(named(dev.resources, name).inputs.update, undefined);
      assert.equal(named(dev.resources, name).inputs.delete, script.delete);
    }

    const links = commands.filter((c) => c.name.includes("/link/")).map((c) => c.name).sort();
    assert.deepEqual(links, [
      "host1/vlan10/link/ens33.10", "host1/vlan20/link/ens33.20", "host2/vlan10/link/ens33.10", "host2/vlan20/link/ens33.20",
      "router/vlan10/link/ens33.10", "router/vlan20/link/ens33.20",
    ]);
    const seed: Record<string, Subinterface> = {
      "host1/vlan10/link/ens33.10": seedSubinterface("ens33.10", 10, "192.168.22.10/24"),
      "host1/vlan20/link/ens33.20": seedSubinterface("ens33.20", 20, "192.168.23.10/24"),
      "host2/vlan10/link/ens33.10": seedSubinterface("ens33.10", 10, "192.168.22.11/24"),
      "host2/vlan20/link/ens33.20": seedSubinterface("ens33.20", 20, "192.168.23.11/24"),
      "router/vlan10/link/ens33.10": seedSubinterface("ens33.10", 10, "172.18.0.1/24"),
      "router/vlan20/link/ens33.20": seedSubinterface("ens33.20", 20, "172.19.0.1/24"),
    };
    for (const [name, subinterface] of Object.entries(seed)) {
      const expected = renderVlanSubinterface({ subinterface, persistence: "network-scripts", boot: true, confirmWithinSeconds: 600 });
      assert.equal(named(dev.resources, name).inputs.create, expected.create, name);
      assert.equal(named(dev.resources, name).inputs.update, undefined, name);
      assert.equal(named(dev.resources, name).inputs.delete, expected.delete, name);
    }
  });

  test("the router holds the seed's NAT and forwarding rules between ens33.10 and ens33.20", () => {
    const rules = named(dev.resources, "router/nat/rules");
    const expected = renderNatRouter({ interfaces: ["ens33.10", "ens33.20"], masquerade: true, boot: true, confirmWithinSeconds: 600 });
    assert.equal(rules.inputs.create, expected.create);
    assert.equal(rules.inputs.update, undefined);
    assert.equal(rules.inputs.delete, expected.delete);
    assert.equal(unwrapSecret(rules.inputs.connection).host, "10.213.70.13");
  });

  test("the connectivity check reads its script on stdin: gateway, other VLAN, next host's container", () => {
    const check = named(dev.resources, "host1/check/ping");
    const expected = renderConnectivityCheck({
      nextReapply: 1,
      probes: [
        { from: "bbox10", to: "gateway", toIp: "172.18.0.1", kind: "gateway", expectReachable: true },
        { from: "bbox10", to: "bbox20", toIp: "172.19.0.3", kind: "routed", expectReachable: true },
        { from: "bbox10", to: "bbox30", toIp: "172.18.0.5", kind: "same-vlan", expectReachable: true },
        { from: "bbox20", to: "gateway", toIp: "172.19.0.1", kind: "gateway", expectReachable: true },
        { from: "bbox20", to: "bbox10", toIp: "172.18.0.2", kind: "routed", expectReachable: true },
        { from: "bbox20", to: "bbox40", toIp: "172.19.0.4", kind: "same-vlan", expectReachable: true },
      ],
    });
    assert.equal(check.inputs.create, "sh -s");
    assert.equal(check.inputs.stdin, expected);
    assert.equal(unwrapSecret(check.inputs.connection).host, "10.213.70.11");
    assert.equal(check.inputs.triggers.length, 1);
    assert.match(check.inputs.triggers[0], /^[0-9a-f]{64}$/);
    assert.ok(named(dev.resources, "host2/check/ping"));
  });

  test("each docker host's Docker Engine is checked (API 1.44+) before anything on it changes", () => {
    for (const host of ["host1", "host2"]) {
      const engine = named(dev.resources, `${host}/docker-engine`);
      assert.equal(engine.inputs.create, renderDockerEngineCheck());
      const first = [
        `${host}/trunk/promisc/ens33`,
        `${host}/network/mac-net10/network`,
        `${host}/network/mac-net20/network`,
        ...(host === "host1" ? ["bbox10", "bbox20"] : ["bbox30", "bbox40"]).map((c) => `${host}/container/${c}/image`),
      ];
      for (const name of first) {
        assert.ok(named(dev.resources, name).registration!.dependencies.includes(engine.registration!.urn), name);
      }
    }
  });

  test("host commands converge in place: no update script (create runs again), no triggers, triggers of older stacks ignored", () => {
    const hostCommands = ofType(dev.resources, "command:remote:Command").filter(
      (c) => !c.name.endsWith("/check/ping") && !c.name.endsWith("/docker-engine") && !c.name.endsWith("/confirm"),
    );
    assert.equal(hostCommands.length, 3 + 3 + 6 + 1);
    for (const command of hostCommands) {
      assert.equal(command.inputs.triggers, undefined, command.name);
      assert.equal(command.inputs.update, undefined, command.name);
      assert.equal(typeof command.inputs.create, "string", command.name);
      assert.equal(command.inputs.addPreviousOutputInEnv, false, command.name);
      assert.deepEqual(command.registration!.ignoreChanges, ["triggers"], command.name);
      assert.equal(command.registration!.deleteBeforeReplace, true, command.name);
    }
  });

  test("dependencies are recorded on the resources the engine reads them from", () => {
    const urn = (name: string) => named(dev.resources, name).registration!.urn;
    const deps = (name: string) => named(dev.resources, name).registration!.dependencies.map(nameOf).sort();
    const propertyDeps = (name: string, key: string) =>
      (named(dev.resources, name).registration!.propertyDependencies[key] ?? []).map(nameOf).sort();
    const nameOf = (u: string) => u.split("::").pop()!;
    for (const host of ["host1", "host2", "router"]) {
      for (const vlan of [10, 20]) {
        assert.deepEqual(deps(`${host}/vlan${vlan}/link/ens33.${vlan}`), [`${host}/boot/unit`, `${host}/trunk/promisc/ens33`]);
      }
    }
    // Every concern writes its boot fragment after the boot unit exists and removes it before the unit's delete.
    assert.deepEqual(deps("host1/boot/unit"), ["host1/docker-engine"]);
    assert.deepEqual(deps("router/boot/unit"), []);
    assert.deepEqual(deps("host1/trunk/promisc/ens33"), ["host1/boot/unit", "host1/docker-engine"]);
    assert.deepEqual(deps("router/trunk/promisc/ens33"), ["router/boot/unit"]);
    for (const [host, containers] of [["host1", ["bbox10", "bbox20"]], ["host2", ["bbox30", "bbox40"]]] as const) {
      for (const [i, vlan] of [10, 20].entries()) {
        const network = `${host}/network/mac-net${vlan}/network`;
        // Through an input: a replaced link replaces the network (and its containers) with it.
        assert.deepEqual(propertyDeps(network, "options"), [`${host}/vlan${vlan}/link/ens33.${vlan}`]);
        assert.deepEqual(deps(network), [`${host}/docker-engine`, `${host}/vlan${vlan}/link/ens33.${vlan}`]);
        const container = `${host}/container/${containers[i]}/container`;
        assert.deepEqual(propertyDeps(container, "networksAdvanced"), [`${host}/container/${containers[i]}/mac`, network].sort());
      }
    }
    assert.deepEqual(deps("router/nat/rules"), ["router/boot/unit", "router/vlan10/link/ens33.10", "router/vlan20/link/ens33.20"]);
    const verified = [
      ...["host1", "host2", "router"].flatMap((host) => ["router/vlan10/link/ens33.10", "router/vlan20/link/ens33.20"].map((n) => n.replace("router", host))),
      ...["host1", "host2"].flatMap((host) => [`${host}/network/mac-net10/network`, `${host}/network/mac-net20/network`]),
      ...[["host1", "bbox10"], ["host1", "bbox20"], ["host2", "bbox30"], ["host2", "bbox40"]].map(([h, c]) => `${h}/container/${c}/container`),
      "router/nat/rules",
    ];
    for (const check of ["host1/check/ping", "host2/check/ping"]) {
      for (const name of verified) {
        assert.ok(named(dev.resources, check).registration!.dependencies.includes(urn(name)), `${check} on ${name}`);
      }
    }
  });

  test("ordering: subinterface before network, network before container, checks last", () => {
    const r = (name: string) => named(dev.resources, name);
    for (const host of ["host1", "host2"]) {
      for (const [vlan, network, container] of [[10, "mac-net10", host === "host1" ? "bbox10" : "bbox30"], [20, "mac-net20", host === "host1" ? "bbox20" : "bbox40"]] as const) {
        assert.ok(r(`${host}/docker-engine`).doneSeq < r(`${host}/trunk/promisc/ens33`).seq, `${host} engine check before promisc`);
        assert.ok(r(`${host}/trunk/promisc/ens33`).doneSeq < r(`${host}/vlan${vlan}/link/ens33.${vlan}`).seq, `${host} promisc before vlan${vlan}`);
        assert.ok(r(`${host}/vlan${vlan}/link/ens33.${vlan}`).doneSeq < r(`${host}/network/${network}/network`).seq, `${host} vlan${vlan} before ${network}`);
        assert.ok(r(`${host}/network/${network}/network`).doneSeq < r(`${host}/container/${container}/container`).seq, `${network} before ${container}`);
      }
    }
    assert.ok(r("router/vlan10/link/ens33.10").doneSeq < r("router/nat/rules").seq);
    assert.ok(r("router/vlan20/link/ens33.20").doneSeq < r("router/nat/rules").seq);
    const lastBeforeChecks = Math.max(
      ...ofType(dev.resources, "docker:index/container:Container").map((c) => c.doneSeq),
      r("router/nat/rules").doneSeq,
    );
    assert.ok(lastBeforeChecks < r("host1/check/ping").seq);
    assert.ok(lastBeforeChecks < r("host2/check/ping").seq);
  });

  test("a stack deployed by 593ec9a upgrades by alias: every old URN is a new resource's URN or alias", () => {
    const old = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "testing", "engine", "fixtures", "dev-593ec9a.json"), "utf8")) as Array<{ urn: string }>;
    assert.equal(old.length, 28);
    const claimed = new Map<string, string>();
    for (const resource of dev.resources.filter((r) => r.custom)) {
      for (const alias of [resource.registration!.urn, ...resource.registration!.aliases]) {
        assert.ok(!claimed.has(alias) || claimed.get(alias) === resource.name, `${alias} claimed twice`);
        claimed.set(alias, resource.name);
      }
    }
    const unclaimed = old.map((r) => r.urn).filter((urn) => !claimed.has(urn));
    assert.deepEqual(unclaimed, []);
    assert.equal(
      claimed.get("urn:pulumi:dev::macvlan-overlay::overlay:index:Overlay$overlay:host:OverlayHost$overlay:docker:BusyboxContainer$docker:index/container:Container::host1-bbox10-container"),
      "host1/container/bbox10/container",
    );
  });

  test("the SSH key is a secret in every connection and appears nowhere else", () => {
    const commands = ofType(dev.resources, "command:remote:Command");
    // ... and each host's Confirm.
    assert.equal(commands.length, 2 + 3 + 3 + 6 + 1 + 2 + 3);
    for (const command of commands) {
      const connection = unwrapSecret(command.inputs.connection);
      assert.equal(connection.privateKey, FAKE_KEY);
      assert.equal(connection.user, "root");
      assert.equal(connection.port, 22);
    }
    const leaks: string[] = [];
    const walk = (value: unknown, where: string): void => {
      if (typeof value === "string") {
        if (value.includes("bWFjdmxhbi1vdmVybGF5LXRlc3Qta2V5")) leaks.push(where);
      } else if (Array.isArray(value)) {
        value.forEach((v, i) => walk(v, `${where}[${i}]`));
      } else if (value !== null && typeof value === "object") {
        if (isSecretWrapper(value)) return;
        for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`);
      }
    };
    for (const resource of dev.resources) walk(resource.inputs, resource.name);
    assert.deepEqual(leaks, []);
  });

  test("two evaluations give identical inputs (no perpetual diff)", () => {
    const cwd = fakeProjectDir();
    const first = evaluate({ stackFile: DEV_STACK, cwd });
    const second = evaluate({ stackFile: DEV_STACK, cwd });
    const view = (e: Evaluation) =>
      e.resources.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs, provider: r.provider })).sort((a, b) => `${a.type}/${a.name}`.localeCompare(`${b.type}/${b.name}`));
    assert.equal(first.resources.length, dev.resources.length);
    assert.deepEqual(view(first), view(second));
  });
});

describe("config problems stop the program before any resource", () => {
  test("a broken stack names every bad key and registers nothing", () => {
    const dir = fakeProjectDir();
    const broken = path.join(dir, "Pulumi.broken.yaml");
    const text = fs
      .readFileSync(DEV_STACK, "utf8")
      .replace("{ name: bbox30, vlan: 10, ip: 172.18.0.5 }", "{ name: bbox30, vlan: 10, ip: 172.18.0.1 }")
      .replace("{ id: 20, network: mac-net20", "{ id: 5000, network: mac-net20");
    fs.writeFileSync(broken, text);
    const result = evaluate({ stackFile: broken, cwd: dir });
    assert.match(result.error ?? "", /hosts\[1\]\.containers\[0\]\.ip 172\.18\.0\.1/);
    assert.match(result.error ?? "", /vlans\[1\]\.id 5000/);
    assert.deepEqual(result.resources.filter((r) => r.custom), []);
  });

  test("a missing key file is named with its path", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-nokey-"));
    const result = evaluate({ stackFile: DEV_STACK, cwd: dir });
    assert.match(result.error ?? "", /sshPrivateKeyFile \.lab\/id_ed25519: cannot read/);
    assert.deepEqual(result.resources.filter((r) => r.custom), []);
  });
});

describe("the key from secret config", () => {
  test("sshPrivateKey stays a secret in the connection and the Docker provider uses the agent", () => {
    const result = evaluate({
      stackFile: DEV_STACK,
      cwd: fakeProjectDir(),
      config: {
        "macvlan-overlay:sshPrivateKeyFile": null,
        "macvlan-overlay:sshPrivateKey": FAKE_KEY,
      },
      secretKeys: ["macvlan-overlay:sshPrivateKey"],
    });
    assert.equal(result.error, undefined);
    const promisc = named(result.resources, "host1/trunk/promisc/ens33");
    assert.equal(unwrapSecret(promisc.inputs.connection).privateKey, FAKE_KEY);
    const provider = named(result.resources, "host1/docker");
    const opts = listInput(provider.inputs.sshOpts);
    assert.ok(!opts.includes("-i"));
  });
});
