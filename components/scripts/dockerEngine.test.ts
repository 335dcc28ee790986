import { test } from "node:test";
import assert from "node:assert/strict";
import { sandboxUnavailableReason, withHostSandbox } from "../../testing/hostSandbox";
import { renderDockerEngineCheck } from "./dockerEngine";

test("the minimum API must read like 1.44", () => {
  assert.throws(() => renderDockerEngineCheck("one.four"), /minimum Docker API must look like 1\.44, got "one\.four"/);
});

// A stand-in docker in /usr/local/sbin (first in the script's PATH) answering as the engine in /run/engine.
const FAKE_DOCKER = `#!/bin/sh
[ "$1 $2 $3" = "version --format {{.Server.APIVersion}} {{.Server.Version}}" ] || exit 64
cat /run/engine
`;

test("an engine older than API 1.44 is refused, naming the version found; 1.44 and newer pass", { skip: sandboxUnavailableReason() }, () =>
  withHostSandbox({ extraDirs: ["/usr/local/sbin"] }, (box) => {
    box.writeFile("/usr/local/sbin/docker", FAKE_DOCKER, "0755");
    const check = renderDockerEngineCheck();
    const answer = (engine: string) => {
      box.writeFile("/run/engine", `${engine}\n`);
      return box.run(check);
    };
    const old = answer("1.41 20.10.24");
    assert.equal(old.status, 1);
    assert.equal(
      old.stderr,
      "error: Docker Engine 20.10.24 speaks API 1.41; this overlay needs API 1.44 or newer (Engine 25+) for a MAC address per network\n",
    );
    assert.equal(answer("1.43 24.0.7").status, 1);
    const current = answer("1.45 26.1.5");
    assert.equal(current.status, 0, current.stderr);
    assert.equal(current.stdout, "docker engine: 26.1.5, API 1.45\n");
    assert.equal(answer("2.0 99.0.0").status, 0);
    assert.equal(answer("1.44 25.0.0").status, 0);
    const garbled = answer("unknown");
    assert.equal(garbled.status, 1);
    assert.match(garbled.stderr, /cannot read: unknown/);
  }),
);
