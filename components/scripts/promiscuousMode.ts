// Promiscuous mode on a trunk interface (`ip link set ens33 promisc on`), so the NIC
// accepts frames for the macvlan containers' MAC addresses. Delete turns it off only if it was off.

import type { Persistence } from "../../topology/types";
import { bootFragment, bootFragmentPath, dropFragment, dropStaleFragment, writeOwnFragment } from "./bootUnit";
import { type Confirmation, confirmableConverge } from "./confirm";
import { concernCreate, concernDelete } from "./concernScript";
import type { ManagedFile } from "./managedFile";
import { notPersistedComment, persistenceBackend } from "./persistence";
import { buildScript, shellFunction, steps } from "./scriptBuilder";
import {
  BEGIN_TRANSACTION,
  COMMIT,
  FAIL,
  FORGET,
  type HostScript,
  RECORD,
  RECORDED,
  SAY,
  STATE_DIR,
  UNDO_PUSH,
} from "./shell";

export interface PromiscuousModeScriptArgs {
  readonly trunkInterface: string;
  readonly persistence: Persistence;
  /** Write the boot fragment that re-applies this at boot (the host has the boot unit). Default false. */
  readonly boot?: boolean;
  /** The stack's confirmWithinSeconds: an in-place update arms a revert that far ahead (confirm.ts). Default 0: off. */
  readonly confirmWithinSeconds?: number;
}

function confirmation(args: PromiscuousModeScriptArgs): Confirmation {
  return { id: `promisc-${args.trunkInterface}`, withinSeconds: args.confirmWithinSeconds ?? 0 };
}

/** The record of the flag before the first create: one line, `promisc=on` or `promisc=off`. */
export function promiscuousStateFile(trunkInterface: string): string {
  return `${STATE_DIR}/promisc-${trunkInterface}.before`;
}

const PROMISC_STATE = shellFunction("promisc_state", [
  "promisc_state() {",
  "  if ip -o link show dev \"$IFACE\" | grep -q '[<,]PROMISC[,>]'; then echo on; else echo off; fi",
  "}",
]);

/** Derived from the header, the same for every trunk: its record. */
const RECORD_NAME = "BEFORE=\"$STATE_DIR/promisc-$IFACE.before\"";

function comments(args: PromiscuousModeScriptArgs): string[] {
  return args.boot === true
    ? ["Brought back at boot by macvlan-overlay.service, which runs this text."]
    : notPersistedComment(persistenceBackend(args.persistence), "promiscuous");
}

function values(args: PromiscuousModeScriptArgs, withFragment: boolean): Array<readonly [string, string]> {
  return [
    ["IFACE", args.trunkInterface],
    ...(withFragment ? [["FRAGMENT", bootFragmentPath(10, `promisc-${args.trunkInterface}`)] as const] : []),
    ["STATE_DIR", STATE_DIR],
  ];
}

/**
 * Create and update: the flag on (journalled, so a run that fails turns it back off). With the boot
 * unit, the same text is the boot fragment (it writes itself there as it commits).
 */
function converge(args: PromiscuousModeScriptArgs, title: string, fragment = false): string {
  const boot = args.boot === true;
  return confirmableConverge(confirmation(args), (confirm) => {
  const body = steps(
    confirm.guard,
    RECORD_NAME,
    BEGIN_TRANSACTION,
    "ip link show dev \"$IFACE\" >/dev/null 2>&1 || fail \"$IFACE: no such interface\"",
    confirm.arm,
    "was=$(promisc_state)",
    "if [ ! -f \"$BEFORE\" ]; then",
    "  record \"$BEFORE\" \"promisc=$was\"",
    "  say \"$IFACE: recorded previous state (promisc $was)\"",
    "fi",
    "if [ \"$was\" = on ]; then",
    "  say \"$IFACE: promisc already on\"",
    "else",
    "  undo_push ip link set dev \"$IFACE\" promisc off",
    "  ip link set dev \"$IFACE\" promisc on",
    "  say \"$IFACE: promisc on (was off)\"",
    "fi",
    ...(persistenceBackend(args.persistence).persists.promiscuous || boot ? [] : ["say \"$IFACE: promisc is not persisted across reboots\""]),
    boot ? writeOwnFragment() : dropStaleFragment(),
    confirm.file,
    "commit",
    { lines: [], uses: [FAIL, PROMISC_STATE, RECORD, SAY, UNDO_PUSH, COMMIT] },
  );
  return buildScript({ fragment, title, comments: comments(args), values: [...values(args, true), ...confirm.values], uses: body.uses, body: body.lines });
  });
}

/** The boot fragment: the converge, run by the boot unit in name order (10: trunks first); its create runs the same text. */
export function promiscuousBootFragment(args: PromiscuousModeScriptArgs): ManagedFile {
  return bootFragment(10, `promisc-${args.trunkInterface}`, converge(args, "promiscuous mode (create, update, boot)", true));
}

export function renderPromiscuousMode(args: PromiscuousModeScriptArgs): HostScript {
  const boot = args.boot === true;
  const remove = steps(
    "if [ ! -f \"$BEFORE\" ]; then",
    "  say \"$IFACE: no record of a create, promisc left as it is\"",
    "elif ! recorded \"$BEFORE\" promisc=off; then",
    "  say \"$IFACE: promisc left on (it was on before create)\"",
    "elif ! ip link show dev \"$IFACE\" >/dev/null 2>&1; then",
    "  say \"$IFACE: interface is gone, nothing to restore\"",
    "elif [ \"$(promisc_state)\" = on ]; then",
    "  ip link set dev \"$IFACE\" promisc off",
    "  say \"$IFACE: promisc off (restored)\"",
    "else",
    "  say \"$IFACE: promisc already off\"",
    "fi",
    "forget \"$BEFORE\"",
    ...(boot ? [dropFragment()] : []),
    { lines: [], uses: [SAY, RECORDED, PROMISC_STATE, FORGET] },
  );
  return {
    create: concernCreate({
      title: "promiscuous mode (create or update)",
      boot,
      bootFragment: () => promiscuousBootFragment(args),
      converge: (title) => converge(args, title),
      confirmWithinSeconds: args.confirmWithinSeconds,
    }),
    delete: concernDelete({ title: "promiscuous mode (delete)", confirmation: confirmation(args), recordNames: RECORD_NAME, values: values(args, boot), body: remove }),
  };
}
