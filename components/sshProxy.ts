// Reaching hosts through a bastion. The remote commands take pulumi-command's `connection.proxy`;
// the Docker provider's ssh takes a ProxyCommand, because options given on ssh's command line apply
// to the destination only, never to a ProxyJump host (ssh_config(5), ProxyJump), so the jump would
// skip our known_hosts pinning and key.

import { shellQuote } from "./scripts/shell";

/** A bastion as the config names it. */
export interface SshProxy {
  readonly host: string;
  readonly port: number;
  readonly user: string;
}

/**
 * ssh flags that send the connection through the bastion with the same `options` (identity,
 * known_hosts, batch mode) the destination gets: `["-o", "ProxyCommand=ssh ... -W %h:%p ..."]`.
 */
export function proxyCommandOptions(proxy: SshProxy, options: readonly string[]): string[] {
  const words = ["ssh", ...options, "-p", String(proxy.port), "-W", "%h:%p", `${proxy.user}@${proxy.host}`];
  // ssh runs ProxyCommand with the user's shell: quote every word but the %h:%p tokens it expands.
  return ["-o", `ProxyCommand=${words.map((word) => (word === "%h:%p" ? word : shellQuote(word))).join(" ")}`];
}
