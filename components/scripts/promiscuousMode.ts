// Promiscuous mode on a trunk interface (`ip link set ens33 promisc on`), so the NIC
// accepts frames for the macvlan containers' MAC addresses. Delete turns it off only if it was off.

import type { Persistence } from "../../topology/types";
import { notPersistedComment, persistenceBackend } from "./persistence";
import {
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
}

/** The record of the flag before the first create: one line, `promisc=on` or `promisc=off`. */
export function promiscuousStateFile(trunkInterface: string): string {
  return `${STATE_DIR}/${promiscuousStateName(trunkInterface)}`;
}

function promiscuousStateName(trunkInterface: string): string {
  return `promisc-${trunkInterface}.before`;
}

function common(args: PromiscuousModeScriptArgs, action: "create" | "update" | "delete"): string[] {
  const backend = persistenceBackend(args.persistence);
  return [
    ...prelude(`promiscuous mode on ${args.trunkInterface} (${action})`, notPersistedComment(backend, "promiscuous")),
    `IFACE=${shellQuote(args.trunkInterface)}`,
    `BEFORE=${stateFile(promiscuousStateName(args.trunkInterface))}`,
    ...stateFunctions(),
    "promisc_state() {",
    "  if ip -o link show dev \"$IFACE\" | grep -q '[<,]PROMISC[,>]'; then echo on; else echo off; fi",
    "}",
  ];
}

/** Create and update: the flag on (journalled, so a run that fails turns it back off). */
function renderConverge(args: PromiscuousModeScriptArgs, action: "create" | "update"): string {
  const backend = persistenceBackend(args.persistence);
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
    ...(backend.persists.promiscuous ? [] : ["say \"$IFACE: promisc is not persisted across reboots\""]),
    "commit",
  ]);
}

export function renderPromiscuousMode(args: PromiscuousModeScriptArgs): HostScript {
  const remove = [
    ...common(args, "delete"),
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
    "release_state_dir",
  ];
  return { create: renderConverge(args, "create"), update: renderConverge(args, "update"), delete: joinScript(remove) };
}
