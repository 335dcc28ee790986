import { test } from "node:test";
import assert from "node:assert/strict";
import { editDistance, nearestKey } from "./nearestKey";

test("edits count insertions, deletions, substitutions and swapped neighbours, not case", () => {
  assert.equal(editDistance("vlanAdresses", "vlanAddresses"), 1);
  assert.equal(editDistance("imgae", "image"), 1);
  assert.equal(editDistance("sshPrivatekey", "sshPrivateKey"), 0);
  assert.equal(editDistance("host", "hosts"), 1);
  assert.equal(editDistance("", "ip"), 2);
  assert.equal(editDistance("mac", "name"), 3);
});

test("the nearest known key is offered only when it is close for the key's length", () => {
  const host = ["name", "address", "port", "role", "trunkInterface", "vlanAddresses", "containers", "hostShim", "hostKey"];
  assert.equal(nearestKey("vlanAdresses", host), "vlanAddresses");
  assert.equal(nearestKey("contianers", host), "containers");
  assert.equal(nearestKey("hostkey", host), "hostKey");
  assert.equal(nearestKey("user", host), undefined);
  assert.equal(nearestKey("password", host), undefined);
  assert.equal(nearestKey("mac", ["name", "vlan", "ip", "image", "key"]), undefined);
  assert.equal(nearestKey("ipp", ["name", "vlan", "ip", "image", "key"]), "ip");
});
