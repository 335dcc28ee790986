// The package's component: the whole overlay from the stack config's keys as arguments, so a program
// in any Pulumi language can build it (`pulumi package add`). The arguments are checked by the stack
// file's rules, with the stack file's messages, before anything registers.
import * as pulumi from "@pulumi/pulumi";
import { checkConfig } from "../config/preflight";
import { renderMermaid } from "../diagram";
import { renderSummary } from "../diagram/summary";
import { type ConfigProblem, formatProblems, type Topology } from "../topology";
import type { NetworkSummary, SubinterfaceSummary } from "./overlay";
import { type PinnedHostKeys, pinnedHostKeys } from "./hostKeys";
import { OverlayChildren } from "./overlay";

/** The component's type token: the package is named after the project. */
export const MACVLAN_OVERLAY_TYPE = "macvlan-overlay:index:MacvlanOverlay";
/** The program's component before the package: stacks deployed with it keep every URN through this alias. */
export const LEGACY_OVERLAY_TYPE = "overlay:index:Overlay";

/** What the parser reads in place of the key text: that a secret is there, never the text. */
const SECRET_KEY_SHAPE = { secure: "[secret]" };

/** A VLAN of the overlay. */
export interface VlanSpec {
  /** 802.1Q VLAN id, 1–4094. */
  id: number;
  /** Docker network name on every docker host. */
  network: string;
  /** IPv4 subnet, written as its network address (172.18.0.0/24). */
  subnet: string;
  /** The router's address in the subnet. */
  gateway: string;
  /** Docker network driver: macvlan, or ipvlan (L2 mode; containers share the parent's MAC). Default macvlan. */
  driver?: string;
}

/** A container on a docker host. */
export interface ContainerSpec {
  /** Docker container name, unique across all hosts. */
  name: string;
  /** Id of the VLAN the container joins. */
  vlan: number;
  /** Static address inside the VLAN's subnet. */
  ip: string;
  /** Image reference. Default busybox:latest. */
  image?: string;
  /** Stable identity of the container on its host (renaming it keeps the resource). Default its name. */
  key?: string;
}

/** A host of the overlay, reached over SSH. */
export interface HostSpec {
  /** Host name, used in resource names: 1–32 of a-z 0-9 -. */
  name: string;
  /** SSH (management) address: IPv4 or a DNS name. */
  address: string;
  /** SSH port. Default 22. */
  port?: number;
  /** docker runs containers; router joins the VLANs. */
  role: string;
  /** This host's trunk NIC. Default the top-level trunkInterface. */
  trunkInterface?: string;
  /** VLAN id to the host's own address/prefix on that VLAN; the router's are the gateways. Default none. */
  vlanAddresses?: { [vlanId: string]: string };
  /** Containers on a docker host. Default none. */
  containers?: ContainerSpec[];
  /** VLAN id to the address of a macvlan shim through which this docker host reaches its own containers on that VLAN. Default none. */
  hostShim?: { [vlanId: string]: string };
  /** The host's SSH public key, pinned: an OpenSSH line like "ssh-ed25519 AAAA..." (its /etc/ssh/ssh_host_ed25519_key.pub). */
  hostKey: string;
}

/** A bastion every SSH connection goes through (ssh -J). */
export interface SshProxySpec {
  /** The bastion's address. */
  host: string;
  /** The bastion's SSH port. Default 22. */
  port?: number;
  /** User on the bastion. Default sshUser. */
  user?: string;
  /** The bastion's SSH public key, pinned (an OpenSSH public key line). */
  hostKey: string;
}

/** The NAT router between the VLANs. */
export interface RouterSpec {
  /** NAT between VLANs; false forwards without NAT. Default true. */
  masquerade?: boolean;
}

/**
 * The stack config's keys, without the project prefix; the key files' contents in place of their
 * paths. A key added to the stack config is added here too, with its JSDoc, and `npm run schema` run
 * (tools/packageSchema.test.ts names a key missing here).
 */
export interface MacvlanOverlayArgs {
  /** The NIC that carries the VLANs on every host. Default ens33. */
  trunkInterface?: string;
  /** How host config survives a reboot: network-scripts or none. Default network-scripts. */
  persistence?: string;
  /** SSH user on every host. Default root. */
  sshUser?: string;
  /** The SSH private key text; kept a secret in every resource that receives it. */
  sshPrivateKey: pulumi.Input<string>;
  /** A bastion every SSH connection goes through. Default none. */
  sshProxy?: SshProxySpec;
  /** The VLANs. */
  vlans: VlanSpec[];
  /** The hosts. */
  hosts: HostSpec[];
  /** Router settings; only with a router host. */
  router?: RouterSpec;
  /** Docker macvlan mode: bridge, private, vepa or passthru. Default bridge. */
  macvlanMode?: string;
  /** Run the connectivity check after the containers are up. Default true. */
  verify?: boolean;
  /** Change it to make every host command run its in-place update (the repair after drift). Default 0. */
  reapply?: number;
  /**
   * Seconds within which pulumi up must confirm an in-place update of a host's links, shims,
   * promiscuous mode or router rules, or the host reverts it by itself; 0 turns this off. Default 600.
   */
  confirmWithinSeconds?: number;
}

