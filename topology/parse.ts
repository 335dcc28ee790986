// Turns the raw stack config into the typed Topology, or into every problem found in it at once.
// Pure (no Pulumi, no file system): the one place where a config value is checked.

import {
  broadcastOf,
  contains,
  formatIpv4,
  formatIpv4Prefix,
  Ipv4Prefix,
  networkOf,
  overlaps,
  parseIpv4,
  parseIpv4Prefix,
} from "./ipv4";
import type {
  ConfigProblem,
  Container,
  Host,
  InterfaceAddress,
  Ipv4Cidr,
  ParseResult,
  Persistence,
  Role,
  SshSettings,
  Subinterface,
  Topology,
  Vlan,
} from "./types";

type MacvlanMode = Topology["macvlanMode"];

const TOP_LEVEL_KEYS = [
  "trunkInterface",
  "persistence",
  "sshUser",
  "sshPrivateKeyFile",
  "sshPrivateKey",
  "sshKnownHostsFile",
  "vlans",
  "hosts",
  "router",
  "macvlanMode",
  "verify",
];
const VLAN_KEYS = ["id", "network", "subnet", "gateway"];
const HOST_KEYS = ["name", "address", "port", "role", "trunkInterface", "vlanAddresses", "containers"];
const CONTAINER_KEYS = ["name", "vlan", "ip", "image"];
const ROUTER_KEYS = ["masquerade"];

const DEFAULT_TRUNK_INTERFACE = "ens33";
const DEFAULT_PERSISTENCE: Persistence = "network-scripts";
const DEFAULT_SSH_USER = "root";
const DEFAULT_PORT = 22;
const DEFAULT_IMAGE = "busybox:latest";
const DEFAULT_MACVLAN_MODE: MacvlanMode = "bridge";

const PERSISTENCES: readonly Persistence[] = ["network-scripts", "none"];
const ROLES: readonly Role[] = ["docker", "router"];
const MACVLAN_MODES: readonly MacvlanMode[] = ["bridge", "private", "vepa", "passthru"];

const VLAN_ID_MIN = 1;
const VLAN_ID_MAX = 4094;
const PORT_MIN = 1;
const PORT_MAX = 65535;
// A gateway plus at least one container needs two usable addresses: /30 is the smallest such subnet.
const SUBNET_PREFIX_MAX = 30;
// IFNAMSIZ is 16 including the terminating NUL.
const INTERFACE_NAME_MAX = 15;
const CONTAINER_NAME_MAX = 63;
const IMAGE_REFERENCE_MAX = 255;
const DNS_NAME_MAX = 253;
// Longer values are cut in messages so one line stays one line.
const SHOWN_VALUE_MAX = 60;

const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;
const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const HOST_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const SSH_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const DIGITS_AND_DOTS = /^[0-9.]+$/;
const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;
const PLAIN_KEY = /^[A-Za-z0-9_:-]+$/;
const PRINTABLE_WITHOUT_SPACE = /^[\x21-\x7e]+$/;

// Docker's reference grammar, kept to what a registry accepts: [domain[:port]/]path[:tag][@digest].
const DOMAIN_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_REFERENCE = new RegExp(
  `^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*(?::[0-9]+)?/)?` +
    `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*` +
    "(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?" +
    "(?:@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,})?$",
);

const SECRET_SHOWN = "(secret)";
const PLAINTEXT_SHOWN = "(plaintext, not shown)";
const HIDDEN_SHOWN = "(not shown)";

type Fields = { readonly [key: string]: unknown };

/** Collects problems in the order found; the same problem twice is kept once. */
class ProblemList {
  readonly problems: ConfigProblem[] = [];
  private readonly seen = new Set<string>();

  add(path: string, value: unknown, message: string): void {
    this.addShown(path, renderValue(value), message);
  }

  /** For a value that must not appear as written (a secret). */
  addShown(path: string, shown: string, message: string): void {
    const key = JSON.stringify([path, shown, message]);
    // One trunk shared by many hosts would otherwise report the same overlong device once per host.
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.problems.push({ path, value: shown, message });
  }
}

/** A VLAN as far as it could be read; fields are absent where the config is wrong. */
interface VlanDraft {
  readonly path: string;
  /** Any integer given, even out of range, so references to it still resolve. */
  readonly id?: number;
  readonly network?: string;
  /** Present only when the subnet is entirely valid. */
  readonly subnet?: Ipv4Cidr;
  /** The subnet's network and prefix, for containment checks even when it was written off its network address. */
  readonly block?: Ipv4Prefix;
  /** Present only when the gateway passed its checks. */
  readonly gateway?: number;
}

interface VlanCatalog {
  readonly drafts: readonly VlanDraft[];
  /** The first VLAN of each id. */
  readonly byId: ReadonlyMap<number, VlanDraft>;
  /** False when some VLAN's id could not be read: a reference to an unknown id may mean that one. */
  readonly complete: boolean;
}

