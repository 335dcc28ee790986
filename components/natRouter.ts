// The router between the VLANs: ip_forward through /etc/sysctl.d and the seed's MASQUERADE and
// FORWARD rules, each tagged so that delete removes exactly ours.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { describeRule, renderNatRouter, routerRules } from "./scripts";
import { hostCommand } from "./hostCommand";
import type { HostConnection } from "./overlayHost";

export interface NatRouterArgs {
  connection: pulumi.Input<HostConnection>;
  /** The router's VLAN subinterfaces ("ens33.10", "ens33.20"). */
  interfaces: readonly string[];
  masquerade: boolean;
}

export class NatRouter extends pulumi.ComponentResource {
  /** The iptables rules it holds, as `iptables` arguments. */
  public readonly rules: string[];
  public readonly command: command.remote.Command;

  constructor(name: string, args: NatRouterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:router:NatRouter", name, {}, opts);
    const ruleArgs = { interfaces: args.interfaces, masquerade: args.masquerade };
    const script = renderNatRouter(ruleArgs);
    this.rules = routerRules(ruleArgs).map(describeRule);
    this.command = hostCommand(`${name}-rules`, args.connection, script, this);
    this.registerOutputs({ rules: this.rules });
  }
}
