// A host of the overlay: how to reach it over SSH, and (for docker hosts) its own Docker provider
// speaking to the host's dockerd over ssh://. It changes nothing on the host by itself.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import type { Host, SshSettings } from "../topology";

export type HostConnection = command.types.input.remote.ConnectionArgs;

export interface OverlayHostArgs {
  host: Host;
  ssh: SshSettings;
  /** The private key text; kept a secret from config to connection. */
  privateKey: pulumi.Input<string>;
  /** Folder relative key and known_hosts paths are resolved against (the project folder). */
  baseDir: string;
}

export class OverlayHost extends pulumi.ComponentResource {
  /** Secret: it carries the private key. */
  public readonly connection: pulumi.Output<HostConnection>;
  /** Only on docker hosts. */
  public readonly dockerProvider?: docker.Provider;

  constructor(name: string, args: OverlayHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:host:OverlayHost", name, {}, opts);
    const { host, ssh } = args;

    this.connection = pulumi.secret(
      pulumi.output(args.privateKey).apply((privateKey): HostConnection => ({
        host: host.address,
        port: host.port,
        user: ssh.user,
        privateKey,
      })),
    );

    if (host.role === "docker") {
      this.dockerProvider = new docker.Provider(
        `${name}-docker`,
        {
          host: dockerSshUrl(host, ssh),
          sshOpts: dockerSshOptions(ssh, args.baseDir),
        },
        { parent: this },
      );
    }

    this.registerOutputs({ address: host.address, role: host.role });
  }
}

/** `ssh://root@10.213.70.11:22`, the Docker provider's host for this machine. */
export function dockerSshUrl(host: Host, ssh: SshSettings): string {
  return `ssh://${ssh.user}@${host.address}:${host.port}`;
}

/**
 * Flags for the ssh client the Docker provider runs. A key given as config text cannot be handed
 * to ssh as a file, so that case relies on the user's ssh-agent (documented in the README).
 */
export function dockerSshOptions(ssh: SshSettings, baseDir: string): string[] {
  const options = ["-o", "BatchMode=yes"];
  if (ssh.privateKeyFile !== undefined) {
    options.push("-o", "IdentitiesOnly=yes", "-i", path.resolve(baseDir, ssh.privateKeyFile));
  }
  if (ssh.knownHostsFile !== undefined) {
    options.push(
      "-o",
      `UserKnownHostsFile=${path.resolve(baseDir, ssh.knownHostsFile)}`,
      "-o",
      "StrictHostKeyChecking=yes",
    );
  }
  return options;
}
