// Pinned host keys: every SSH connection checks the server's key, so each host (and the bastion)
// needs one, from its own hostKey or from sshKnownHostsFile.

import type { Rule } from "./rule";

const WHY = "remote commands pin each host's SSH key";

export const hostKeysPinned: Rule = (config, findings) => {
  if (config.raw.sshKnownHostsFile !== undefined) return;
  for (const host of config.hosts) {
    if (host.value.hostKey === undefined) {
      findings.add(`${host.path}.hostKey`, undefined, `is required when sshKnownHostsFile is not set (${WHY}; e.g. the line of /etc/ssh/ssh_host_ed25519_key.pub)`);
    }
  }
  const proxy = config.settings.sshProxy;
  if (proxy !== undefined && proxy.hostKey === undefined) {
    findings.add("sshProxy.hostKey", undefined, `is required when sshKnownHostsFile is not set (${WHY}, the bastion's too)`);
  }
};
