// The stack's config, once checked (config/preflight.ts), as MacvlanOverlay's arguments: the key text
// in place of sshPrivateKeyFile, each host's (and the bastion's) pinned key in place of
// sshKnownHostsFile. The file names still go to the Docker providers' ssh client, as before.
import * as pulumi from "@pulumi/pulumi";
import type { ProgramOverlayArgs } from "../components/macvlanOverlay";
import { configSchema } from "../topology/schema";
import type { HostAccess } from "./preflight";

/**
 * `raw`: the config as config/pulumiConfig.ts read it, already through preflight; `privateKey`: the
 * key text, a secret; `baseDir`: the project folder, where the files' relative paths resolve.
 */
export function overlayArgsFromStack(raw: unknown, access: HostAccess, privateKey: pulumi.Input<string>, baseDir: string): ProgramOverlayArgs {
  // Defaults applied and numbers read as numbers, as the topology reads them.
  const { sshPrivateKeyFile, sshKnownHostsFile, sshPrivateKey: _secret, sshProxy, ...config } = configSchema.parse(raw);
  const hostKey = (name: string) => access.hostKeys.hosts.get(name)!;
  return {
    ...config,
    sshPrivateKey: privateKey,
    hosts: config.hosts.map((host) => ({ ...host, hostKey: host.hostKey ?? hostKey(host.name) })),
    ...(sshProxy === undefined ? {} : { sshProxy: { ...sshProxy, hostKey: sshProxy.hostKey ?? access.hostKeys.proxy! } }),
    dockerSshFiles: {
      baseDir,
      ...(sshPrivateKeyFile === undefined ? {} : { privateKeyFile: sshPrivateKeyFile }),
      ...(sshKnownHostsFile === undefined ? {} : { knownHostsFile: sshKnownHostsFile }),
    },
  };
}
