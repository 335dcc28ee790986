// The Docker macvlan (or ipvlan L2) network of one VLAN on one host (docs/lab-note.md's `docker network create --driver
// macvlan ... -o parent=ens33.10 mac-net10`). Its parent comes from the link command's output, so
// the network records the link as an input dependency: a replaced link replaces the network (and,
// through the network's name, its containers) with it, deleting them first.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { Topology, Vlan } from "../topology";
import { DOCKER_LABEL } from "./plan";
import { childAliases } from "./resourceNames";

export interface MacvlanNetworkArgs {
  /** The docker host's provider. */
  provider: docker.Provider;
  /** The VLAN: Docker network name, subnet and gateway. */
  vlan: Vlan;
  /** The subinterface device the network sits on ("ens33.10"), from the link command. */
  parent: pulumi.Input<string>;
  /** Docker's macvlan_mode. */
  macvlanMode: Topology["macvlanMode"];
  /** What must succeed on the host before it is changed (the Docker Engine check). Default none. */
  hostReady?: pulumi.Resource[];
}

/**
 * The Docker network of one VLAN on a docker host, macvlan (or ipvlan L2) on the VLAN's link. Aliases
 * given in `opts.aliases` by old name carry over to the network under that name and "-net".
 */
export class MacvlanNetwork extends pulumi.ComponentResource {
  public readonly network: docker.Network;
  public readonly networkName: string;
  /** Changes whenever the network is re-created (any change to a Docker network replaces it). */
  public readonly fingerprint: pulumi.Output<string>;

  constructor(name: string, args: MacvlanNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:docker:MacvlanNetwork", name, {}, opts);
    const { vlan } = args;
    this.networkName = vlan.network;
    // Two macvlan networks must never hold one parent at once: delete before replacing.
    this.network = new docker.Network(
      `${name}/network`,
      {
        name: vlan.network,
        driver: vlan.driver,
        options: dockerNetworkOptions(vlan, args.parent, args.macvlanMode),
        ipamConfigs: [{ subnet: vlan.subnet.cidr, gateway: vlan.gateway }],
        labels: [{ ...DOCKER_LABEL }],
      },
      {
        parent: this,
        provider: args.provider,
        deleteBeforeReplace: true,
        dependsOn: args.hostReady,
        aliases: childAliases(opts?.aliases, "-net"),
      },
    );
    this.fingerprint = this.network.id;
    this.registerOutputs({ network: this.network, networkName: this.networkName, fingerprint: this.fingerprint });
  }
}

/** The driver options: macvlan with the stack's mode; ipvlan in L2 mode (same subnet across hosts, like macvlan bridge). */
export function dockerNetworkOptions(
  vlan: Vlan,
  parent: pulumi.Input<string>,
  macvlanMode: Topology["macvlanMode"],
): Record<string, pulumi.Input<string>> {
  return vlan.driver === "ipvlan" ? { parent, ipvlan_mode: "l2" } : { parent, macvlan_mode: macvlanMode };
}
