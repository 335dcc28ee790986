// No boot-time files for interfaces: everything is applied live with iproute2 and is gone after a
// reboot, except ip_forward, whose sysctl.d file is distro-neutral.

import type { PersistenceBackend } from "./backend";
import { ipForwardSysctlFile } from "./ipForwardFile";

export const noPersistenceBackend: PersistenceBackend = {
  name: "none",
  persists: { vlan: false, promiscuous: false, ipForward: true, iptables: false },
  whyNotPersisted: {
    vlan: "no boot-time interface files are written",
    promiscuous: "no boot-time interface files are written",
    iptables: "rules are not saved in this version",
  },
  vlanFiles: () => [],
  vlanTooling: () => undefined,
  ipForwardFiles: () => [ipForwardSysctlFile()],
};
