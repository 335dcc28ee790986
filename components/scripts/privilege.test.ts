// A non-root SSH user's scripts run through the real sudo, in a host sandbox with its own sudoers.d.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runAsRoot, stdinScriptAsRoot } from "./privilege";
import { shellQuote } from "./shell";
import { sandboxUnavailableReason, withHostSandbox } from "../../testing/hostSandbox";
import { firstMissingCommand, skipBecause } from "../../testing/prerequisites";

const skip = sandboxUnavailableReason() ?? skipBecause(firstMissingCommand(["sudo", "setpriv"]) === undefined ? undefined : "sudo or setpriv is not installed (bash lab/install-deps.sh installs sudo)");
const SCRIPT = "#!/bin/sh\nset -eu\nid -u\nprintf '%s\\n' \"$SSH_CONNECTION\"\n";
const CONNECTION = "198.51.100.1 50022 198.51.100.2 22";

// `nobody` stands in for a sudo user; the sandbox covers /etc/sudoers.d with a tmpfs of its own.
function asNobody(script: string): string {
  return `SSH_CONNECTION=${shellQuote(CONNECTION)} setpriv --reuid=65534 --regid=65534 --clear-groups sh -c ${shellQuote(script)}`;
}

test("root runs the script as it is", () => {
  assert.equal(runAsRoot(SCRIPT, { sshUser: "root", hostName: "host1" }), SCRIPT);
});

test("a sudo user with a NOPASSWD rule runs the script as root, keeping SSH_CONNECTION", { skip }, () =>
  withHostSandbox({ extraDirs: ["/etc/sudoers.d"] }, (box) => {
    box.writeFile("/etc/sudoers.d/ovl-test", "nobody ALL=(root) NOPASSWD: ALL\n", "440");
    const result = box.run(asNobody(runAsRoot(SCRIPT, { sshUser: "nobody", hostName: "host1" })));
    assert.equal(result.stdout, `0\n${CONNECTION}\n`, result.stderr);
    assert.equal(result.status, 0);
  }),
);

test("a sudo user that would be asked for a password gets a clear error, and nothing runs", { skip }, () =>
  withHostSandbox({ extraDirs: ["/etc/sudoers.d"] }, (box) => {
    box.writeFile("/etc/sudoers.d/ovl-test", "nobody ALL=(root) ALL\n", "440");
    const result = box.run(asNobody(runAsRoot("#!/bin/sh\necho ran\n", { sshUser: "nobody", hostName: "host1" })));
    assert.equal(result.status, 1);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      'error: host1: user nobody cannot run sudo without a password here (sudo -n true failed): add a NOPASSWD rule, e.g. "nobody ALL=(root) NOPASSWD: ALL" in /etc/sudoers.d/\n',
    );
  }),
);

test("root reads a stdin script with plain sh -s", () => {
  assert.equal(stdinScriptAsRoot({ sshUser: "root", hostName: "host1" }), "sh -s");
});

test("a sudo user's stdin script runs as root through sudo -n sh -s", { skip }, () =>
  withHostSandbox({ extraDirs: ["/etc/sudoers.d"] }, (box) => {
    box.writeFile("/etc/sudoers.d/ovl-test", "nobody ALL=(root) NOPASSWD: ALL\n", "440");
    const command = stdinScriptAsRoot({ sshUser: "nobody", hostName: "host2" });
    const result = box.run(asNobody(command), { input: "id -u\n" });
    assert.equal(result.stdout, "0\n", result.stderr);
    assert.equal(result.status, 0);
  }),
);

test("a sudo user's stdin script stops with the clear error when sudo asks for a password", { skip }, () =>
  withHostSandbox({ extraDirs: ["/etc/sudoers.d"] }, (box) => {
    box.writeFile("/etc/sudoers.d/ovl-test", "nobody ALL=(root) ALL\n", "440");
    const result = box.run(asNobody(stdinScriptAsRoot({ sshUser: "nobody", hostName: "host2" })), { input: "echo ran\n" });
    assert.equal(result.status, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^error: host2: user nobody cannot run sudo without a password here/);
  }),
);
