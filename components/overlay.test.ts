// The MacvlanOverlay component (built on OverlayChildren) under Pulumi's mocks, in this process: its
// outputs have no nulls (a field is absent where there is nothing to say), and every component
// registers its public fields as outputs.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { devStackConfig } from "../testing/devStackConfig";
import { FAKE_HOST_KEY, FAKE_KEY } from "../testing/stackEvaluation";
import { MacvlanOverlay, type MacvlanOverlayArgs } from "./macvlanOverlay";

/** Registered outputs by URN, as the engine would store them for each component. */
const registeredOutputs = new Map<string, Record<string, unknown>>();
const components = new Set<pulumi.ComponentResource>();

function unwrap<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** Waits until no registration arrived for a while: the mocks give no other end signal. */
async function settled(count: () => number, quietMs = 300): Promise<void> {
  let last = -1;
  let quietSince = Date.now();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (count() !== last) {
      last = count();
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) {
      return;
    }
  }
}

describe("the MacvlanOverlay's outputs", () => {
  let overlay: MacvlanOverlay;
  before(async () => {
    const original = MockMonitor.prototype.registerResourceOutputs;
    MockMonitor.prototype.registerResourceOutputs = function (this: unknown, req: any, callback: any) {
      registeredOutputs.set(req.getUrn(), req.getOutputs()?.toJavaScript() ?? {});
      return original.call(this, req, callback);
    };
    // Every component instance, as it registers its outputs (the SDK calls it once more, to no effect).
    const prototype = pulumi.ComponentResource.prototype as unknown as { registerOutputs(outputs?: unknown): void };
    const originalRegister = prototype.registerOutputs;
    prototype.registerOutputs = function (this: pulumi.ComponentResource, outputs?: unknown) {
      components.add(this);
      return originalRegister.call(this, outputs);
    };
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => ({
          id: `${args.name}-id`,
          state: args.type === "random:index/randomId:RandomId" ? { ...args.inputs, hex: "a1b2c3d4e5" } : { ...args.inputs, stdout: "" },
        }),
        call: () => {
          throw new Error("no calls");
        },
      },
      "macvlan-overlay",
      "test",
      false,
    );
    // The dev stack's config as arguments (the key's text and each host's key in place of the two
    // files), with VLAN 20 on ipvlan and host2 without an address of its own on either VLAN.
    const { sshPrivateKeyFile: _key, sshKnownHostsFile: _knownHosts, ...config } = devStackConfig();
    config.vlans[1].driver = "ipvlan";
    delete config.hosts[1].vlanAddresses;
    overlay = new MacvlanOverlay("overlay", {
      ...config,
      sshPrivateKey: FAKE_KEY,
      hosts: config.hosts.map((host: Record<string, unknown>) => ({ ...host, hostKey: FAKE_HOST_KEY })),
    } as MacvlanOverlayArgs);
    await settled(() => registeredOutputs.size);
  });

  test("a link without an address and an ipvlan container's MAC are absent, not null", async () => {
    const hosts = await unwrap(overlay.hosts);
    assert.deepEqual(hosts.host2.subinterfaces, [{ device: "ens33.10", vlan: 10 }, { device: "ens33.20", vlan: 20 }]);
    assert.deepEqual(hosts.host1.subinterfaces[0], { device: "ens33.10", vlan: 10, address: "192.168.22.10/24" });
    const [bbox10, bbox20] = hosts.host1.containers;
    assert.equal(bbox10.mac, "02:a1:b2:c3:d4:e5");
    assert.ok(!("mac" in bbox20), "bbox20 is on ipvlan: it has its parent's MAC");
    assert.deepEqual(hosts.host1.networks.map((network) => `${network.name} ${network.driver} on ${network.parent}`), [
      "mac-net10 macvlan on ens33.10",
      "mac-net20 ipvlan on ens33.20",
    ]);
    const nulls: string[] = [];
    const walk = (value: unknown, where: string): void => {
      if (value === null) nulls.push(where);
      else if (Array.isArray(value)) value.forEach((item, index) => walk(item, `${where}[${index}]`));
      else if (typeof value === "object" && !pulumi.Output.isInstance(value)) for (const [key, item] of Object.entries(value as object)) walk(item, `${where}.${key}`);
    };
    walk(hosts, "hosts");
    assert.deepEqual(nulls, []);
    assert.equal((await unwrap(overlay.routerRules)).length, 6);
  });

  test("every component registers each of its public fields as an output", () => {
    const bare = new Set(Object.keys(new pulumi.ComponentResource("test:index:Bare", "bare", {}, { parent: overlay })));
    const kinds = new Map<string, number>();
    for (const component of components) {
      const type = component.constructor.name;
      if (type === "ComponentResource") continue;
      kinds.set(type, (kinds.get(type) ?? 0) + 1);
      const fields = Object.keys(component).filter((key) => !bare.has(key) && !key.startsWith("__"));
      const name = (component as unknown as { __name: string }).__name;
      const registered = [...registeredOutputs.entries()].find(([urn]) => urn.endsWith(`::${name}`));
      assert.ok(registered, `${type} ${name}: no registered outputs`);
      const missing = fields.filter((field) => !(field in registered[1]) && (component as unknown as Record<string, unknown>)[field] !== undefined);
      assert.deepEqual(missing, [], `${type} ${name}`);
    }
    assert.deepEqual(Object.fromEntries([...kinds].sort()), {
      BusyboxContainer: 4,
      ConnectivityCheck: 2,
      HostConcernComponent: 13,
      MacvlanNetwork: 4,
      MacvlanOverlay: 1,
      OverlayHost: 3,
    });
  });
});