interface VlanAddressDraft {
  readonly path: string;
  readonly vlan?: VlanDraft;
  readonly address?: InterfaceAddress;
  readonly numeric?: Ipv4Prefix;
}

interface ContainerDraft {
  readonly path: string;
  readonly name?: string;
  readonly vlan?: VlanDraft;
  readonly ip?: number;
  /** True when the ip passed its own checks, so it may take part in uniqueness checks. */
  readonly ipUsable: boolean;
  readonly image?: string;
}

interface HostDraft {
  readonly path: string;
  readonly name?: string;
  readonly address?: string;
  readonly port?: number;
  readonly role?: Role;
  /** The trunk in effect and the key that set it, for messages about device names. */
  readonly trunk?: { readonly name: string; readonly path: string };
  /** Undefined when vlanAddresses is not an object. */
  readonly vlanAddresses?: readonly VlanAddressDraft[];
  readonly containers: readonly ContainerDraft[];
  readonly containersValue: unknown;
}

interface RouterSettingsDraft {
  readonly given: boolean;
  readonly value: unknown;
  readonly masquerade?: boolean;
}

/** Validates the raw config (keys without the project prefix) and builds the Topology, or lists every problem. */
export function parseTopology(raw: unknown): ParseResult {
  const problems = new ProblemList();
  const config = readMapping(problems, "", raw, TOP_LEVEL_KEYS);
  if (config === undefined) return { ok: false, problems: problems.problems };

  const trunk =
    config.trunkInterface === undefined
      ? DEFAULT_TRUNK_INTERFACE
      : readInterfaceName(problems, "trunkInterface", config.trunkInterface);
  const persistence =
    config.persistence === undefined
      ? DEFAULT_PERSISTENCE
      : readChoice(problems, "persistence", config.persistence, PERSISTENCES);
  const ssh = readSsh(problems, config);
  const macvlanMode =
    config.macvlanMode === undefined
      ? DEFAULT_MACVLAN_MODE
      : readChoice(problems, "macvlanMode", config.macvlanMode, MACVLAN_MODES);
  const verify = config.verify === undefined ? true : readBoolean(problems, "verify", config.verify);
  const catalog = readVlans(problems, config.vlans);
  const hosts = readHosts(problems, config.hosts, trunk, catalog);
  const routerSettings = readRouterSettings(problems, config.router);

  checkHostIdentities(problems, hosts);
  checkVlanAddressUse(problems, hosts, catalog);
  checkRoles(problems, hosts, catalog, routerSettings);
  checkDeviceNames(problems, hosts);

  if (problems.problems.length > 0) return { ok: false, problems: problems.problems };
  return {
    ok: true,
    topology: {
      persistence: complete(persistence, "persistence"),
      ssh: complete(ssh, "ssh"),
      vlans: catalog.drafts.map(assembleVlan).sort((a, b) => a.id - b.id),
      hosts: hosts.map(assembleHost),
      ...assembleRouter(hosts, routerSettings),
      macvlanMode: complete(macvlanMode, "macvlanMode"),
      verify: complete(verify, "verify"),
    },
  };
}

