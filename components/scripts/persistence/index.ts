// Picks the persistence backend for a `Persistence` value; a new distro family is one new file here.

import type { Persistence } from "../../../topology/types";
import type { PersistenceBackend } from "./backend";
import { networkScriptsBackend } from "./networkScripts";
import { noPersistenceBackend } from "./none";

export * from "./backend";
export { IP_FORWARD_SYSCTL_FILE, ipForwardSysctlFile } from "./ipForwardFile";
export { NETWORK_SCRIPTS_DIR, ifcfgPath, networkScriptsBackend, renderIfcfg } from "./networkScripts";
export { noPersistenceBackend } from "./none";

const backends: { readonly [P in Persistence]: PersistenceBackend } = {
  "network-scripts": networkScriptsBackend,
  none: noPersistenceBackend,
};

/** Every backend: an update drops the files of the backends a host no longer uses. */
export function allPersistenceBackends(): readonly PersistenceBackend[] {
  return Object.values(backends);
}

export function persistenceBackend(persistence: Persistence): PersistenceBackend {
  const backend = backends[persistence];
  if (!backend) {
    throw new Error(`unknown persistence ${JSON.stringify(persistence)}`);
  }
  return backend;
}
