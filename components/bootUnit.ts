// Installs a host's boot unit: macvlan-overlay.service and its runner, which at every boot, before
// docker.service, re-apply the boot fragments the host's other commands write (promiscuous mode, VLAN
// links, router rules). Those commands depend on it, so its delete runs after theirs removed their
// fragments, and removes the unit, the runner and the directories it made.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { withReapply } from "./scripts";
import { renderBootUnit } from "./scripts/bootUnit";
import { hostCommand } from "./hostCommand";
import type { HostSession } from "./overlayHost";

export interface BootUnitArgs {
  /** How to reach the host and who runs the scripts. */
  session: HostSession;
  /** The trunk NIC the fragments configure; the unit waits for its device. */
  trunkInterface: string;
  /** What must succeed on the host before it is changed (the Docker Engine check). Default none. */
  hostReady?: pulumi.Resource[];
  /** The stack's reapply number, marked in every script (a change re-runs every create in place). Default 0. */
  reapply?: number;
}

export class BootUnit extends pulumi.ComponentResource {
  public readonly command: command.remote.Command;

  constructor(name: string, args: BootUnitArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:host:BootUnit", name, {}, opts);
    const script = withReapply(renderBootUnit({ trunkInterfaces: [args.trunkInterface] }), args.reapply ?? 0);
    this.command = hostCommand(`${name}/unit`, args.session, script, { parent: this, dependsOn: args.hostReady });
    this.registerOutputs({});
  }
}
