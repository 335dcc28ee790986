// The names the file functions give their records on the host are the ones documented here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createdDirRecord, IS_OURS, MANAGED_MARKER, managedFileFunctions } from "./managedFile";
import { buildScript } from "./scriptBuilder";
import { prelude, stateFunctions } from "./shell";
import { joinScript } from "./shellText";

test("dir_record names a directory's record for its owner as createdDirRecord does", () => {
  const script = joinScript([...prelude("t"), ...stateFunctions(), ...managedFileFunctions(), 'dir_record "$1" "$2"']);
  for (const [dir, owner] of [["/etc/sysconfig/network-scripts", "vlan-ens33.10"], ["/etc/macvlan-overlay/boot.d", "boot-20-vlan-ens33.10"]]) {
    assert.equal(execFileSync("sh", ["-c", script, "t", dir, owner], { encoding: "utf8" }), `/var/lib/macvlan-overlay/${createdDirRecord(dir, owner)}`);
  }
  assert.equal(createdDirRecord("/etc/sysctl.d", "nat-router"), "created-dir_etc_sysctl.d@nat-router");
});

test("is_ours: only a file whose first line is the marker, with or without a newline after it", () => {
  const script = buildScript({ title: "t", values: [], uses: [IS_OURS], body: ["for f in \"$@\"; do if is_ours \"$f\"; then echo yes; else echo no; fi; done"], changesHost: false });
  const dir = execFileSync("mktemp", ["-d"], { encoding: "utf8" }).trim();
  execFileSync("sh", ["-c", `printf '%s\\nx\\n' "$1" >"$2/a"; printf '%s' "$1" >"$2/b"; printf 'x\\n%s\\n' "$1" >"$2/c"; mkdir "$2/d"`, "t", MANAGED_MARKER, dir]);
  const files = ["a", "b", "c", "d", "missing"].map((name) => `${dir}/${name}`);
  assert.equal(execFileSync("sh", ["-c", script, "t", ...files], { encoding: "utf8" }), "yes\nyes\nno\nno\nno\n");
  execFileSync("rm", ["-r", dir]);
});