/** One line per problem: `hosts[1].containers[0].ip 172.18.0.1: is the gateway of vlan 10`. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems
    .map((problem) =>
      problem.value === ""
        ? `${problem.path}: ${problem.message}`
        : `${problem.path} ${problem.value}: ${problem.message}`,
    )
    .join("\n");
}

// ---- settings ----

function readSsh(problems: ProblemList, config: Fields): SshSettings | undefined {
  const user =
    config.sshUser === undefined
      ? DEFAULT_SSH_USER
      : readPattern(problems, "sshUser", config.sshUser, SSH_USER, "must be a Linux user name: a-z or _, then up to 31 of a-z 0-9 _ -");
  const privateKeyFile =
    config.sshPrivateKeyFile === undefined
      ? undefined
      : readFilePath(problems, "sshPrivateKeyFile", config.sshPrivateKeyFile);
  const knownHostsFile =
    config.sshKnownHostsFile === undefined
      ? undefined
      : readFilePath(problems, "sshKnownHostsFile", config.sshKnownHostsFile);
  const secretKey = config.sshPrivateKey;
  // Whatever shape the key has, it may hold key material: it is never echoed.
  const secretKeyShown = isSecret(secretKey) ? SECRET_SHOWN : typeof secretKey === "string" ? PLAINTEXT_SHOWN : HIDDEN_SHOWN;

  if (typeof secretKey === "string") {
    problems.addShown("sshPrivateKey", secretKeyShown, "must be set as a secret: pulumi config set --secret sshPrivateKey < key");
  } else if (secretKey !== undefined && !isSecret(secretKey)) {
    problems.addShown("sshPrivateKey", secretKeyShown, "must be a secret: pulumi config set --secret sshPrivateKey < key");
  }
  if (config.sshPrivateKeyFile === undefined && secretKey === undefined) {
    problems.add("sshPrivateKeyFile", undefined, "is required, or else the secret sshPrivateKey");
  }
  if (config.sshPrivateKeyFile !== undefined && secretKey !== undefined) {
    problems.addShown("sshPrivateKey", secretKeyShown, "conflicts with sshPrivateKeyFile: set only one of them");
  }

  if (user === undefined) return undefined;
  return {
    user,
    privateKeyFromConfig: secretKey !== undefined,
    ...(privateKeyFile === undefined ? {} : { privateKeyFile }),
    ...(knownHostsFile === undefined ? {} : { knownHostsFile }),
  };
}

function readRouterSettings(problems: ProblemList, value: unknown): RouterSettingsDraft {
  if (value === undefined) return { given: false, value, masquerade: true };
  const fields = readMapping(problems, "router", value, ROUTER_KEYS);
  if (fields === undefined) return { given: true, value };
  const masquerade =
    fields.masquerade === undefined ? true : readBoolean(problems, "router.masquerade", fields.masquerade);
  return { given: true, value, masquerade };
}

// ---- vlans ----

function readVlans(problems: ProblemList, value: unknown): VlanCatalog {
  const entries = readRequiredList(problems, "vlans", value, "vlans {id, network, subnet, gateway}");
  const drafts = entries.map((entry, index) => readVlan(problems, `vlans[${index}]`, entry));
  reportDuplicates(
    problems,
    drafts.flatMap((vlan) => (vlan.id === undefined ? [] : [{ path: `${vlan.path}.id`, key: String(vlan.id), value: vlan.id }])),
  );
  reportDuplicates(
    problems,
    drafts.flatMap((vlan) =>
      vlan.network === undefined ? [] : [{ path: `${vlan.path}.network`, key: vlan.network, value: vlan.network }],
    ),
  );
  reportOverlappingSubnets(problems, drafts);

  const byId = new Map<number, VlanDraft>();
  for (const vlan of drafts) {
    if (vlan.id !== undefined && !byId.has(vlan.id)) byId.set(vlan.id, vlan);
  }
  return { drafts, byId, complete: entries.length > 0 && drafts.every((vlan) => vlan.id !== undefined) };
}

function readVlan(problems: ProblemList, path: string, entry: unknown): VlanDraft {
  const fields = readMapping(problems, path, entry, VLAN_KEYS);
  if (fields === undefined) return { path };

  const id = fields.id === undefined ? missing(problems, path, "id") : readVlanId(problems, `${path}.id`, fields.id);
  const network =
    fields.network === undefined
      ? missing(problems, path, "network")
      : readDockerName(problems, `${path}.network`, fields.network, undefined);
  const { subnet, block } =
    fields.subnet === undefined ? missingSubnet(problems, path) : readSubnet(problems, `${path}.subnet`, fields.subnet);
  const gateway =
    fields.gateway === undefined
      ? missing(problems, path, "gateway")
      : readGateway(problems, `${path}.gateway`, fields.gateway, block);

  return { path, id, network, subnet, block, gateway };
}

/** Returns any integer given, even out of range (reported), so references to that id do not also fail. */
function readVlanId(problems: ProblemList, path: string, value: unknown): number | undefined {
  const id = toInteger(value);
  if (!isVlanId(id)) {
    problems.add(path, value, `must be an integer from ${VLAN_ID_MIN} to ${VLAN_ID_MAX}`);
  }
  return id;
}

function missingSubnet(problems: ProblemList, vlanPath: string): { subnet?: Ipv4Cidr; block?: Ipv4Prefix } {
  missing(problems, vlanPath, "subnet");
  return {};
}

function isVlanId(id: number | undefined): boolean {
  return id !== undefined && id >= VLAN_ID_MIN && id <= VLAN_ID_MAX;
}

function readSubnet(
  problems: ProblemList,
  path: string,
  value: unknown,
): { subnet?: Ipv4Cidr; block?: Ipv4Prefix } {
  const given = typeof value === "string" ? parseIpv4Prefix(value) : undefined;
  if (given === undefined) {
    problems.add(path, value, "must be an IPv4 prefix like 172.18.0.0/24");
    return {};
  }
  const block = { address: networkOf(given), prefix: given.prefix };
  const onNetwork = block.address === given.address;
  if (!onNetwork) {
    problems.add(path, value, `is not a network address: the network is ${formatIpv4Prefix(block)}`);
  }
  if (given.prefix > SUBNET_PREFIX_MAX) {
    problems.add(path, value, `must have a prefix of at most /${SUBNET_PREFIX_MAX}, to leave room for a gateway and containers`);
    return {};
  }
  return onNetwork ? { subnet: toCidr(block), block } : { block };
}

