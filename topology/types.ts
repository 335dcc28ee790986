// The validated topology: what the rest of the program trusts. Built only by parseTopology.

export type Role = "docker" | "router";
export type Persistence = "network-scripts" | "none";

/** An IPv4 prefix, already checked and normalised. */
export interface Ipv4Cidr {
  /** "172.18.0.0/24" — the network address and prefix length. */
  readonly cidr: string;
  /** "172.18.0.0" */
  readonly network: string;
  /** "172.18.0.255" */
  readonly broadcast: string;
  readonly prefix: number;
}

/** An address on an interface: "192.168.22.10/24". */
export interface InterfaceAddress {
  /** "192.168.22.10/24" as it goes to `ip addr add`. */
  readonly cidr: string;
  /** "192.168.22.10" */
  readonly address: string;
  /** 24 */
  readonly prefix: number;
  /** "192.168.22.0" (NETWORK= of a RHEL 7 ifcfg file). */
  readonly network: string;
}

export interface Vlan {
  /** 802.1Q id, 1–4094. */
  readonly id: number;
  /** Docker network name on every docker host ("mac-net10"). */
  readonly network: string;
  readonly subnet: Ipv4Cidr;
  /** "172.18.0.1": held by the router, if there is one. */
  readonly gateway: string;
  /** Docker network driver, default "macvlan"; "ipvlan" runs in L2 mode with the parent's MAC. */
  readonly driver: "macvlan" | "ipvlan";
}

export interface Container {
  /** Docker container name, unique across all hosts ("bbox10"). */
  readonly name: string;
  /**
   * The container's identity in the stack (resource names), default its name: renaming a container
   * while keeping its key replaces it in place. Never contains "/".
   */
  readonly key: string;
  readonly vlan: number;
  /** Static IPv4 address inside the VLAN's subnet ("172.18.0.2"). */
  readonly ip: string;
  /** Image reference, default "busybox:latest". */
  readonly image: string;
}

/** A VLAN subinterface on a host's trunk: `ens33.10`. */
export interface Subinterface {
  readonly vlan: number;
  /** The trunk interface ("ens33"). */
  readonly parent: string;
  /** "<parent>.<vlan>" ("ens33.10"), at most 15 characters. */
  readonly device: string;
  /** The host's own address on this VLAN, if any. */
  readonly address?: InterfaceAddress;
}

/** A docker host's own macvlan interface on a VLAN link, so the host reaches its containers there. */
export interface HostShim {
  readonly vlan: number;
  /** The shim interface ("mvo-shim10"). */
  readonly device: string;
  /** The VLAN link it sits on ("ens33.10"). */
  readonly parent: string;
  /** The host's address on the shim ("172.18.0.250"), inside the VLAN's subnet. */
  readonly address: string;
  /** The host's containers on that VLAN, each reached by a host route through the shim. */
  readonly containerIps: readonly string[];
}

export interface Host {
  readonly name: string;
  /** SSH address (IPv4 or DNS name). */
  readonly address: string;
  readonly port: number;
  readonly role: Role;
  readonly trunkInterface: string;
  /** One per VLAN the host takes part in, sorted by VLAN id. */
  readonly subinterfaces: readonly Subinterface[];
  /** Containers in config order; empty on the router. */
  readonly containers: readonly Container[];
  /** Host shims by VLAN id; empty unless `hostShim` is set. */
  readonly shims: readonly HostShim[];
  /** The host's SSH public key as configured ("ssh-ed25519 AAAA..."), else taken from the known_hosts file. */
  readonly hostKey?: string;
}

/** A bastion every SSH connection goes through. */
export interface SshProxySettings {
  readonly host: string;
  readonly port: number;
  /** Default the hosts' SSH user. */
  readonly user: string;
  /** The bastion's SSH public key as configured, else taken from the known_hosts file. */
  readonly hostKey?: string;
}

export interface SshSettings {
  readonly user: string;
  /** Path of a private key file, when the key comes from a file. */
  readonly privateKeyFile?: string;
  /** True when the key comes from the secret config value `sshPrivateKey`. */
  readonly privateKeyFromConfig: boolean;
  /** known_hosts file that pins the hosts' keys (unless a host has its own hostKey). */
  readonly knownHostsFile?: string;
  /** A bastion, if the hosts are reached through one. */
  readonly proxy?: SshProxySettings;
}

export interface RouterSettings {
  /** Name of the host with role router. */
  readonly host: string;
  readonly masquerade: boolean;
}

export interface Topology {
  readonly persistence: Persistence;
  readonly ssh: SshSettings;
  /** Sorted by id. */
  readonly vlans: readonly Vlan[];
  /** In config order. */
  readonly hosts: readonly Host[];
  readonly router?: RouterSettings;
  /** Docker macvlan mode for every network ("bridge"). */
  readonly macvlanMode: "bridge" | "private" | "vepa" | "passthru";
  /** Run the connectivity check after the containers are up. */
  readonly verify: boolean;
  /** A number in every host command's scripts (from 1 on): changing it makes each run its update. */
  readonly reapply: number;
  /** Seconds an in-place update of a host command stays armed to revert unless confirmed (0: off). */
  readonly confirmWithinSeconds: number;
}

/** One problem in the raw config: the key path and the offending value named. */
export interface ConfigProblem {
  /** "hosts[1].containers[0].ip" */
  readonly path: string;
  /** The offending value as the user wrote it, rendered for a message. */
  readonly value: string;
  readonly message: string;
}

export type ParseResult =
  | { readonly ok: true; readonly topology: Topology }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };
