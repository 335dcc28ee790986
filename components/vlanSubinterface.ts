// Creates (or adopts) the VLAN subinterface `<trunk>.<id>` on a host, gives it the host's VLAN
// address, brings it up and, with network-scripts, writes the seed's ifcfg file so it survives a reboot.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { Persistence, Subinterface } from "../topology";
import { renderVlanSubinterface } from "./scripts";
import { hostCommand } from "./hostCommand";
import type { HostConnection } from "./overlayHost";

export interface VlanSubinterfaceArgs {
  connection: pulumi.Input<HostConnection>;
  subinterface: Subinterface;
  persistence: Persistence;
}

export class VlanSubinterface extends pulumi.ComponentResource {
  public readonly device: string;
  public readonly address?: string;
  public readonly command: command.remote.Command;

  constructor(name: string, args: VlanSubinterfaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:host:VlanSubinterface", name, {}, opts);
    const { subinterface } = args;
    const script = renderVlanSubinterface({ subinterface, persistence: args.persistence });
    this.device = subinterface.device;
    this.address = subinterface.address?.cidr;
    this.command = hostCommand(`${name}-link`, args.connection, script, this);
    this.registerOutputs({ device: this.device, address: this.address });
  }
}
