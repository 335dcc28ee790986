// Commit confirmed across the fleet (components/scripts/confirm.ts): an in-place update of a host's
// links, shims, promiscuous mode or router rules arms a revert on that host first; each host's
// Confirm command, which depends on every connectivity check, disarms them. A check that fails stops
// every Confirm, and a host that cannot be reached for its Confirm stays armed: either way the host
// reverts by itself at its deadline.
import * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import type { HostConcernComponent } from "./hostConcern";
import type { OverlayHost } from "./overlayHost";
import { renderConfirm } from "./scripts/confirm";
import { runAsRoot } from "./scripts/privilege";

interface Armable {
  readonly overlayHost: OverlayHost;
  readonly commands: pulumi.Resource[];
  readonly fingerprints: string[];
}

/** The Confirm command's name under its host: `<host>/confirm`. */
export function confirmName(host: string): string {
  return `${host}/confirm`;
}

/** Collects the arming commands of each host while the overlay registers them, then registers one Confirm per host. */
export class HostConfirmations {
  private readonly hosts = new Map<string, Armable>();

  /** A host command concern just registered: kept when its create can arm a revert. */
  public add(host: string, overlayHost: OverlayHost, component: HostConcernComponent): void {
    const fingerprint = component.armedFingerprint;
    if (fingerprint === undefined) return;
    const armable = this.hosts.get(host) ?? { overlayHost, commands: [], fingerprints: [] };
    armable.commands.push(component.command);
    armable.fingerprints.push(fingerprint);
    this.hosts.set(host, armable);
  }

  /**
   * One Confirm per host with arming commands, after every check (`checks`) and the host's own
   * commands. Its script holds the host's fingerprints, so it runs again exactly when one changed.
   * pulumi-command opens one SSH connection per command, so a host that refuses new connections
   * fails its own Confirm and no other.
   */
  public register(checks: pulumi.Resource[], reapply: number): command.remote.Command[] {
    return [...this.hosts.entries()].map(
      ([host, armable]) =>
        new command.remote.Command(
          confirmName(host),
          {
            connection: armable.overlayHost.session.connection,
            create: runAsRoot(renderConfirm({ fingerprints: armable.fingerprints, reapply }), armable.overlayHost.session),
            addPreviousOutputInEnv: false,
          },
          { parent: armable.overlayHost, dependsOn: [...checks, ...armable.commands] },
        ),
    );
  }
}
