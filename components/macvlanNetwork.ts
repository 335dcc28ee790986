// The Docker macvlan network of one VLAN on one host (the seed's `docker network create --driver
// macvlan ... -o parent=ens33.10 mac-net10`), made after the subinterface it sits on exists.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { Topology, Vlan } from "../topology";

export interface MacvlanNetworkArgs {
  provider: docker.Provider;
  vlan: Vlan;
  /** The subinterface device the network sits on ("ens33.10"). */
  parent: string;
  macvlanMode: Topology["macvlanMode"];
}

export class MacvlanNetwork extends pulumi.ComponentResource {
  public readonly network: docker.Network;
  public readonly networkName: string;

  constructor(name: string, args: MacvlanNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:docker:MacvlanNetwork", name, {}, opts);
    const { vlan } = args;
    this.networkName = vlan.network;
    // Two macvlan networks must never hold one parent at once: delete before replacing.
    this.network = new docker.Network(
      `${name}-net`,
      {
        name: vlan.network,
        driver: "macvlan",
        options: { parent: args.parent, macvlan_mode: args.macvlanMode },
        ipamConfigs: [{ subnet: vlan.subnet.cidr, gateway: vlan.gateway }],
        labels: [{ label: "managed-by", value: "macvlan-overlay" }],
      },
      { parent: this, provider: args.provider, deleteBeforeReplace: true },
    );
    this.registerOutputs({ name: this.networkName, parent: args.parent });
  }
}
