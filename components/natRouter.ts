// The router between the VLANs: ip_forward through /etc/sysctl.d and the lab note's MASQUERADE and
// FORWARD rules, each tagged so that an update adds and removes only the rules that differ and
// delete removes exactly ours. Never replaced: a change converges in place, forwarding on throughout.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { describeRule, renderNatRouter, routerRules, withReapply } from "./scripts";
import { hostCommand, textDigest } from "./hostCommand";
import type { HostSession } from "./overlayHost";
import { type LegacyAliases, noLegacyAliases } from "./resourceNames";

export interface NatRouterArgs {
  /** How to reach the router host and who runs the scripts. */
  session: HostSession;
  /** The router's VLAN subinterfaces ("ens33.10", "ens33.20"). */
  interfaces: readonly string[];
  /** MASQUERADE out of every interface (the NAT of the lab note, docs/lab-note.md); false forwards without NAT. */
  masquerade: boolean;
  /** The router's link commands: the rules name their devices. */
  links: pulumi.Resource[];
  /** The stack's reapply number, marked in every script (a change re-runs every create in place). Default 0. */
  reapply?: number;
  /** The host's boot unit command: with it, a boot fragment brings the rules back at boot. Default none. */
  bootUnit?: pulumi.Resource;
  /** Aliases to the names a stack deployed before stable identities used. Default none. */
  legacy?: LegacyAliases;
}

export class NatRouter extends pulumi.ComponentResource {
  /** The iptables rules it holds, as `iptables` arguments. */
  public readonly rules: string[];
  public readonly command: command.remote.Command;
  /** Changes whenever the rule set changes or the command is re-created. */
  public readonly fingerprint: pulumi.Output<string>;

  constructor(name: string, args: NatRouterArgs, opts?: pulumi.ComponentResourceOptions) {
    const legacy = args.legacy ?? noLegacyAliases;
    super("overlay:router:NatRouter", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), ...legacy()] });
    const ruleArgs = { interfaces: args.interfaces, masquerade: args.masquerade };
    const script = withReapply(renderNatRouter({ ...ruleArgs, boot: args.bootUnit !== undefined }), args.reapply ?? 0);
    this.rules = routerRules(ruleArgs).map(describeRule);
    this.command = hostCommand(`${name}/rules`, args.session, script, {
      parent: this,
      dependsOn: [...args.links, ...(args.bootUnit ? [args.bootUnit] : [])],
      aliases: legacy("-rules"),
    });
    this.fingerprint = this.command.id.apply((id) => `${id}:${textDigest(script.create)}`);
    this.registerOutputs({ rules: this.rules });
  }
}
