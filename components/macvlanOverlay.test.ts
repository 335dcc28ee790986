// MacvlanOverlay as another program uses it: given the dev stack's config as arguments (the key files'
// contents in place of their paths) it registers what the stack program registers; the key stays a
// secret; bad arguments get the stack file's messages.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { checkConfig } from "../config/preflight";
import { formatProblems } from "../topology";
import { devStackArgs, devStackConfig, evaluateComponent } from "../testing/componentArgs";
import { type Evaluation, isSecretWrapper, type ResourceRecord } from "../testing/programHarness";
import { DEV_STACK, evaluate, FAKE_KEY } from "../testing/stackEvaluation";
import { MacvlanOverlay, type MacvlanOverlayArgs } from "./macvlanOverlay";

/** The base64 body of the fake key: found anywhere, the key text is there. */
const KEY_BODY = FAKE_KEY.split("\n")[1];

/** Custom resources by URN: type, inputs and provider. */
function customResources(evaluation: Evaluation): Map<string, Pick<ResourceRecord, "type" | "inputs" | "provider">> {
  assert.equal(evaluation.error, undefined);
  return new Map(
    evaluation.resources.filter((resource) => resource.custom).map((resource) => [resource.registration!.urn, { type: resource.type, inputs: resource.inputs, provider: resource.provider }]),
  );
}

/** Where the key text appears outside a secret. */
function keyOutsideSecrets(value: unknown, where: string): string[] {
  if (typeof value === "string") return value.includes(KEY_BODY) ? [where] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => keyOutsideSecrets(item, `${where}[${index}]`));
  if (value === null || typeof value !== "object" || isSecretWrapper(value)) return [];
  return Object.entries(value).flatMap(([key, item]) => keyOutsideSecrets(item, `${where}.${key}`));
}

describe("MacvlanOverlay given the dev stack's config as arguments", () => {
  let program: ReturnType<typeof customResources>;
  let component: ReturnType<typeof customResources>;
  before(() => {
    program = customResources(evaluate({ stackFile: DEV_STACK }));
    component = customResources(evaluateComponent(devStackArgs()));
  });

  test("registers the program's custom resources under the same URNs, with the same inputs (the Docker providers' ssh files aside)", () => {
    assert.equal(component.size, 38);
    assert.deepEqual([...component.keys()].sort(), [...program.keys()].sort());
    const sshOpts: string[] = [];
    for (const [urn, expected] of program) {
      const actual = component.get(urn)!;
      if (expected.type === "pulumi:providers:docker") {
        // The program's Docker providers read the stack's key and known_hosts files; a consumer's have none to read.
        sshOpts.push(String(actual.inputs.sshOpts));
        assert.deepEqual({ ...actual, inputs: { ...actual.inputs, sshOpts: undefined } }, { ...expected, inputs: { ...expected.inputs, sshOpts: undefined } }, urn);
      } else {
        assert.deepEqual(actual, expected, urn);
      }
    }
    assert.deepEqual(sshOpts, ['["-o","BatchMode=yes"]', '["-o","BatchMode=yes"]']);
  });

  test("the key is a secret in every resource that receives it, and nowhere else", () => {
    const receiving = [...component].filter(([, resource]) => JSON.stringify(resource.inputs).includes(KEY_BODY));
    // ... and each host's Confirm (commit confirmed).
    assert.equal(receiving.length, 2 + 3 + 3 + 6 + 1 + 2 + 3);
    assert.deepEqual(
      [...component].flatMap(([urn, resource]) => keyOutsideSecrets(resource.inputs, urn)),
      [],
    );
  });
});

describe("MacvlanOverlay's arguments are checked as a stack file is", () => {
  /** The dev stack with three problems: a gateway and a container address that are no addresses, a misspelt key. */
  const broken = (config: Record<string, unknown>) => {
    const vlans = config.vlans as Record<string, unknown>[];
    const hosts = config.hosts as Record<string, unknown>[];
    const [first, ...rest] = hosts;
    const containers = first.containers as Record<string, unknown>[];
    return {
      ...config,
      vlans: [{ ...vlans[0], gateway: "172.18.0.256" }, ...vlans.slice(1)],
      hosts: [{ ...first, containers: [{ ...containers[0], ip: "172.18.0" }, ...containers.slice(1)] }, ...rest],
      macvlanMod: "private",
    };
  };

  test("bad arguments are refused before anything registers, with the stack file's messages", () => {
    const stack = checkConfig(broken(devStackConfig()), []);
    assert.equal(stack.ok, false);
    const lines = formatProblems(stack.ok ? [] : stack.problems);
    assert.equal(
      lines,
      [
        "macvlanMod private: is not a known key: did you mean `macvlanMode`? (known: trunkInterface, persistence, sshUser, sshPrivateKeyFile, sshPrivateKey, sshKnownHostsFile, sshProxy, vlans, hosts, router, macvlanMode, verify, reapply, confirmWithinSeconds)",
        "vlans[0].gateway 172.18.0.256: must be an IPv4 address like 172.18.0.1",
        "hosts[0].containers[0].ip 172.18.0: must be an IPv4 address like 172.18.0.2",
      ].join("\n"),
    );
    // No Pulumi runtime is set up here: the constructor throws before it registers anything.
    assert.throws(() => new MacvlanOverlay("overlay", broken(devStackArgs() as unknown as Record<string, unknown>) as unknown as MacvlanOverlayArgs), {
      message: `invalid MacvlanOverlay arguments:\n${lines}`,
    });
  });

  test("a host without its hostKey is named, as a stack without sshKnownHostsFile names it", () => {
    const args = devStackArgs();
    const { hostKey: _key, ...router } = args.hosts[2];
    assert.throws(() => new MacvlanOverlay("overlay", { ...args, hosts: [args.hosts[0], args.hosts[1], router as MacvlanOverlayArgs["hosts"][number]] }), {
      message:
        "invalid MacvlanOverlay arguments:\nhosts[2].hostKey: is required when sshKnownHostsFile is not set (remote commands pin each host's SSH key; e.g. the line of /etc/ssh/ssh_host_ed25519_key.pub)",
    });
  });

  test("the stack's file keys are refused: the component takes their contents", () => {
    assert.throws(() => new MacvlanOverlay("overlay", { ...devStackArgs(), sshKnownHostsFile: ".lab/known_hosts" } as MacvlanOverlayArgs), {
      message:
        "invalid MacvlanOverlay arguments:\nsshKnownHostsFile: is not an argument of MacvlanOverlay: pass sshPrivateKey (the key's text) and each hostKey instead",
    });
  });

  test("a key text pasted where a host key goes is refused without showing it", () => {
    const args = devStackArgs();
    const error = (() => {
      try {
        new MacvlanOverlay("overlay", { ...args, hosts: [{ ...args.hosts[0], hostKey: FAKE_KEY }, ...args.hosts.slice(1)] });
      } catch (caught) {
        return (caught as Error).message;
      }
      return "";
    })();
    assert.match(error, /^invalid MacvlanOverlay arguments:\nhosts\[0\]\.hostKey/);
    assert.equal(error.includes(KEY_BODY), false);
  });
});
