// How every host change runs: a remote command whose create script converges the host to the wanted
// state (on create and, run again, on update) and whose delete restores it (scripts from components/scripts).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import type { HostScript } from "./scripts";
import type { HostSession } from "./overlayHost";
import { runAsRoot } from "./scripts/privilege";

export interface HostCommandOptions {
  parent: pulumi.Resource;
  /** Recorded dependencies of this command (the engine orders and cascades by them). Default none. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** Aliases to this command's old names. Default none. */
  aliases?: pulumi.Input<pulumi.Alias>[];
}

/**
 * Every input change (a script, the SSH address or port) is an update: with no `update` input,
 * pulumi-command runs the new `create`, which converges in place (see HostScript), and stores the
 * new delete and connection for later.
 * What an update cannot converge (a link's device, a trunk) is in the command's name instead, so a
 * change is a new command created beside the old one, whose delete runs last, after its dependents
 * moved. No `triggers`: stacks deployed before recorded `[create, delete]` there, and any change to
 * triggers replaces the command (deleting the link under running containers); `ignoreChanges` keeps
 * those old values inert.
 * The previous output is not passed in the environment: it would travel as SSH Setenv, which sshd
 * refuses without AcceptEnv, and the scripts read the host's own state instead.
 * A non-root SSH user runs each script through `sudo -n` (components/scripts/privilege.ts).
 */
export function hostCommand(name: string, session: HostSession, script: HostScript, options: HostCommandOptions): command.remote.Command {
  return new command.remote.Command(
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
}

/** A short digest of text, for fingerprints that must change whenever a script does. */
export function textDigest(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);
}
