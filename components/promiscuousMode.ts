// Puts a host's trunk interface into promiscuous mode (`ip link set ens33 promisc on` in docs/lab-note.md),
// so frames for the containers' own MACs are accepted; delete turns it off only if it was off.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { Persistence } from "../topology";
import { renderPromiscuousMode, withReapply } from "./scripts";
import { hostCommand } from "./hostCommand";
import type { HostSession } from "./overlayHost";
import { type LegacyAliases, noLegacyAliases } from "./resourceNames";

export interface PromiscuousModeArgs {
  /** How to reach the host and who runs the scripts. */
  session: HostSession;
  /** The NIC carrying the VLANs ("ens33"); part of the command's name, so a new trunk is a new command. */
  trunkInterface: string;
  /** How host config survives a reboot. */
  persistence: Persistence;
  /** What must succeed on the host before it is changed (the Docker Engine check). Default none. */
  hostReady?: pulumi.Resource[];
  /** The stack's reapply number, marked in every script (a change re-runs every create in place). Default 0. */
  reapply?: number;
  /** The host's boot unit command, whose directory the boot fragment goes into. Default none (no boot unit). */
  bootUnit?: pulumi.Resource;
  /** Aliases to the names a stack deployed before stable identities used. Default none. */
  legacy?: LegacyAliases;
}

export class PromiscuousMode extends pulumi.ComponentResource {
  public readonly trunkInterface: string;
  public readonly command: command.remote.Command;

  constructor(name: string, args: PromiscuousModeArgs, opts?: pulumi.ComponentResourceOptions) {
    const legacy = args.legacy ?? noLegacyAliases;
    super("overlay:host:PromiscuousMode", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), ...legacy()] });
    const script = withReapply(renderPromiscuousMode({ trunkInterface: args.trunkInterface, persistence: args.persistence, boot: args.bootUnit !== undefined }), args.reapply ?? 0);
    this.trunkInterface = args.trunkInterface;
    this.command = hostCommand(`${name}/promisc/${args.trunkInterface}`, args.session, script, {
      parent: this,
      dependsOn: [...(args.hostReady ?? []), ...(args.bootUnit ? [args.bootUnit] : [])],
      aliases: legacy("-promisc"),
    });
    this.registerOutputs({ trunkInterface: this.trunkInterface });
  }
}
