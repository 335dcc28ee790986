// Promiscuous mode on a trunk interface (`ip link set ens33 promisc on`), so the NIC
// accepts frames for the macvlan containers' MAC addresses. Delete turns it off only if it was off.

import type { Persistence } from "../../topology/types";
import { bootFragment, bootFragmentCommands } from "./bootUnit";
import { managedFileFunctions } from "./managedFile";
import { notPersistedComment, persistenceBackend } from "./persistence";
import {
  holdHostLock,
  type HostScript,
  joinScript,
  prelude,
  shellQuote,
  STATE_DIR,
  stateFile,
  stateFunctions,
  transactionTrap,
} from "./shell";

export interface PromiscuousModeScriptArgs {
  readonly trunkInterface: string;
  readonly persistence: Persistence;
  /** Write the boot fragment that re-applies this at boot (the host has the boot unit). Default false. */
  readonly boot?: boolean;
}

/** The record of the flag before the first create: one line, `promisc=on` or `promisc=off`. */
export function promiscuousStateFile(trunkInterface: string): string {
  return `${STATE_DIR}/${promiscuousStateName(trunkInterface)}`;
}

function promiscuousStateName(trunkInterface: string): string {
  return `promisc-${trunkInterface}.before`;
}

type Action = "create or update" | "delete" | "boot";

function common(args: PromiscuousModeScriptArgs, action: Action): string[] {
  const backend = persistenceBackend(args.persistence);
  const boot = args.boot === true;
  return [
    ...prelude(
      `promiscuous mode on ${args.trunkInterface} (${action})`,
      boot ? ["Brought back at boot by macvlan-overlay.service (its boot fragment is this script's converge part)."] : notPersistedComment(backend, "promiscuous"),
    ),
    `IFACE=${shellQuote(args.trunkInterface)}`,
    `BEFORE=${stateFile(promiscuousStateName(args.trunkInterface))}`,
    ...stateFunctions(),
    ...(action === "boot" ? [] : managedFileFunctions()),
    "promisc_state() {",
    "  if ip -o link show dev \"$IFACE\" | grep -q '[<,]PROMISC[,>]'; then echo on; else echo off; fi",
    "}",
  ];
}

/** The boot fragment: the converge part alone, run by the boot unit in name order (10: trunks first). */
export function promiscuousBootFragment(args: PromiscuousModeScriptArgs) {
  return bootFragment(10, `promisc-${args.trunkInterface}`, converge(args, "boot"));
}

/** Create and update: the flag on (journalled, so a run that fails turns it back off), then the boot fragment. */
function renderConverge(args: PromiscuousModeScriptArgs, action: "create or update"): string {
  const fragment = bootFragmentCommands(promiscuousBootFragment(args), args.boot === true);
  return converge(args, action, fragment.write);
}

function converge(args: PromiscuousModeScriptArgs, action: "create or update" | "boot", bootLines: readonly string[] = []): string {
  const backend = persistenceBackend(args.persistence);
  const boot = args.boot === true;
  return joinScript([
    ...common(args, action),
    ...transactionTrap(),
    "ip link show dev \"$IFACE\" >/dev/null 2>&1 || fail \"$IFACE: no such interface\"",
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
    ...(backend.persists.promiscuous || boot ? [] : ["say \"$IFACE: promisc is not persisted across reboots\""]),
    ...bootLines,
    "commit",
  ]);
}

export function renderPromiscuousMode(args: PromiscuousModeScriptArgs): HostScript {
  const remove = [
    ...common(args, "delete"),
    ...holdHostLock(),
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
    ...(args.boot === true ? bootFragmentCommands(promiscuousBootFragment(args), true).drop : []),
    "release_state_dir",
  ];
  return { create: renderConverge(args, "create or update"), delete: joinScript(remove) };
}
