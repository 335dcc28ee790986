// What a persistence backend is: the files one distro family's boot-time tooling reads, and
// which host changes survive a reboot with it. One implementation per `Persistence` value.

import type { Persistence, Subinterface } from "../../../topology/types";
import type { ManagedFile } from "../managedFile";

/** Which changes a backend makes survive a reboot. */
export interface Persists {
  readonly vlan: boolean;
  readonly promiscuous: boolean;
  readonly ipForward: boolean;
  readonly iptables: boolean;
}

/** A distro's own tool for bringing a subinterface up from its files (`ifup`), as shell text that names it "$DEVICE". */
export interface VlanTooling {
  /** Names shown in output lines ("ifup", "ifdown"). */
  readonly name: string;
  readonly downName: string;
  /** A shell condition that holds on hosts where the tool really works. */
  readonly present: string;
  readonly up: string;
  readonly down: string;
}

export interface PersistenceBackend {
  readonly name: Persistence;
  readonly persists: Persists;
  /** Why, for each change in `persists` that does not survive a reboot (goes into script comments). */
  readonly whyNotPersisted: { readonly [K in keyof Persists]?: string };
  /** Files this backend writes for a subinterface, exact content, in write order. */
  vlanFiles(sub: Subinterface): readonly ManagedFile[];
  /** The backend's tool for bringing a new subinterface up from those files, if it has one. */
  vlanTooling(sub: Subinterface): VlanTooling | undefined;
  /** Files that make ip_forward=1 survive a reboot. */
  ipForwardFiles(): readonly ManagedFile[];
}

/** The script comment saying that (and why) a change is not persisted; empty when it is. */
export function notPersistedComment(backend: PersistenceBackend, change: keyof Persists): string[] {
  if (backend.persists[change]) {
    return [];
  }
  const why = backend.whyNotPersisted[change] ?? "this backend has no file for it";
  return [`Not persisted across reboots (persistence ${backend.name}): ${why}.`];
}
