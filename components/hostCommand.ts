// How every host change runs: a remote command whose create and delete scripts come from
// components/scripts, replaced as a whole when either script changes.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { HostScript } from "./scripts";
import type { HostConnection } from "./overlayHost";

/**
 * Without the triggers an edited script would only re-run the new create and leave what the old
 * one made (e.g. a MASQUERADE rule after masquerade is turned off). Delete runs before the new
 * create so the old delete cannot undo state the new create recorded.
 */
export function hostCommand(
  name: string,
  connection: pulumi.Input<HostConnection>,
  script: HostScript,
  parent: pulumi.Resource,
): command.remote.Command {
  return new command.remote.Command(
    name,
    { connection, create: script.create, delete: script.delete, triggers: [script.create, script.delete] },
    { parent, deleteBeforeReplace: true },
  );
}
