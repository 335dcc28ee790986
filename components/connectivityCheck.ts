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
import { childAliases } from "./resourceNames";

export interface ConnectivityCheckArgs {
  /** How to reach the docker host the pings start from, and who runs the check. */
  session: HostSession;
  /** The pings, from this host's containers. */
  probes: readonly Probe[];
  /** Everything the check verifies (containers, networks, links, router rules): recorded dependencies. */
  verifies: pulumi.Resource[];
  /** Changes whenever something verified is created, replaced or updated (see verifiedFingerprint). */
  fingerprint: pulumi.Input<string>;
  /** With commit confirmed on, the stack's reapply number plus one, for the failing check's note. Default: off. */
  nextReapply?: number;
}

/** One probe's outcome as the check reported it: a ProbeReport whose round trip is there only when replies came. */
export interface ProbeResult {
  readonly from: string;
  readonly to: string;
  readonly toIp: string;
  readonly kind: ProbeReport["kind"];
  readonly expected: ProbeReport["expected"];
  /** "reachable", "unreachable" or "error (…)". */
  readonly result: string;
  /** Average round trip of the replies; absent when there were none. */
  readonly rttMs?: number;
}

function probeResult(report: ProbeReport): ProbeResult {
  const { rttMs, ...rest } = report;
  return rttMs === null ? rest : { ...rest, rttMs };
}

/** One digest of the verified resources' fingerprints: a check's trigger. */
export function verifiedFingerprint(fingerprints: pulumi.Input<string>[]): pulumi.Output<string> {
  return pulumi.all(fingerprints).apply((values) => crypto.createHash("sha256").update(JSON.stringify(values)).digest("hex"));
}

/**
 * The pings from one docker host's containers, run once everything they verify is up and again
 * whenever any of it changes; the deployment fails if a path is not as the topology expects. Aliases
 * given in `opts.aliases` by old name carry over to its command under that name and "-ping".
 */
export class ConnectivityCheck extends pulumi.ComponentResource {
  public readonly probes: readonly Probe[];
  /** One result per probe, in plan order; not secret (the connection makes the command's stdout secret). */
  public readonly report: pulumi.Output<ProbeResult[]>;

  constructor(name: string, args: ConnectivityCheckArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:verify:ConnectivityCheck", name, {}, opts);
    this.probes = args.probes;
    const check = new command.remote.Command(
      `${name}/ping`,
      {
        connection: args.session.connection,
        create: args.session.sshUser === "root" ? CONNECTIVITY_CHECK_COMMAND : stdinScriptAsRoot(args.session),
        stdin: renderConnectivityCheck({ probes: args.probes, ...(args.nextReapply === undefined ? {} : { nextReapply: args.nextReapply }) }),
        addPreviousOutputInEnv: false,
        triggers: [args.fingerprint],
      },
      { parent: this, dependsOn: args.verifies, aliases: childAliases(opts?.aliases, "-ping") },
    );
    const probes = args.probes;
    this.report = pulumi.unsecret(check.stdout.apply((stdout) => inPlanOrder(parseConnectivityReport(stdout), probes).map(probeResult)));
    this.registerOutputs({ probes: this.probes, report: this.report });
  }
}
