// A create with the boot unit holds its converge once, as its boot fragment: it runs that text and,
// as it commits, writes the very same text to the fragment file, in the same transaction.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { VlanSubinterfaceScriptArgs } from "./vlanSubinterface";
import { renderVlanSubinterface, vlanBootFragment } from "./vlanSubinterface";
import { renderNatRouter, routerBootFragment } from "./natRouter";
import { promiscuousBootFragment, renderPromiscuousMode } from "./promiscuousMode";
import { BOOT_FRAGMENT_DELIMITER, BOOT_FRAGMENT_DIR } from "./bootUnit";
import { type HostSandbox, sandboxUnavailableReason, trunkWithVethVlans, withHostSandbox } from "../../testing/hostSandbox";
import { evilValue } from "../../testing/evil";
import { host1Vlan10, seedRouter } from "../../testing/seed";
import { shellcheck } from "../../testing/shellcheck";
import { shellcheckUnavailableReason } from "../../testing/prerequisites";

const skip = sandboxUnavailableReason();
const ARGS: VlanSubinterfaceScriptArgs = { subinterface: host1Vlan10, persistence: "network-scripts", boot: true };
const FRAGMENT = vlanBootFragment(ARGS);
const SCRIPT = renderVlanSubinterface(ARGS);

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

test("each create holds its boot fragment's text once, and nothing else of its converge", () => {
  const cases: Array<[string, string, string]> = [
    ["vlan", SCRIPT.create, FRAGMENT.content],
    ["promisc", renderPromiscuousMode({ trunkInterface: "ens33", persistence: "network-scripts", boot: true }).create, promiscuousBootFragment({ trunkInterface: "ens33", persistence: "network-scripts", boot: true }).content],
    ["router", renderNatRouter({ ...seedRouter, boot: true }).create, routerBootFragment({ ...seedRouter, boot: true }).content],
  ];
  for (const [what, create, fragment] of cases) {
    assert.equal(occurrences(create, fragment), 1, what);
    // Around the fragment: reading it (a quoted heredoc), running it. No function of its own.
    const outside = create.replace(fragment, "");
    assert.ok(outside.split("\n").length < 15, `${what}: ${outside}`);
    assert.doesNotMatch(outside, /^\s*[a-z_]+\(\) \{/m, what);
  }
});

test("the fragment alone is a shellcheck-clean script", { skip: shellcheckUnavailableReason() }, () => {
  const result = shellcheck(FRAGMENT.content);
  assert.ok(result.clean, result.output);
});

test("a fragment line equal to the heredoc delimiter cannot be rendered", () => {
  const device = `ens33.10\n${BOOT_FRAGMENT_DELIMITER}`;
  assert.throws(() => renderVlanSubinterface({ ...ARGS, subinterface: { ...host1Vlan10, device } }), /heredoc delimiter/);
});

function run(box: HostSandbox, text: string, shell = "sh"): string {
  const result = box.run(text, { shell });
  assert.equal(result.status, 0, `exit ${result.status}\n${result.stdout}${result.stderr}`);
  assert.equal(result.stderr, "");
  return result.stdout;
}

for (const shell of ["sh", "bash"]) {
  test(`(${shell}) the create writes the text it ran as the fragment; the fragment run at boot changes nothing more; delete restores`, { skip }, () =>
    withHostSandbox({}, (box) => {
      trunkWithVethVlans(box, ["ens33.10"]);
      const before = box.snapshot();
      const created = run(box, SCRIPT.create, shell);
      assert.ok(created.endsWith(`${BOOT_FRAGMENT_DIR}: directory created\n${FRAGMENT.path}: written\n`), created);
      assert.equal(box.exec(`cat ${FRAGMENT.path}`), FRAGMENT.content);
      const deployed = box.snapshot();
      assert.ok(!run(box, SCRIPT.create, shell).includes("written"), "a second create writes nothing");
      const boot = run(box, `sh ${FRAGMENT.path}`, shell);
      assert.ok(!boot.includes(FRAGMENT.path), `at boot the fragment leaves its own file alone:\n${boot}`);
      assert.equal(box.snapshot(), deployed);
      run(box, SCRIPT.delete, shell);
      assert.equal(box.snapshot(), before);
    }),
  );
}

test("a create whose fragment cannot be written rolls back its whole converge", { skip }, () =>
  withHostSandbox({}, (box) => {
    trunkWithVethVlans(box, ["ens33.10"]);
    box.exec(`mkdir /etc/macvlan-overlay && printf 'not a folder\\n' >${BOOT_FRAGMENT_DIR}`);
    const before = box.snapshot();
    const result = box.run(SCRIPT.create);
    assert.notEqual(result.status, 0);
    assert.match(result.stdout, /ens33\.10: address 192\.168\.22\.10\/24 added\n/);
    assert.match(result.stderr, /rollback: the changes this run had made are undone\n$/);
    assert.equal(box.snapshot(), before);
  }),
);

test("values full of shell syntax never run as code in a create that holds its fragment", { skip }, () =>
  withHostSandbox({}, (box) => {
    box.exec("ip link add ens33 type veth peer name ovlpeer0");
    const evil = evilValue("/run/pwned");
    const scripts = [
      renderVlanSubinterface({ ...ARGS, subinterface: { vlan: 10, parent: evil, device: `${evil}.10`, address: { cidr: evil, address: evil, prefix: 24, network: evil } } }),
      renderPromiscuousMode({ trunkInterface: evil, persistence: "network-scripts", boot: true }),
      renderNatRouter({ interfaces: [evil, "ens33.20"], masquerade: true, boot: true }),
    ];
    for (const text of scripts.flatMap((script) => [script.create, script.delete])) {
      box.run(text);
      assert.equal(box.run("test -e /run/pwned").status, 1, text);
    }
  }),
);
