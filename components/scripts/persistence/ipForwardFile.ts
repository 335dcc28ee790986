// The sysctl.d file for ip_forward: systemd-sysctl and `sysctl --system` read /etc/sysctl.d on every
// distro family, so each backend owns this same file.

import { MANAGED_MARKER, type ManagedFile } from "../managedFile";

export const IP_FORWARD_SYSCTL_FILE = "/etc/sysctl.d/90-macvlan-overlay.conf";

export function ipForwardSysctlFile(): ManagedFile {
  return { path: IP_FORWARD_SYSCTL_FILE, content: `${MANAGED_MARKER}\nnet.ipv4.ip_forward = 1\n` };
}