function readGateway(
  problems: ProblemList,
  path: string,
  value: unknown,
  block: Ipv4Prefix | undefined,
): number | undefined {
  const gateway = typeof value === "string" ? parseIpv4(value) : undefined;
  if (gateway === undefined) {
    problems.add(path, value, "must be an IPv4 address like 172.18.0.1");
    return undefined;
  }
  if (block === undefined) return gateway;
  const subnet = formatIpv4Prefix(block);
  let message: string | undefined;
  if (!contains(block, gateway)) message = `is outside the subnet ${subnet}`;
  else if (gateway === block.address) message = `is the network address of ${subnet}`;
  else if (gateway === broadcastOf(block)) message = `is the broadcast address of ${subnet}`;
  if (message === undefined) return gateway;
  problems.add(path, value, message);
  return undefined;
}

function reportOverlappingSubnets(problems: ProblemList, vlans: readonly VlanDraft[]): void {
  const seen: VlanDraft[] = [];
  for (const vlan of vlans) {
    if (vlan.subnet === undefined || vlan.block === undefined) continue;
    const block = vlan.block;
    const earlier = seen.find((other) => other.block !== undefined && overlaps(other.block, block));
    if (earlier?.subnet !== undefined) {
      problems.add(`${vlan.path}.subnet`, vlan.subnet.cidr, `overlaps ${earlier.path}.subnet ${earlier.subnet.cidr}`);
    }
    seen.push(vlan);
  }
}

/** Resolves a container's vlan or a vlanAddresses key to a defined VLAN. */
function resolveVlan(
  problems: ProblemList,
  path: string,
  shown: unknown,
  reference: unknown,
  catalog: VlanCatalog,
): VlanDraft | undefined {
  const id = toInteger(reference);
  if (id === undefined) {
    problems.add(path, shown, `is not a vlan id: use the id of one of vlans (${definedIds(catalog)})`);
    return undefined;
  }
  const vlan = catalog.byId.get(id);
  if (vlan === undefined && catalog.complete) problems.add(path, shown, `vlan ${id} is not defined in vlans (${definedIds(catalog)})`);
  return vlan;
}

function definedIds(catalog: VlanCatalog): string {
  const ids = [...catalog.byId.keys()].sort((a, b) => a - b);
  return ids.length === 0 ? "none defined" : `defined: ${ids.join(", ")}`;
}

// ---- hosts ----

function readHosts(
  problems: ProblemList,
  value: unknown,
  trunk: string | undefined,
  catalog: VlanCatalog,
): HostDraft[] {
  return readRequiredList(problems, "hosts", value, "hosts {name, address, role, ...}").map((entry, index) =>
    readHost(problems, `hosts[${index}]`, entry, trunk, catalog),
  );
}

function readHost(
  problems: ProblemList,
  path: string,
  entry: unknown,
  defaultTrunk: string | undefined,
  catalog: VlanCatalog,
): HostDraft {
  const fields = readMapping(problems, path, entry, HOST_KEYS);
  if (fields === undefined) return { path, containers: [], containersValue: undefined };

  const name =
    fields.name === undefined
      ? missing(problems, path, "name")
      : readPattern(problems, `${path}.name`, fields.name, HOST_NAME, "must be 1–32 characters of a-z 0-9 -, starting with a letter or digit");
  const address =
    fields.address === undefined ? missing(problems, path, "address") : readHostAddress(problems, `${path}.address`, fields.address);
  const port =
    fields.port === undefined ? DEFAULT_PORT : readInteger(problems, `${path}.port`, fields.port, PORT_MIN, PORT_MAX);
  const role = fields.role === undefined ? missing(problems, path, "role") : readChoice(problems, `${path}.role`, fields.role, ROLES);
  const trunk = readHostTrunk(problems, path, fields.trunkInterface, defaultTrunk);
  const vlanAddresses = readVlanAddresses(problems, `${path}.vlanAddresses`, fields.vlanAddresses, catalog);
  const containers = readContainers(problems, `${path}.containers`, fields.containers, catalog);

  return { path, name, address, port, role, trunk, vlanAddresses, containers, containersValue: fields.containers };
}

function readHostTrunk(
  problems: ProblemList,
  hostPath: string,
  value: unknown,
  defaultTrunk: string | undefined,
): HostDraft["trunk"] {
  if (value === undefined) return defaultTrunk === undefined ? undefined : { name: defaultTrunk, path: "trunkInterface" };
  const path = `${hostPath}.trunkInterface`;
  const name = readInterfaceName(problems, path, value);
  return name === undefined ? undefined : { name, path };
}

function readHostAddress(problems: ProblemList, path: string, value: unknown): string | undefined {
  if (typeof value === "string" && isHostAddress(value)) return value;
  problems.add(path, value, "must be an IPv4 address or a DNS name");
  return undefined;
}

