// A docker host's way to its own macvlan containers on one VLAN: a macvlan shim interface (mode
// bridge) on the VLAN link, with the host's address and a route to each of its containers there.
// Parent, address and routes converge in place; delete removes exactly the shim (and so its routes).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { HostShim as HostShimSpec } from "../topology";
import { renderHostShim, withReapply } from "./scripts";
import { hostCommand, textDigest } from "./hostCommand";
import type { HostSession } from "./overlayHost";

export interface HostShimArgs {
  /** How to reach the host (secret) and run scripts as root there. */
  session: HostSession;
  /** The shim: device, VLAN link, address and the container IPs it routes to. */
  shim: HostShimSpec;
  /** The VLAN link command the shim sits on. */
  link: pulumi.Resource;
  /** The host's boot unit: the shim's boot fragment goes with it, and the shim waits for it. */
  bootUnit?: pulumi.Resource;
  /** The stack's reapply number, marked in every script (a change re-runs every create in place). Default 0. */
  reapply?: number;
}

export class HostShim extends pulumi.ComponentResource {
  public readonly device: string;
  public readonly command: command.remote.Command;
  /** Changes whenever the shim's scripts change or the command is re-created. */
  public readonly fingerprint: pulumi.Output<string>;

  constructor(name: string, args: HostShimArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:host:HostShim", name, {}, opts);
    const { shim } = args;
    const script = withReapply(
      renderHostShim({ device: shim.device, parent: shim.parent, address: shim.address, containerIps: shim.containerIps, boot: args.bootUnit !== undefined }),
      args.reapply ?? 0,
    );
    this.device = shim.device;
    this.command = hostCommand(`${name}/${shim.device}`, args.session, script, { parent: this, dependsOn: [args.link, ...(args.bootUnit ? [args.bootUnit] : [])] });
    this.fingerprint = this.command.id.apply((id) => `${id}:${textDigest(script.create)}`);
    this.registerOutputs({ device: this.device, address: shim.address });
  }
}
