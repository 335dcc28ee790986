// The seed lab's values, as the validated topology types carry them, for the script tests.

import type { Subinterface } from "../topology/types";

/** Host 1's ens33.10 (ifcfg-ens33.10 in the seed). */
export const host1Vlan10: Subinterface = {
  vlan: 10,
  parent: "ens33",
  device: "ens33.10",
  address: { cidr: "192.168.22.10/24", address: "192.168.22.10", prefix: 24, network: "192.168.22.0" },
};

/** Host 1's ens33.20 (ifcfg-ens33.20 in the seed). */
export const host1Vlan20: Subinterface = {
  vlan: 20,
  parent: "ens33",
  device: "ens33.20",
  address: { cidr: "192.168.23.10/24", address: "192.168.23.10", prefix: 24, network: "192.168.23.0" },
};

/** A subinterface without a host address (a docker host that only bridges containers). */
export const bareVlan30: Subinterface = { vlan: 30, parent: "ens33", device: "ens33.30" };

/** The seed router's interfaces. */
export const seedRouter = { interfaces: ["ens33.10", "ens33.20"], masquerade: true } as const;