function isHostAddress(text: string): boolean {
  // All digits and dots can only mean an IPv4 address: "10.0.0.256" is not a name.
  if (DIGITS_AND_DOTS.test(text)) return parseIpv4(text) !== undefined;
  return text.length <= DNS_NAME_MAX && text.split(".").every((label) => DNS_LABEL.test(label));
}

function readVlanAddresses(
  problems: ProblemList,
  path: string,
  value: unknown,
  catalog: VlanCatalog,
): VlanAddressDraft[] | undefined {
  if (value === undefined) return [];
  if (!isMapping(value)) {
    problems.add(path, value, 'must be an object of vlan id to address, like { "10": 192.168.22.10/24 }');
    return undefined;
  }
  return Object.entries(value).map(([key, text]) => {
    const entryPath = keyPath(path, key);
    const vlan = resolveVlan(problems, entryPath, text, key, catalog);
    const parsed = readInterfaceAddress(problems, entryPath, text);
    return { path: entryPath, vlan, ...parsed };
  });
}

function readInterfaceAddress(
  problems: ProblemList,
  path: string,
  value: unknown,
): { address?: InterfaceAddress; numeric?: Ipv4Prefix } {
  const given = typeof value === "string" ? parseIpv4Prefix(value) : undefined;
  if (typeof value !== "string" || given === undefined) {
    problems.add(path, value, "must be an address with its prefix length, like 192.168.22.10/24");
    return {};
  }
  const network = networkOf(given);
  const block = formatIpv4Prefix({ address: network, prefix: given.prefix });
  // /31 and /32 have no network or broadcast address to avoid (RFC 3021).
  if (given.prefix <= SUBNET_PREFIX_MAX && given.address === network) {
    problems.add(path, value, `is the network address of ${block}`);
    return {};
  }
  if (given.prefix <= SUBNET_PREFIX_MAX && given.address === broadcastOf(given)) {
    problems.add(path, value, `is the broadcast address of ${block}`);
    return {};
  }
  return {
    address: { cidr: value, address: formatIpv4(given.address), prefix: given.prefix, network: formatIpv4(network) },
    numeric: given,
  };
}

// ---- containers ----

function readContainers(problems: ProblemList, path: string, value: unknown, catalog: VlanCatalog): ContainerDraft[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.add(path, value, "must be a list of containers {name, vlan, ip, image}");
    return [];
  }
  return value.map((entry, index) => readContainer(problems, `${path}[${index}]`, entry, catalog));
}

function readContainer(problems: ProblemList, path: string, entry: unknown, catalog: VlanCatalog): ContainerDraft {
  const fields = readMapping(problems, path, entry, CONTAINER_KEYS);
  if (fields === undefined) return { path, ipUsable: false };

  const name =
    fields.name === undefined
      ? missing(problems, path, "name")
      : readDockerName(problems, `${path}.name`, fields.name, CONTAINER_NAME_MAX);
  const vlan =
    fields.vlan === undefined
      ? missing(problems, path, "vlan")
      : resolveVlan(problems, `${path}.vlan`, fields.vlan, fields.vlan, catalog);
  const ip = fields.ip === undefined ? missing(problems, path, "ip") : readContainerIp(problems, `${path}.ip`, fields.ip);
  const ipUsable = ip !== undefined && (vlan === undefined || checkContainerIp(problems, `${path}.ip`, ip, vlan));
  const image = fields.image === undefined ? DEFAULT_IMAGE : readImage(problems, `${path}.image`, fields.image);

  return { path, name, vlan, ip, ipUsable, image };
}

function readContainerIp(problems: ProblemList, path: string, value: unknown): number | undefined {
  const ip = typeof value === "string" ? parseIpv4(value) : undefined;
  if (ip === undefined) problems.add(path, value, "must be an IPv4 address like 172.18.0.2");
  return ip;
}

/** True when the ip is a usable container address on its VLAN; reports why not otherwise. */
function checkContainerIp(problems: ProblemList, path: string, ip: number, vlan: VlanDraft): boolean {
  const shown = formatIpv4(ip);
  const name = `vlan ${vlan.id}`;
  const block = vlan.block;
  let message: string | undefined;
  if (block !== undefined && !contains(block, ip)) message = `is outside the subnet ${formatIpv4Prefix(block)} of ${name}`;
  else if (block !== undefined && ip === block.address) message = `is the network address of ${name}`;
  else if (block !== undefined && ip === broadcastOf(block)) message = `is the broadcast address of ${name}`;
  else if (ip === vlan.gateway) message = `is the gateway of ${name}`;
  if (message !== undefined) problems.add(path, shown, message);
  return message === undefined;
}

