// Proof that packets flow: from each container on a docker host, ping every other container of
// the overlay and fail the deployment if any expected path is down. Changes nothing on the host.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderConnectivityCheck, type Probe } from "./scripts";
import type { HostConnection } from "./overlayHost";

export interface ConnectivityCheckArgs {
  connection: pulumi.Input<HostConnection>;
  probes: readonly Probe[];
}

export class ConnectivityCheck extends pulumi.ComponentResource {
  public readonly probes: readonly Probe[];
  /** One line per probe, as the check printed it. */
  public readonly report: pulumi.Output<string>;

  constructor(name: string, args: ConnectivityCheckArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:verify:ConnectivityCheck", name, {}, opts);
    this.probes = args.probes;
    const check = new command.remote.Command(
      `${name}-ping`,
      {
        connection: args.connection,
        create: renderConnectivityCheck({ probes: args.probes }),
        delete: "true",
      },
      { parent: this },
    );
    this.report = check.stdout;
    this.registerOutputs({ report: this.report });
  }
}
