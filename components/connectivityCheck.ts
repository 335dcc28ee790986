// Proof that packets flow: from each container on a docker host, ping what the probe plan says and
// fail the deployment if any expected path is down. Changes nothing on the host. It runs again
// whenever anything it verifies is created, replaced or updated (its trigger is their fingerprints),
// and never when nothing changed.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import {
  CONNECTIVITY_CHECK_COMMAND,
  inPlanOrder,
  parseConnectivityReport,
  type Probe,
  type ProbeReport,
  renderConnectivityCheck,
} from "./scripts";
import type { HostSession } from "./overlayHost";
import { stdinScriptAsRoot } from "./scripts/privilege";
import { type LegacyAliases, noLegacyAliases } from "./resourceNames";

export interface ConnectivityCheckArgs {
  /** How to reach the docker host the pings start from, and who runs the check. */
  session: HostSession;
  /** The pings, from this host's containers. */
  probes: readonly Probe[];
  /** Everything the check verifies (containers, networks, links, router rules): recorded dependencies. */
  verifies: pulumi.Resource[];
  /** Changes whenever something verified is created, replaced or updated (see verifiedFingerprint). */
  fingerprint: pulumi.Input<string>;
  /** Aliases to the names a stack deployed before stable identities used. Default none. */
  legacy?: LegacyAliases;
}

/** One digest of the verified resources' fingerprints: a check's trigger. */
export function verifiedFingerprint(fingerprints: pulumi.Input<string>[]): pulumi.Output<string> {
  return pulumi.all(fingerprints).apply((values) => crypto.createHash("sha256").update(JSON.stringify(values)).digest("hex"));
}

export class ConnectivityCheck extends pulumi.ComponentResource {
  public readonly probes: readonly Probe[];
  /** One report per probe; not secret (the connection makes the command's stdout secret). */
  public readonly report: pulumi.Output<ProbeReport[]>;

  constructor(name: string, args: ConnectivityCheckArgs, opts?: pulumi.ComponentResourceOptions) {
    const legacy = args.legacy ?? noLegacyAliases;
    super("overlay:verify:ConnectivityCheck", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), ...legacy()] });
    this.probes = args.probes;
    const check = new command.remote.Command(
      `${name}/ping`,
      {
        connection: args.session.connection,
        create: args.session.sshUser === "root" ? CONNECTIVITY_CHECK_COMMAND : stdinScriptAsRoot(args.session),
        stdin: renderConnectivityCheck({ probes: args.probes }),
        addPreviousOutputInEnv: false,
        triggers: [args.fingerprint],
      },
      { parent: this, dependsOn: args.verifies, aliases: legacy("-ping") },
    );
    const probes = args.probes;
    this.report = pulumi.unsecret(check.stdout.apply((stdout) => inPlanOrder(parseConnectivityReport(stdout), probes)));
    this.registerOutputs({ report: this.report });
  }
}