function readImage(problems: ProblemList, path: string, value: unknown): string | undefined {
  if (typeof value === "string" && value.length <= IMAGE_REFERENCE_MAX && IMAGE_REFERENCE.test(value)) return value;
  problems.add(path, value, "must be an image reference like busybox:latest or registry.example:5000/team/app:1.0");
  return undefined;
}

// ---- checks across hosts ----

function checkHostIdentities(problems: ProblemList, hosts: readonly HostDraft[]): void {
  reportDuplicates(
    problems,
    hosts.flatMap((host) => (host.name === undefined ? [] : [{ path: `${host.path}.name`, key: host.name, value: host.name }])),
  );
  reportDuplicates(
    problems,
    hosts.flatMap((host) =>
      host.address === undefined || host.port === undefined
        ? []
        : [
            {
              path: `${host.path}.address`,
              // DNS names are case-insensitive.
              key: `${host.address.toLowerCase()} ${host.port}`,
              value: host.address,
              detail: ` on the same port ${host.port}`,
            },
          ],
    ),
  );
  reportDuplicates(
    problems,
    hosts.flatMap((host) =>
      host.containers.flatMap((container) =>
        container.name === undefined ? [] : [{ path: `${container.path}.name`, key: container.name, value: container.name }],
      ),
    ),
  );
}

/**
 * On each VLAN, container ips and host addresses are all distinct; only the router holds a gateway,
 * and it holds it with the subnet's prefix. Values that already failed their own checks take no part.
 */
function checkVlanAddressUse(problems: ProblemList, hosts: readonly HostDraft[], catalog: VlanCatalog): void {
  const users = new Map<number, string>();
  const claim = (vlan: VlanDraft, address: number, path: string): string | undefined => {
    // An out-of-range id is reported already, and would not pack exactly into the key below.
    if (vlan.id === undefined || !isVlanId(vlan.id)) return undefined;
    // Id and address packed in one safe integer: a number key is cheaper than a string for 10⁴ addresses.
    const key = vlan.id * 2 ** 32 + address;
    const first = users.get(key);
    if (first === undefined) users.set(key, path);
    return first;
  };

  for (const container of hosts.flatMap((host) => host.containers)) {
    if (container.vlan === undefined || container.ip === undefined || !container.ipUsable) continue;
    const first = claim(container.vlan, container.ip, `${container.path}.ip`);
    if (first !== undefined) {
      problems.add(`${container.path}.ip`, formatIpv4(container.ip), `is already used by ${first} on vlan ${container.vlan.id}`);
    }
  }

  const gateways = new Map<number, VlanDraft>();
  for (const vlan of catalog.byId.values()) {
    if (vlan.gateway !== undefined && !gateways.has(vlan.gateway)) gateways.set(vlan.gateway, vlan);
  }

  for (const host of hosts) {
    for (const entry of host.vlanAddresses ?? []) {
      const { vlan, address, numeric } = entry;
      if (vlan === undefined || address === undefined || numeric === undefined) continue;
      if (host.role === "docker") {
        const owner = gateways.get(numeric.address);
        if (owner !== undefined) {
          problems.add(entry.path, address.cidr, `uses the gateway of vlan ${owner.id}, which only the router holds`);
          continue;
        }
      }
      if (host.role === "router" && vlan.gateway !== undefined && vlan.block !== undefined) {
        const expected = `${formatIpv4(vlan.gateway)}/${vlan.block.prefix}`;
        if (address.cidr !== expected) {
          problems.add(entry.path, address.cidr, `must be the gateway of vlan ${vlan.id} with its subnet's prefix: ${expected}`);
          continue;
        }
      }
      const first = claim(vlan, numeric.address, entry.path);
      if (first !== undefined) {
        problems.add(entry.path, address.cidr, `${address.address} is already used by ${first} on vlan ${vlan.id}`);
      }
    }
  }
}

function checkRoles(
  problems: ProblemList,
  hosts: readonly HostDraft[],
  catalog: VlanCatalog,
  routerSettings: RouterSettingsDraft,
): void {
  const routers = hosts.filter((host) => host.role === "router");
  // A host whose role could not be read might be the missing docker host or router: say nothing then.
  const rolesKnown = hosts.length > 0 && hosts.every((host) => host.role !== undefined);

  for (const extra of routers.slice(1)) {
    problems.add(`${extra.path}.role`, extra.role, `is a second router: ${routers[0].path} is the router already`);
  }
  for (const router of routers) {
    if (router.containers.length > 0) {
      problems.add(`${router.path}.containers`, router.containersValue, "must be empty: a router host runs no containers");
    }
  }
  if (rolesKnown && !hosts.some((host) => host.role === "docker")) {
    problems.add("hosts", undefined, "needs at least one host with role docker");
  }
  if (rolesKnown && routers.length === 0 && routerSettings.given) {
    problems.add("router", routerSettings.value, "is set but no host has role router");
  }

  const router = routers[0];
  if (router?.vlanAddresses === undefined) return;
  const held = new Set(router.vlanAddresses.map((entry) => entry.vlan));
  for (const vlan of catalog.byId.values()) {
    if (!isVlanId(vlan.id) || vlan.gateway === undefined || vlan.block === undefined || held.has(vlan)) continue;
    problems.add(
      `${router.path}.vlanAddresses.${vlan.id}`,
      undefined,
      `is required: the router holds the gateway of vlan ${vlan.id}, ${formatIpv4(vlan.gateway)}/${vlan.block.prefix}`,
    );
  }
}

