import { test } from "node:test";
import assert from "node:assert/strict";
import { proxyCommandOptions } from "./sshProxy";

test("the bastion hop gets the same key and known_hosts options as the destination", () => {
  const options = ["-o", "BatchMode=yes", "-i", "/work/my key", "-o", "UserKnownHostsFile=/work/.lab/known_hosts", "-o", "StrictHostKeyChecking=yes"];
  assert.deepEqual(proxyCommandOptions({ host: "10.213.70.13", port: 2222, user: "jump" }, options), [
    "-o",
    "ProxyCommand='ssh' '-o' 'BatchMode=yes' '-i' '/work/my key' '-o' 'UserKnownHostsFile=/work/.lab/known_hosts' '-o' 'StrictHostKeyChecking=yes' '-p' '2222' '-W' %h:%p 'jump@10.213.70.13'",
  ]);
});
