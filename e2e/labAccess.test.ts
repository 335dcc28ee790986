// The docker CLI's ssh wrapper, without a lab: an `ssh` its options name (a bastion's ProxyCommand)
// must be the real one, never the wrapper again (that recursed: one ssh spawning the next, forever).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { firstMissingCommand, skipBecause } from "../testing/prerequisites";
import { DockerOverSsh } from "./labAccess";

const skip = skipBecause(firstMissingCommand(["ssh"]) === undefined ? undefined : "ssh is not installed (apt-get install openssh-client)");

test("a ProxyCommand in the provider's ssh options finds the real ssh on PATH, not the wrapper", { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-wrapper-"));
  const seen = path.join(dir, "seen");
  // The proxy only records which ssh it would run and exits: nothing connects anywhere.
  // Loopback only: with a ProxyCommand ssh opens no connection of its own anyway.
  const docker = new DockerOverSsh("ssh://root@127.0.0.1", ["-o", `ProxyCommand=sh -c 'command -v ssh >${seen}; exit 1'`], { multiplex: false });
  try {
    // As the docker CLI runs it: `ssh` from a PATH with the wrapper first.
    const result = spawnSync("ssh", ["-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "nobody@127.0.0.1", "true"], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${docker.pathDir}:${process.env.PATH ?? "/usr/bin:/bin"}` },
      timeout: 30_000,
    });
    assert.equal(result.status, 255, result.stderr);
    assert.equal(fs.readFileSync(seen, "utf8").trim(), spawnSync("sh", ["-c", "command -v ssh"], { encoding: "utf8" }).stdout.trim());
    assert.ok(!fs.readFileSync(seen, "utf8").includes(docker.pathDir));
  } finally {
    docker.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