function checkDeviceNames(problems: ProblemList, hosts: readonly HostDraft[]): void {
  for (const host of hosts) {
    if (host.trunk === undefined) continue;
    for (const id of subinterfaceIds(host)) {
      const device = `${host.trunk.name}.${id}`;
      if (device.length > INTERFACE_NAME_MAX) {
        problems.add(
          host.trunk.path,
          host.trunk.name,
          `makes the device ${device} for vlan ${id}: ${device.length} characters, Linux allows ${INTERFACE_NAME_MAX}`,
        );
      }
    }
  }
}

/** The VLANs a host takes part in: those it has an address on and those its containers use, sorted. */
function subinterfaceIds(host: HostDraft): number[] {
  const ids = new Set<number>();
  for (const entry of host.vlanAddresses ?? []) if (entry.vlan?.id !== undefined) ids.add(entry.vlan.id);
  for (const container of host.containers) if (container.vlan?.id !== undefined) ids.add(container.vlan.id);
  return [...ids].sort((a, b) => a - b);
}

interface Claim {
  readonly path: string;
  readonly key: string;
  readonly value: unknown;
  readonly detail?: string;
}

/** Reports every claim whose key an earlier claim already has, naming the earlier one. */
function reportDuplicates(problems: ProblemList, claims: readonly Claim[]): void {
  const first = new Map<string, Claim>();
  for (const claim of claims) {
    const earlier = first.get(claim.key);
    if (earlier === undefined) first.set(claim.key, claim);
    else problems.add(claim.path, claim.value, `duplicates ${earlier.path}${claim.detail ?? ""}`);
  }
}

// ---- assembly (runs only when no problem was found, so every field is present) ----

function complete<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`parseTopology: ${what} is missing although no problem was reported`);
  return value;
}

function assembleVlan(draft: VlanDraft): Vlan {
  return {
    id: complete(draft.id, `${draft.path}.id`),
    network: complete(draft.network, `${draft.path}.network`),
    subnet: complete(draft.subnet, `${draft.path}.subnet`),
    gateway: formatIpv4(complete(draft.gateway, `${draft.path}.gateway`)),
  };
}

function assembleHost(draft: HostDraft): Host {
  const trunk = complete(draft.trunk, `${draft.path}.trunkInterface`).name;
  const addresses = new Map<number, InterfaceAddress>();
  for (const entry of complete(draft.vlanAddresses, `${draft.path}.vlanAddresses`)) {
    const vlan = complete(entry.vlan, entry.path);
    addresses.set(complete(vlan.id, vlan.path), complete(entry.address, entry.path));
  }
  const subinterfaces = subinterfaceIds(draft).map((vlan): Subinterface => {
    const address = addresses.get(vlan);
    const device = `${trunk}.${vlan}`;
    return address === undefined ? { vlan, parent: trunk, device } : { vlan, parent: trunk, device, address };
  });
  return {
    name: complete(draft.name, `${draft.path}.name`),
    address: complete(draft.address, `${draft.path}.address`),
    port: complete(draft.port, `${draft.path}.port`),
    role: complete(draft.role, `${draft.path}.role`),
    trunkInterface: trunk,
    subinterfaces,
    containers: draft.containers.map(assembleContainer),
  };
}

function assembleContainer(draft: ContainerDraft): Container {
  const vlan = complete(draft.vlan, `${draft.path}.vlan`);
  const name = complete(draft.name, `${draft.path}.name`);
  return {
    name,
    key: name,
    vlan: complete(vlan.id, vlan.path),
    ip: formatIpv4(complete(draft.ip, `${draft.path}.ip`)),
    image: complete(draft.image, `${draft.path}.image`),
  };
}

function assembleRouter(hosts: readonly HostDraft[], settings: RouterSettingsDraft): Pick<Topology, "router"> {
  const router = hosts.find((host) => host.role === "router");
  if (router === undefined) return {};
  return {
    router: {
      host: complete(router.name, `${router.path}.name`),
      masquerade: complete(settings.masquerade, "router.masquerade"),
    },
  };
}

function toCidr(block: Ipv4Prefix): Ipv4Cidr {
  return {
    cidr: formatIpv4Prefix(block),
    network: formatIpv4(block.address),
    broadcast: formatIpv4(broadcastOf(block)),
    prefix: block.prefix,
  };
}

