// Properties every rendered script has: shellcheck-clean POSIX sh, deterministic, values quoted.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Persistence } from "../../topology/types";
import { renderBootUnit } from "./bootUnit";
import { callsFunction, codeOnly, definedFunctions } from "./scriptBuilder";
import {
  renderConnectivityCheck,
  renderHostShim,
  renderNatRouter,
  renderPromiscuousMode,
  renderVlanSubinterface,
  SCRIPT_PATH,
} from "./index";
import { bareVlan30, host1Vlan10, seedRouter } from "../../testing/seed";
import { evilScripts } from "../../testing/evil";
import { sandboxUnavailableReason, withHostSandbox } from "../../testing/hostSandbox";
import { shellcheck } from "../../testing/shellcheck";
import { shellcheckUnavailableReason } from "../../testing/prerequisites";

const persistences: Persistence[] = ["network-scripts", "none"];

function everyScript(): Array<[string, string]> {
  const scripts: Array<[string, string]> = [];
  for (const persistence of persistences) {
    for (const boot of [false, true]) {
      const promisc = renderPromiscuousMode({ trunkInterface: "ens33", persistence, boot });
      scripts.push([`promiscuous create (${persistence}, boot ${boot})`, promisc.create], [`promiscuous delete (${persistence}, boot ${boot})`, promisc.delete]);
      for (const sub of [host1Vlan10, bareVlan30]) {
        const vlan = renderVlanSubinterface({ subinterface: sub, persistence, boot });
        scripts.push([`vlan ${sub.device} create (${persistence}, boot ${boot})`, vlan.create], [`vlan ${sub.device} delete (${persistence}, boot ${boot})`, vlan.delete]);
      }
    }
  }
  for (const masquerade of [true, false]) {
    for (const boot of [false, true]) {
      const nat = renderNatRouter({ interfaces: seedRouter.interfaces, masquerade, boot });
      scripts.push([`nat create (masquerade ${masquerade}, boot ${boot})`, nat.create], [`nat delete (masquerade ${masquerade}, boot ${boot})`, nat.delete]);
    }
  }
  for (const boot of [false, true]) {
    const shim = renderHostShim({ device: "mvo-shim10", parent: "ens33.10", address: "172.18.0.250", containerIps: ["172.18.0.2"], boot });
    scripts.push([`shim create (boot ${boot})`, shim.create], [`shim delete (boot ${boot})`, shim.delete]);
  }
  const unit = renderBootUnit({ trunkInterfaces: ["ens33"] });
  scripts.push(["boot unit create", unit.create], ["boot unit delete", unit.delete]);
  const single = renderNatRouter({ interfaces: ["ens33.10"], masquerade: true });
  scripts.push(["nat create (one interface)", single.create], ["nat delete (one interface)", single.delete]);
  scripts.push([
    "connectivity check",
    renderConnectivityCheck({
      probes: [
        { from: "bbox10", to: "bbox30", toIp: "172.18.0.5", kind: "same-vlan", expectReachable: true },
        { from: "bbox10", to: "bbox40", toIp: "172.19.0.4", kind: "routed", expectReachable: false },
      ],
    }),
  ]);
  scripts.push(["connectivity check (no probes)", renderConnectivityCheck({ probes: [] })]);
  return scripts;
}

const noShellcheck = shellcheckUnavailableReason();

test("every rendered script passes shellcheck -s sh", { skip: noShellcheck }, () => {
  for (const [name, text] of everyScript()) {
    const result = shellcheck(text);
    assert.ok(result.clean, `${name}:\n${result.output}`);
  }
});

test("every rendered script starts with set -eu and the fixed PATH", () => {
  for (const [name, text] of everyScript()) {
    const lines = text.split("\n");
    assert.equal(lines[0], "#!/bin/sh", name);
    const setIndex = lines.indexOf("set -eu");
    assert.ok(setIndex > 0, `${name}: set -eu`);
    assert.ok(lines.slice(0, setIndex).every((line) => line.startsWith("#")), `${name}: only comments before set -eu`);
    assert.equal(lines[setIndex + 1], `PATH=${SCRIPT_PATH}`, name);
    assert.ok(text.endsWith("\n") && !text.endsWith("\n\n"), `${name}: one trailing newline`);
  }
});

test("every rendered script calls each function it defines, and defines each function of ours it calls", () => {
  const scripts = everyScript();
  const ours = new Set(scripts.flatMap(([, text]) => definedFunctions(text)));
  for (const [name, text] of scripts) {
    const code = codeOnly(text);
    const defined = definedFunctions(text);
    assert.deepEqual(defined.filter((fn) => !callsFunction(code, fn)), [], `${name}: defined, never called`);
    assert.deepEqual([...ours].filter((fn) => callsFunction(code, fn) && !defined.includes(fn)), [], `${name}: called, not defined`);
    assert.equal(new Set(defined).size, defined.length, `${name}: a function defined twice`);
  }
});

test("rendering is deterministic: the same input gives byte-identical text", () => {
  const first = everyScript();
  const second = everyScript();
  assert.deepEqual(second, first);
});

test("values that would be shell syntax still give shellcheck-clean scripts", { skip: noShellcheck }, () => {
  for (const text of evilScripts("/tmp/pwned")) {
    // SC2016 (info) asks whether `$(` inside single quotes was meant to expand: here it must not.
    const result = shellcheck(text, ["SC2016"]);
    assert.ok(result.clean, result.output);
  }
});

test("values full of shell syntax never run as code when the scripts run for real", { skip: sandboxUnavailableReason() }, () =>
  withHostSandbox({}, (box) => {
    box.exec("ip link add ens33 type veth peer name ovlpeer0");
    for (const text of evilScripts("/run/pwned")) {
      box.run(text);
      assert.equal(box.run("test -e /run/pwned").status, 1, text);
    }
  }),
);