/**
 * What the stack program adds: the key and known_hosts files its Docker providers' ssh client reads,
 * as the stack names them. Not in the package's schema: a consumer's Docker provider takes the key
 * from the ssh agent (docs/package.md).
 */
export interface ProgramOverlayArgs extends MacvlanOverlayArgs {
  dockerSshFiles?: {
    /** The project folder, where relative paths resolve. */
    readonly baseDir: string;
    readonly privateKeyFile?: string;
    readonly knownHostsFile?: string;
  };
}

/** A host's state as the `hosts` output shows it. */
export interface HostState {
  /** docker or router. */
  role: string;
  address: string;
  trunkInterface: string;
  subinterfaces: SubinterfaceSummary[];
  networks: NetworkSummary[];
  containers: ContainerState[];
}

/** A container as the `hosts` output shows it. */
export interface ContainerState {
  name: string;
  key: string;
  network: string;
  ip: string;
  /** The container's own MAC; absent on an ipvlan network (it has the parent's). */
  mac?: string;
}

/** One ping of a connectivity check. */
export interface PingResult {
  from: string;
  to: string;
  toIp: string;
  /** What the ping crosses: same-vlan, cross-vlan, gateway or a host shim. */
  kind: string;
  /** reachable or unreachable. */
  expected: string;
  /** "reachable", "unreachable" or "error (…)". */
  result: string;
  /** Average round trip of the replies; absent when there were none. */
  rttMs?: number;
}

/** The topology and pinned host keys the arguments describe, or every problem in them (the stack file's messages). */
export function checkOverlayArgs(args: MacvlanOverlayArgs): { topology: Topology; hostKeys: PinnedHostKeys } {
  const { sshPrivateKey, ...rest } = args as unknown as Record<string, unknown>;
  const raw: Record<string, unknown> = { ...rest, ...(sshPrivateKey === undefined ? {} : { sshPrivateKey: SECRET_KEY_SHAPE }) };
  const fileKeys: ConfigProblem[] = ["sshPrivateKeyFile", "sshKnownHostsFile"]
    .filter((key) => key in rest)
    .map((key) => ({ path: key, value: "", message: "is not an argument of MacvlanOverlay: pass sshPrivateKey (the key's text) and each hostKey instead" }));
  const { dockerSshFiles: _program, ...config } = raw;
  const checked = checkConfig(config, fileKeys);
  if (!checked.ok) throw new Error(`invalid MacvlanOverlay arguments:\n${formatProblems(checked.problems)}`);
  // Every host (and the bastion) has its hostKey by now: no file is read.
  return { topology: checked.topology, hostKeys: pinnedHostKeys(checked.topology, "/") };
}

/**
 * A Docker macvlan overlay over 802.1Q VLANs on several Linux hosts, with a NAT router between the
 * VLANs: per host its boot unit, promiscuous trunk, VLAN links, macvlan networks, containers and
 * shims (over SSH and each docker host's Docker API), and a connectivity check per docker host.
 */
export class MacvlanOverlay extends pulumi.ComponentResource {
  /** Per host name, what the overlay made there. */
  public readonly hosts: pulumi.Output<{ [host: string]: HostState }>;
  /** The router's iptables rules, as `iptables` arguments. */
  public readonly routerRules: pulumi.Output<string[]>;
  /** Per docker host with containers, its connectivity check's pings. */
  public readonly connectivity: pulumi.Output<{ [host: string]: PingResult[] }>;
  /** The topology as a Mermaid flowchart. */
  public readonly diagram: pulumi.Output<string>;
  /** A few lines: hosts, links, networks, containers and the check's verdict. */
  public readonly summary: pulumi.Output<string>;

  constructor(name: string, args: MacvlanOverlayArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before the component registers: bad arguments register nothing.
    const { topology, hostKeys } = checkOverlayArgs(args);
    super(MACVLAN_OVERLAY_TYPE, name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: LEGACY_OVERLAY_TYPE }] });
    const files = (args as ProgramOverlayArgs).dockerSshFiles;
    const ssh = {
      ...topology.ssh,
      ...(files?.privateKeyFile === undefined ? {} : { privateKeyFile: files.privateKeyFile }),
      ...(files?.knownHostsFile === undefined ? {} : { knownHostsFile: files.knownHostsFile }),
    };
    const children = new OverlayChildren(this, {
      topology: { ...topology, ssh },
      privateKey: pulumi.secret(args.sshPrivateKey),
      baseDir: files?.baseDir ?? process.cwd(),
      hostKeys,
    });
    this.hosts = pulumi.output(children.hosts);
    this.routerRules = pulumi.output(children.routerRules);
    this.connectivity = pulumi.output(children.checks);
    this.diagram = pulumi.output(renderMermaid(topology));
    this.summary = this.connectivity.apply((checks) => renderSummary(topology, checks));
    this.registerOutputs({
      hosts: this.hosts,
      routerRules: this.routerRules,
      connectivity: this.connectivity,
      diagram: this.diagram,
      summary: this.summary,
    });
  }
}
