// How the program reaches hosts, under mocks: every remote command pins its host's key, runs its
// scripts through sudo for a non-root user, and goes through the bastion when there is one.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { isSecretWrapper, listInput, type ResourceRecord } from "./programHarness";
import { DEV_STACK, evaluate, evaluateEditedDevStack, FAKE_HOST_KEY, FAKE_KEY, fakeProjectDir } from "./stackEvaluation";

const commands = (resources: ResourceRecord[]) => resources.filter((r) => r.type === "command:remote:Command");
const connectionOf = (resource: ResourceRecord): Record<string, any> => {
  assert.ok(isSecretWrapper(resource.inputs.connection), `${resource.name}: connection is not a secret`);
  return resource.inputs.connection.value as Record<string, any>;
};
const OWN_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnKeyOfHost2ForThePinningTest000000000000";

describe("pinned host keys", () => {
  test("every remote command accepts only the key the known_hosts file has for its host", () => {
    const dev = evaluate({ stackFile: DEV_STACK });
    assert.equal(dev.error, undefined);
    assert.equal(commands(dev.resources).length, 20, "17 host commands and checks, and a Confirm per host");
    for (const command of commands(dev.resources)) {
      assert.equal(connectionOf(command).hostKey, FAKE_HOST_KEY, command.name);
    }
  });

  test("a host's own hostKey wins over the file, without its comment", () => {
    const result = evaluateEditedDevStack(fakeProjectDir(), [
      ["address: 10.213.70.12\n", `address: 10.213.70.12\n      hostKey: ${OWN_KEY} root@host2\n`],
    ]);
    assert.equal(result.error, undefined);
    for (const command of commands(result.resources)) {
      assert.equal(connectionOf(command).hostKey, command.name.startsWith("host2/") ? OWN_KEY : FAKE_HOST_KEY, command.name);
    }
  });

  test("a host missing from the known_hosts file stops the program naming file and host, before any resource", () => {
    const cwd = fakeProjectDir();
    fs.writeFileSync(path.join(cwd, ".lab", "known_hosts"), `10.213.70.11,10.213.70.12 ${FAKE_HOST_KEY}\n`);
    const result = evaluate({ stackFile: DEV_STACK, cwd });
    assert.equal(
      result.error,
      "sshKnownHostsFile .lab/known_hosts: host 10.213.70.13: no entry for it (add one with: ssh-keyscan -p 22 -t ed25519 10.213.70.13 >> .lab/known_hosts)",
    );
    assert.deepEqual(result.resources.filter((r) => r.custom), []);
  });
});

describe("a sudo user", () => {
  const result = () => evaluate({ stackFile: DEV_STACK, config: { "macvlan-overlay:sshUser": "deploy" } });

  test("every host script runs through sudo -n as the SSH user deploy, naming its host in errors", () => {
    const dev = result();
    assert.equal(dev.error, undefined);
    for (const command of commands(dev.resources)) {
      assert.equal(connectionOf(command).user, "deploy");
      const host = command.name.split("/")[0];
      const scripts = command.name.endsWith("/ping") ? [command.inputs.create] : [command.inputs.create, command.inputs.update, command.inputs.delete].filter((s) => s !== undefined);
      for (const script of scripts) {
        assert.match(script, new RegExp(`'${host}: user deploy cannot run sudo without a password here`), command.name);
        assert.match(script, /exec sudo -n /, command.name);
      }
    }
    const ping = dev.resources.find((r) => r.name === "host1/check/ping")!;
    assert.match(ping.inputs.create, /\nexec sudo -n \/bin\/sh -s\n$/);
  });

  test("the Docker provider logs in as the same user", () => {
    const provider = result().resources.find((r) => r.name === "host1/docker")!;
    assert.equal(provider.inputs.host, "ssh://deploy@10.213.70.11:22");
  });
});

describe("a bastion", () => {
  const dev = () =>
    evaluate({ stackFile: DEV_STACK, config: { "macvlan-overlay:sshProxy": JSON.stringify({ host: "10.213.70.13", user: "jump" }) } });

  test("every remote command goes through it with the same key, pinning the bastion's key too", () => {
    const result = dev();
    assert.equal(result.error, undefined);
    for (const command of commands(result.resources)) {
      assert.deepEqual(connectionOf(command).proxy, { host: "10.213.70.13", port: 22, user: "jump", privateKey: FAKE_KEY, hostKey: FAKE_HOST_KEY, dialErrorLimit: 10, perDialTimeout: 15 }, command.name);
    }
  });

  test("the Docker provider's ssh hops through it by ProxyCommand with the destination's own options", () => {
    const provider = dev().resources.find((r) => r.name === "host2/docker")!;
    const opts = listInput(provider.inputs.sshOpts);
    const proxy = opts[opts.indexOf("-o", opts.length - 2) + 1];
    assert.match(proxy, /^ProxyCommand='ssh' '-o' 'BatchMode=yes' '-o' 'IdentitiesOnly=yes' '-i' '[^']*\/\.lab\/id_ed25519' '-o' 'UserKnownHostsFile=[^']*\/\.lab\/known_hosts' '-o' 'StrictHostKeyChecking=yes' '-p' '22' '-W' %h:%p 'jump@10\.213\.70\.13'$/);
  });
});
