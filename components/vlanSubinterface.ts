// Creates (or adopts) the VLAN subinterface `<trunk>.<id>` on a host, gives it the host's VLAN
// address, brings it up and, with network-scripts, writes the RHEL 7 ifcfg file so it survives a reboot.
// An address or persistence change is converged in place. The device (trunk and VLAN id) is in the
// command's name: a new one is a new link, the network and its containers move to it (the network's
// parent input changes, which replaces them, deleting first), then the old link is deleted.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { Persistence, Subinterface } from "../topology";
import { renderVlanSubinterface, withReapply } from "./scripts";
import { hostCommand, textDigest } from "./hostCommand";
import type { HostSession } from "./overlayHost";
import { type LegacyAliases, noLegacyAliases } from "./resourceNames";

export interface VlanSubinterfaceArgs {
  /** How to reach the host and who runs the scripts. */
  session: HostSession;
  /** The link, its parent and the host's address on it. */
  subinterface: Subinterface;
  /** How host config survives a reboot. */
  persistence: Persistence;
  /** The host's promiscuous-mode command, which the link needs first. */
  promiscuous: pulumi.Resource;
  /** The stack's reapply number, marked in every script (a change re-runs every create in place). Default 0. */
  reapply?: number;
  /** The host's boot unit command, whose directory the boot fragment goes into. Default none (no boot unit). */
  bootUnit?: pulumi.Resource;
  /** Aliases to the names a stack deployed before stable identities used. Default none. */
  legacy?: LegacyAliases;
}

export class VlanSubinterface extends pulumi.ComponentResource {
  public readonly device: string;
  public readonly address?: string;
  public readonly command: command.remote.Command;
  /**
   * The device name, known only once the link command exists: networks take their parent from it,
   * so they record the link as an input dependency.
   */
  public readonly parentDevice: pulumi.Output<string>;
  /** Changes whenever the link is replaced or its script changes (what the connectivity check re-runs on). */
  public readonly fingerprint: pulumi.Output<string>;

  constructor(name: string, args: VlanSubinterfaceArgs, opts?: pulumi.ComponentResourceOptions) {
    const legacy = args.legacy ?? noLegacyAliases;
    super("overlay:host:VlanSubinterface", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), ...legacy()] });
    const { subinterface } = args;
    const script = withReapply(renderVlanSubinterface({ subinterface, persistence: args.persistence, boot: args.bootUnit !== undefined }), args.reapply ?? 0);
    this.device = subinterface.device;
    this.address = subinterface.address?.cidr;
    this.command = hostCommand(`${name}/link/${subinterface.device}`, args.session, script, {
      parent: this,
      dependsOn: [args.promiscuous, ...(args.bootUnit ? [args.bootUnit] : [])],
      aliases: legacy("-link"),
    });
    this.parentDevice = this.command.id.apply(() => subinterface.device);
    this.fingerprint = this.command.id.apply((id) => `${id}:${textDigest(script.create)}`);
    this.registerOutputs({ device: this.device, address: this.address });
  }
}
