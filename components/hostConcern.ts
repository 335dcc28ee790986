// A host command concern of the plan (components/plan.ts) as Pulumi resources: one remote command
// whose create converges the host to the concern's wanted state (on create and, run again, on
// update) and whose delete restores it, under a component of the concern's own type. The boot
// fragment, the fingerprint the connectivity check re-runs on, and the aliases to a stack's old
// names are handled here, the same way for every kind.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import type { HostSession } from "./overlayHost";
import { type ConcernKind, type HostCommandConcern, renderConcernScript } from "./plan";
import { childAliases } from "./resourceNames";
import { withReapply } from "./scripts";
import { armedFingerprint } from "./scripts/confirm";
import { runAsRoot } from "./scripts/privilege";

/** Per kind: the component's type token and its command's name below the component's. */
const COMPONENT_OF: { readonly [K in Exclude<HostCommandConcern["kind"], "docker-engine">]: ConcernComponent<K> } = {
  "boot-unit": { type: "overlay:host:BootUnit", command: () => "unit" },
  "promiscuous-mode": { type: "overlay:host:PromiscuousMode", command: (concern) => `promisc/${concern.trunkInterface}`, legacySuffix: "-promisc" },
  "vlan-link": { type: "overlay:host:VlanSubinterface", command: (concern) => `link/${concern.subinterface.device}`, legacySuffix: "-link" },
  "host-shim": { type: "overlay:host:HostShim", command: (concern) => concern.shim.device },
  "nat-router": { type: "overlay:router:NatRouter", command: () => "rules", legacySuffix: "-rules" },
};

interface ConcernComponent<K extends ConcernKind> {
  readonly type: string;
  readonly command: (concern: Extract<HostCommandConcern, { kind: K }>) => string;
  /** What a stack deployed before stable identities appended to the component's old name for its command. */
  readonly legacySuffix?: string;
}

export interface ConcernCommandOptions {
  parent: pulumi.Resource;
  /** The resources of the concerns it needs first: recorded dependencies (the engine orders and cascades by them). Default none. */
  dependsOn?: pulumi.Resource[];
  /** Aliases to the command's old names. Default none. */
  aliases?: pulumi.Input<pulumi.Alias>[];
  /** The stack's reapply number, marked in every script that changes the host. Default 0. */
  reapply?: number;
}

/**
 * The remote command of a concern. Every input change (a script, the SSH address or port) is an
 * update: with no `update` input, pulumi-command runs the new `create`, which converges in place,
 * and stores the new delete and connection for later.
 * What an update cannot converge (a link's device, a trunk) is in the command's name instead, so a
 * change is a new command created beside the old one, whose delete runs last, after its dependents
 * moved. No `triggers`: stacks deployed before recorded `[create, delete]` there, and any change to
 * triggers replaces the command (deleting the link under running containers); `ignoreChanges` keeps
 * those old values inert. A read-only check (`changesHost` false) has none of that: no delete, and
 * the reapply number does not touch it.
 * The previous output is not passed in the environment: it would travel as SSH Setenv, which sshd
 * refuses without AcceptEnv, and the scripts read the host's own state instead.
 * A non-root SSH user runs each script through `sudo -n` (components/scripts/privilege.ts).
 */
export function concernCommand(
  name: string,
  concern: HostCommandConcern,
  session: HostSession,
  options: ConcernCommandOptions,
): { command: command.remote.Command; create: string } {
  const rendered = renderConcernScript(concern.script);
  if (rendered.delete === undefined || !concern.changesHost) {
    if (concern.changesHost) {
      throw new Error(`${name}: a concern that changes the host needs a delete script`);
    }
    const check = new command.remote.Command(
      name,
      { connection: session.connection, create: runAsRoot(rendered.create, session), addPreviousOutputInEnv: false },
      { parent: options.parent, dependsOn: options.dependsOn, aliases: options.aliases },
    );
    return { command: check, create: rendered.create };
  }
  const script = withReapply(rendered, options.reapply ?? 0);
  const changer = new command.remote.Command(
    name,
    {
      connection: session.connection,
      create: runAsRoot(script.create, session),
      delete: runAsRoot(script.delete, session),
      addPreviousOutputInEnv: false,
    },
    {
      parent: options.parent,
      deleteBeforeReplace: true,
      dependsOn: options.dependsOn,
      aliases: options.aliases,
      ignoreChanges: ["triggers"],
    },
  );
  return { command: changer, create: script.create };
}

/** A short digest of text, for fingerprints that must change whenever a script does. */
export function textDigest(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);
}

export interface HostConcernComponentArgs {
  /** The concern, as planHost describes it (kind, key, script renderer and arguments). */
  concern: HostCommandConcern;
  /** How to reach the host (secret) and who runs the scripts there. */
  session: HostSession;
  /** The resources of the concerns the plan says it needs first, in the plan's order. Default none. */
  dependsOn?: pulumi.Resource[];
  /** The stack's reapply number, marked in every script (a change re-runs every create in place). Default 0. */
  reapply?: number;
}

/**
 * One thing a host holds that a remote command makes and removes (the boot unit, promiscuous mode,
 * a VLAN link, a host shim, the router's rules), registered as the concern's own component type
 * (`overlay:host:VlanSubinterface`, ...) with its command below it. Aliases given in `opts.aliases`
 * by old name carry over to the command under that name and the kind's old suffix.
 */
export class HostConcernComponent extends pulumi.ComponentResource {
  /** The plan's kind ("vlan-link"). */
  public readonly kind: string;
  /** The plan's key within the host ("vlan10"). */
  public readonly key: string;
  public readonly command: command.remote.Command;
  /** Changes whenever the command is re-created or its create script changes (what the connectivity check re-runs on). */
  public readonly fingerprint: pulumi.Output<string>;
  /** It writes a boot fragment that the host's boot unit runs at every boot. */
  public readonly writesBootFragment: boolean;
  /** What an in-place update files its revert under (components/scripts/confirm.ts); undefined when it never arms. */
  public readonly armedFingerprint: string | undefined;

  constructor(name: string, args: HostConcernComponentArgs, opts?: pulumi.ComponentResourceOptions) {
    const { concern } = args;
    if (concern.kind === "docker-engine") {
      throw new Error(`${name}: the Docker Engine check is a command of its host, not a component`);
    }
    const component = COMPONENT_OF[concern.kind] as ConcernComponent<typeof concern.kind>;
    super(component.type, name, {}, opts);
    this.kind = concern.kind;
    this.key = concern.key;
    this.writesBootFragment = concern.writesBootFragment;
    const { command: made, create } = concernCommand(`${name}/${component.command(concern)}`, concern, args.session, {
      parent: this,
      dependsOn: args.dependsOn,
      aliases: component.legacySuffix === undefined ? [] : childAliases(opts?.aliases, component.legacySuffix),
      reapply: args.reapply,
    });
    this.command = made;
    this.armedFingerprint = armedFingerprint(create);
    this.fingerprint = this.command.id.apply((id) => `${id}:${textDigest(create)}`);
    this.registerOutputs({
      kind: this.kind,
      key: this.key,
      command: this.command,
      fingerprint: this.fingerprint,
      writesBootFragment: this.writesBootFragment,
      armedFingerprint: this.armedFingerprint,
    });
  }

  /** `value` once the command exists: an input made of it records the command as its dependency. */
  public after<T>(value: T): pulumi.Output<T> {
    return this.command.id.apply(() => value);
  }
}
