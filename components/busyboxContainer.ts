// A long-running busybox container with a static IP and a stable MAC on a macvlan network (the
// lab note's `docker run -itd --name bbox10 --network mac-net10 --ip 172.18.0.2 busybox`).
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Container } from "../topology";
import { DOCKER_LABEL } from "./plan";
import { childAliases } from "./resourceNames";

export interface BusyboxContainerArgs {
  /** The docker host's provider. */
  provider: docker.Provider;
  /** Name, key, IP and image. */
  container: Container;
  /** The Docker network's name, from the MacvlanNetwork it joins (an input dependency on it). */
  networkName: pulumi.Input<string>;
  /** The network's driver, default "macvlan". An ipvlan container has its parent's MAC: no MAC of its own. */
  driver?: "macvlan" | "ipvlan";
  /** What must succeed on the host before it is changed (the Docker Engine check). Default none. */
  hostReady?: pulumi.Resource[];
}

/**
 * A busybox container with its static IP on its VLAN's network and, on macvlan, a MAC of its own that
 * outlives the container. Aliases given in `opts.aliases` by old name carry over to its MAC, image
 * and container under that name and "-mac", "-image", "-container".
 */
export class BusyboxContainer extends pulumi.ComponentResource {
  public readonly ip: string;
  /** Locally administered unicast MAC ("02:…"), fixed for the life of the stack; none on ipvlan. */
  public readonly macAddress?: pulumi.Output<string>;
  public readonly container: docker.Container;
  /** Changes whenever the container is re-created, or its IP, MAC or image changes. */
  public readonly fingerprint: pulumi.Output<string>;

  constructor(name: string, args: BusyboxContainerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("overlay:docker:BusyboxContainer", name, {}, opts);
    const oldChildNames = (suffix: string) => childAliases(opts?.aliases, suffix);
    const spec = args.container;
    this.ip = spec.ip;

    // A separate resource, so re-creating the container keeps its MAC (and the neighbours' ARP).
    if ((args.driver ?? "macvlan") === "macvlan") {
      const macSuffix = new random.RandomId(`${name}/mac`, { byteLength: 5 }, { parent: this, aliases: oldChildNames("-mac") });
      this.macAddress = macSuffix.hex.apply(macFromHex);
    }

    // keepLocally: the image may have been on the host before us; destroy leaves it there.
    const image = new docker.RemoteImage(
      `${name}/image`,
      { name: spec.image, keepLocally: true },
      { parent: this, provider: args.provider, dependsOn: args.hostReady, aliases: oldChildNames("-image") },
    );

    // A new name (same key) replaces the container, deleting the old one first: it holds the IP.
    this.container = new docker.Container(
      `${name}/container`,
      {
        name: spec.name,
        hostname: spec.name,
        image: image.imageId,
        networksAdvanced: [
          { name: args.networkName, ipv4Address: spec.ip, ...(this.macAddress === undefined ? {} : { macAddress: this.macAddress }) },
        ],
        tty: true,
        stdinOpen: true,
        restart: "unless-stopped",
        mustRun: true,
        labels: [{ ...DOCKER_LABEL }],
      },
      { parent: this, provider: args.provider, deleteBeforeReplace: true, aliases: oldChildNames("-container") },
    );
    this.fingerprint = pulumi
      .all([this.container.id, this.macAddress ?? "parent's MAC", image.imageId])
      .apply(([id, mac, imageId]) => `${id}:${spec.ip}:${mac}:${imageId}`);
    this.registerOutputs({ ip: this.ip, macAddress: this.macAddress, container: this.container, fingerprint: this.fingerprint });
  }
}

/** "a1b2c3d4e5" → "02:a1:b2:c3:d4:e5". */
export function macFromHex(hex: string): string {
  if (!/^[0-9a-f]{10}$/.test(hex)) {
    throw new Error(`MAC suffix must be 10 lowercase hex digits, got ${JSON.stringify(hex)}`);
  }
  return ["02", ...hex.match(/../g)!].join(":");
}