// ---- reading raw values ----

function isSecret(value: unknown): value is { readonly secure: string } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const secure = (value as Fields).secure;
  return keys.length === 1 && keys[0] === "secure" && typeof secure === "string" && secure !== "";
}

function isMapping(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isSecret(value);
}

/** The value as an object, with every key not in `known` reported; `path` "" is the top level. */
function readMapping(problems: ProblemList, path: string, value: unknown, known: readonly string[]): Fields | undefined {
  if (!isMapping(value)) {
    problems.add(path === "" ? "config" : path, value, "must be an object");
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) problems.add(keyPath(path, key), value[key], `is not a known key (known: ${known.join(", ")})`);
  }
  return value;
}

function readRequiredList(problems: ProblemList, path: string, value: unknown, what: string): readonly unknown[] {
  if (value === undefined) {
    problems.add(path, undefined, `is required: a non-empty list of ${what}`);
    return [];
  }
  if (!Array.isArray(value) || value.length === 0) {
    problems.add(path, value, `must be a non-empty list of ${what}`);
    return [];
  }
  return value;
}

function missing(problems: ProblemList, parent: string, key: string): undefined {
  problems.add(keyPath(parent, key), undefined, "is required");
  return undefined;
}

function readPattern(problems: ProblemList, path: string, value: unknown, pattern: RegExp, message: string): string | undefined {
  if (typeof value !== "string") {
    problems.add(path, value, "must be a string");
    return undefined;
  }
  if (pattern.test(value)) return value;
  problems.add(path, value, message);
  return undefined;
}

function readInterfaceName(problems: ProblemList, path: string, value: unknown): string | undefined {
  const name = readPattern(
    problems,
    path,
    value,
    INTERFACE_NAME,
    `must be a Linux interface name: 1–${INTERFACE_NAME_MAX} characters of A-Z a-z 0-9 _ . -`,
  );
  if (name === "." || name === "..") {
    problems.add(path, value, "must be a Linux interface name, not . or ..");
    return undefined;
  }
  return name;
}

function readDockerName(problems: ProblemList, path: string, value: unknown, maxLength: number | undefined): string | undefined {
  const name = readPattern(problems, path, value, DOCKER_NAME, "must be a Docker name: a letter or digit, then A-Z a-z 0-9 _ . -");
  if (name !== undefined && maxLength !== undefined && name.length > maxLength) {
    problems.add(path, value, `must be a Docker name of at most ${maxLength} characters`);
    return undefined;
  }
  return name;
}

function readFilePath(problems: ProblemList, path: string, value: unknown): string | undefined {
  if (typeof value === "string" && value !== "" && !/[\n\r\0]/.test(value)) return value;
  problems.add(path, value, "must be a non-empty path without newline or NUL");
  return undefined;
}

function readChoice<T extends string>(problems: ProblemList, path: string, value: unknown, choices: readonly T[]): T | undefined {
  const choice = choices.find((candidate) => candidate === value);
  if (choice === undefined) problems.add(path, value, `must be one of: ${choices.join(", ")}`);
  return choice;
}

/** Booleans as YAML gives them, or as the strings Pulumi's config gives. */
function readBoolean(problems: ProblemList, path: string, value: unknown): boolean | undefined {
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  problems.add(path, value, "must be true or false");
  return undefined;
}

function readInteger(problems: ProblemList, path: string, value: unknown, min: number, max: number): number | undefined {
  const integer = toInteger(value);
  if (integer !== undefined && integer >= min && integer <= max) return integer;
  problems.add(path, value, `must be an integer from ${min} to ${max}`);
  return undefined;
}

/** Integers as YAML gives them, or as the decimal strings Pulumi's config gives ("10"). */
function toInteger(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value !== "string" || !DECIMAL_INTEGER.test(value)) return undefined;
  const integer = Number(value);
  return Number.isSafeInteger(integer) ? integer : undefined;
}

function keyPath(parent: string, key: string): string {
  if (PLAIN_KEY.test(key)) return parent === "" ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** The value as the user wrote it, on one short line; secrets never shown. */
function renderValue(value: unknown): string {
  if (value === undefined) return "";
  if (isSecret(value)) return SECRET_SHOWN;
  if (typeof value === "string" && PRINTABLE_WITHOUT_SPACE.test(value)) return shorten(value);
  if (typeof value === "string" || typeof value === "object") {
    try {
      return shorten(JSON.stringify(value) ?? String(value));
    } catch {
      return shorten(String(value));
    }
  }
  return shorten(String(value));
}

function shorten(text: string): string {
  return text.length <= SHOWN_VALUE_MAX ? text : `${text.slice(0, SHOWN_VALUE_MAX - 1)}…`;
}
