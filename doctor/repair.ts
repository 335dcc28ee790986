// What the doctor tells a user to run after it found drift: a new `reapply` number re-runs every host
// command's update (links, addresses, promiscuous mode, rules, files come back); containers and
// networks the engine still believes in need a refresh first, so the next `up` creates them again.

import * as path from "node:path";
import type { Finding } from "./report";

/** "dev" for ".../Pulumi.dev.yaml"; "<stack>" when the file is not named like a stack file. */
export function stackNameOf(stackFile: string): string {
  return /^Pulumi\.(.+)\.ya?ml$/.exec(path.basename(stackFile))?.[1] ?? "<stack>";
}

/** The exact commands to repair the differences, or none when nothing differs. */
export function repairCommands(stackFile: string, reapply: number, findings: readonly Finding[]): string[] {
  const bad = findings.filter((f) => !f.ok);
  if (bad.length === 0) return [];
  const stack = stackNameOf(stackFile);
  const docker = bad.filter((f) => /^(container|network) /.test(f.item)).map((f) => f.item.replace(/^\w+ /, ""));
  const lines = [
    "repair (re-runs every host command's create in place, as an update; it replaces nothing):",
    ...(docker.length > 0
      ? [`  pulumi refresh -s ${stack} --yes    # the engine forgets what is gone: ${[...new Set(docker)].join(", ")}`]
      : []),
    `  pulumi config set reapply ${reapply + 1} -s ${stack} && pulumi up -s ${stack}`,
  ];
  if (bad.some((f) => f.item.startsWith("link "))) {
    lines.push(
      "  a re-created link does not give back the interfaces of containers that sat on it: replace them too,",
      `  pulumi up -s ${stack} --replace <urn>   (pulumi stack -s ${stack} --show-urns | grep /container/)`,
    );
  }
  return lines;
}
