// A host of the overlay: how to reach it over SSH (its pinned key, the bastion, the user scripts run
// as), and (for docker hosts) its own Docker provider speaking to the host's dockerd over ssh:// and
// the plan's check of its Docker Engine. It changes nothing on the host by itself.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import type { Host, SshSettings } from "../topology";
import { concernCommand } from "./hostConcern";
import type { DockerEngineConcern } from "./plan";
import type { ScriptRunner } from "./scripts/privilege";
import { proxyCommandOptions } from "./sshProxy";
import { resourceNames } from "./resourceNames";

export type HostConnection = command.types.input.remote.ConnectionArgs;

/** What every command on a host needs: the connection (secret) and who runs its scripts. */
export interface HostSession extends ScriptRunner {
  readonly connection: pulumi.Output<HostConnection>;
}

export interface OverlayHostArgs {
  host: Host;
  ssh: SshSettings;
  /** The private key text; kept a secret from config to connection. */
  privateKey: pulumi.Input<string>;
  /** The host's SSH public key ("ssh-ed25519 AAAA..."): the connection accepts no other. */
  hostKey: string;
  /** The bastion's SSH public key; only with `ssh.proxy`. */
  proxyHostKey?: string;
  /** Folder relative key and known_hosts paths are resolved against (the project folder). */
  baseDir: string;
  /** Only on docker hosts: the plan's Docker Engine check, which everything that changes the host waits for. Default none. */
  dockerEngine?: DockerEngineConcern;
  /** Aliases of the Docker provider (its name before stable identities). Default none. */
  dockerProviderAliases?: pulumi.Input<pulumi.Alias>[];
}

/**
 * A host of the overlay: the SSH connection every command on it uses (its pinned key, the bastion,
 * the user scripts run as) and, on a docker host, its own Docker provider and the check that its
 * Docker Engine is recent enough. It changes nothing on the host by itself.
 */
export class OverlayHost extends pulumi.ComponentResource {
  public readonly address: string;
  public readonly role: Host["role"];
  /** Secret: it carries the private key. */
  public readonly connection: pulumi.Output<HostConnection>;
  /** The connection and the user and host name scripts run with. */
  public readonly session: HostSession;
  /** Only on docker hosts. */
  public readonly dockerProvider?: docker.Provider;
  /**
   * Only on docker hosts: the check that the Docker Engine speaks API 1.44 or newer. Everything that
   * changes the host depends on it, so an old engine is refused before anything changes.
   */
  public readonly dockerEngine?: command.remote.Command;

  constructor(name: string, args: OverlayHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:host:OverlayHost", name, {}, opts);
    const { host, ssh } = args;
    this.address = host.address;
    this.role = host.role;

    this.connection = pulumi.secret(
      pulumi.output(args.privateKey).apply((privateKey): HostConnection => ({
        host: host.address,
        port: host.port,
        user: ssh.user,
        privateKey,
        hostKey: args.hostKey,
        ...(ssh.proxy === undefined
          ? {}
          : {
              proxy: {
                host: ssh.proxy.host,
                port: ssh.proxy.port,
                user: ssh.proxy.user,
                privateKey,
                ...(args.proxyHostKey === undefined ? {} : { hostKey: args.proxyHostKey }),
              },
            }),
      })),
    );
    this.session = { connection: this.connection, sshUser: ssh.user, hostName: host.name };

    if (host.role === "docker") {
      this.dockerProvider = new docker.Provider(
        resourceNames.dockerProvider(host.name),
        {
          host: dockerSshUrl(host, ssh),
          sshOpts: dockerSshOptions(ssh, args.baseDir),
        },
        { parent: this, aliases: args.dockerProviderAliases ?? [] },
      );
    }
    if (args.dockerEngine !== undefined) {
      this.dockerEngine = concernCommand(args.dockerEngine.name, args.dockerEngine, this.session, { parent: this }).command;
    }

    this.registerOutputs({
      address: this.address,
      role: this.role,
      connection: this.connection,
      session: this.session,
      dockerProvider: this.dockerProvider,
      dockerEngine: this.dockerEngine,
    });
  }
}

/** `ssh://root@10.213.70.11:22`, the Docker provider's host for this machine. */
export function dockerSshUrl(host: Host, ssh: SshSettings): string {
  return `ssh://${ssh.user}@${host.address}:${host.port}`;
}

/**
 * Flags for the ssh client the Docker provider runs. A key given as config text cannot be handed
 * to ssh as a file, so that case relies on the user's ssh-agent (docs/own-hosts.md, "The SSH key and the agent"). With a
 * bastion, the hop is a ProxyCommand ssh with the same flags.
 */
export function dockerSshOptions(ssh: SshSettings, baseDir: string): string[] {
  const options = directSshOptions(ssh, baseDir);
  return ssh.proxy === undefined ? options : [...options, ...proxyCommandOptions(ssh.proxy, options)];
}

function directSshOptions(ssh: SshSettings, baseDir: string): string[] {
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
