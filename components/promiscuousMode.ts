// Puts a host's trunk interface into promiscuous mode (the seed's `ip link set ens33 promisc on`),
// so frames for the containers' own MACs are accepted; delete turns it off only if it was off.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { Persistence } from "../topology";
import { renderPromiscuousMode } from "./scripts";
import { hostCommand } from "./hostCommand";
import type { HostConnection } from "./overlayHost";

export interface PromiscuousModeArgs {
  connection: pulumi.Input<HostConnection>;
  trunkInterface: string;
  persistence: Persistence;
}

export class PromiscuousMode extends pulumi.ComponentResource {
  public readonly trunkInterface: string;
  public readonly command: command.remote.Command;

  constructor(name: string, args: PromiscuousModeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:host:PromiscuousMode", name, {}, opts);
    const script = renderPromiscuousMode({
      trunkInterface: args.trunkInterface,
      persistence: args.persistence,
    });
    this.trunkInterface = args.trunkInterface;
    this.command = hostCommand(`${name}-promisc`, args.connection, script, this);
    this.registerOutputs({ trunkInterface: this.trunkInterface });
  }
}
