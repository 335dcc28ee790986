// The shape of the stack config: every key, its type, default, text form and unknown-key check,
// declared once. The meaning (addresses, references, limits) is checked by topology/rules/.

import { z } from "zod";
import { parseIpv4, parseIpv4Prefix } from "./ipv4";
import { nearestKey } from "./nearestKey";

// IFNAMSIZ is 16 including the terminating NUL.
export const INTERFACE_NAME_MAX = 15;
const IMAGE_REFERENCE_MAX = 255;
const DNS_NAME_MAX = 253;

const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;
const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const HOST_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const SSH_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const DIGITS_AND_DOTS = /^[0-9.]+$/;
// A label the URL standard and inet_aton read as a number: decimal, or hex after 0x.
const NUMERIC_LABEL = /^(?:[0-9]+|0[xX][0-9A-Fa-f]*)$/;
const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;
// An OpenSSH public key line as authorized_keys and known_hosts hold it: "<type> <base64> [comment]".
const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|rsa-sha2-256|rsa-sha2-512|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,2}( [^\n\r\0]*)?$/;

// Docker's reference grammar, kept to what a registry accepts: [domain[:port]/]path[:tag][@digest].
const DOMAIN_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_REFERENCE = new RegExp(
  `^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*(?::[0-9]+)?/)?` +
    `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*` +
    "(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?" +
    "(?:@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,})?$",
);

/** Stands in a message for the list of defined vlan ids, which only the whole config knows. */
export const DEFINED_VLANS = "\u0000defined vlans\u0000";

const MESSAGES = {
  interfaceName: `must be a Linux interface name: 1–${INTERFACE_NAME_MAX} characters of A-Z a-z 0-9 _ . -`,
  dockerName: "must be a Docker name: a letter or digit, then A-Z a-z 0-9 _ . -",
  vlanReference: `is not a vlan id: use the id of one of vlans (${DEFINED_VLANS})`,
  secret: (key: string) => `must be a secret: pulumi config set --secret ${key} < key`,
  plaintextSecret: (key: string) => `must be set as a secret: pulumi config set --secret ${key} < key`,
};

/** A string matching `check`; `message` for anything else, `typeMessage` for a value that is not a string. */
function text(check: (value: string) => boolean, message: string, typeMessage = message) {
  return z.string({ error: typeMessage }).refine(check, { error: message });
}

function pattern(regex: RegExp, message: string, typeMessage = message) {
  return z.string({ error: typeMessage }).regex(regex, { error: message });
}

/** An integer, or the decimal string Pulumi's config gives for one ("10"), within [min, max]. */
function integer(min: number, max: number, message = `must be an integer from ${min} to ${max}`) {
  const inRange = z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message });
  const decimal = z.string().regex(DECIMAL_INTEGER, { error: message }).transform(Number).pipe(inRange);
  return z.union([inRange, decimal], { error: message });
}

/** A boolean, or the "true"/"false" Pulumi's config gives. */
function boolean() {
  const message = "must be true or false";
  return z.union([z.boolean(), z.enum(["true", "false"]).transform((value) => value === "true")], { error: message });
}

/** A key's default, applied when the key is absent (tools/stackSchema.ts writes it into the JSON Schema). */
function orDefault<T extends z.ZodType>(schema: T, value: z.output<T>, description: string) {
  return schema.default(value as never).meta({ description });
}

function choice<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of: ${values.join(", ")}` });
}

const UNKNOWN_KEY = "is not a known key";
const KNOWN_LIST = /\(known: ([^)]*)\)$/;

/** A mapping whose unknown keys are each reported with the list of known ones. */
function mapping<T extends z.core.$ZodLooseShape>(shape: T, notObject = "must be an object") {
  const known = `${UNKNOWN_KEY} (known: ${Object.keys(shape).join(", ")})`;
  return z.strictObject(shape, { error: (issue) => (issue.code === "unrecognized_keys" ? known : notObject) });
}

/** The unknown-key message for one key of a mapping, naming the known key it most likely meant. */
export function unknownKeyMessage(message: string, key: string): string {
  const known = KNOWN_LIST.exec(message)?.[1].split(", ") ?? [];
  const near = nearestKey(key, known);
  return near === undefined ? message : message.replace(UNKNOWN_KEY, `${UNKNOWN_KEY}: did you mean \`${near}\`?`);
}

/** All digits and dots can only mean IPv4 ("10.0.0.256" is no name), nor can a name ending in a number ("0x7f.0.0.1"). */
export function isHostAddress(value: string): boolean {
  if (DIGITS_AND_DOTS.test(value)) return parseIpv4(value) !== undefined;
  const labels = value.split(".");
  if (NUMERIC_LABEL.test(labels[labels.length - 1])) return false;
  return value.length <= DNS_NAME_MAX && labels.every((label) => DNS_LABEL.test(label));
}

const interfaceName = pattern(INTERFACE_NAME, MESSAGES.interfaceName);
const dockerName = pattern(DOCKER_NAME, MESSAGES.dockerName, "must be a string");
const filePath = text((value) => value !== "" && !/[\n\r\0]/.test(value), "must be a non-empty path without newline or NUL");
const ipv4 = (example: string) => text((value) => parseIpv4(value) !== undefined, `must be an IPv4 address like ${example}`);
const interfaceAddress = text(
  (value) => parseIpv4Prefix(value) !== undefined,
  "must be an address with its prefix length, like 192.168.22.10/24",
);
const sshHostKey = text(
  (value) => SSH_PUBLIC_KEY.test(value),
  'must be an OpenSSH public key line like "ssh-ed25519 AAAAC3Nza..." (the host\'s /etc/ssh/ssh_host_ed25519_key.pub)',
  "must be a string",
);
const vlanReference = integer(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, MESSAGES.vlanReference);

/** A Pulumi secret: the stack file holds `{ secure: ciphertext }`, never the value. */
function secretValue(key: string) {
  const secure = z.string({ error: MESSAGES.secret(key) }).min(1, { error: MESSAGES.secret(key) });
  return z.strictObject(
    { secure },
    { error: (issue) => (typeof issue.input === "string" ? MESSAGES.plaintextSecret(key) : MESSAGES.secret(key)) },
  );
}

export const vlanSchema = mapping({
  id: integer(1, 4094).meta({ description: "802.1Q VLAN id." }),
  network: dockerName.meta({ description: "Docker network name on every docker host." }),
  subnet: text((value) => parseIpv4Prefix(value) !== undefined, "must be an IPv4 prefix like 172.18.0.0/24").meta({
    description: "IPv4 subnet, written as its network address.",
  }),
  gateway: ipv4("172.18.0.1").meta({ description: "The router's address in the subnet." }),
  driver: orDefault(choice(["macvlan", "ipvlan"]), "macvlan", "Docker network driver: macvlan, or ipvlan (L2 mode; containers share the parent's MAC)."),
});

export const containerSchema = mapping({
  name: dockerName.meta({ description: "Docker container name, unique across all hosts." }),
  vlan: vlanReference.meta({ description: "Id of the VLAN the container joins." }),
  ip: ipv4("172.18.0.2").meta({ description: "Static address inside the VLAN's subnet." }),
  image: orDefault(
    text(
      (value) => value.length <= IMAGE_REFERENCE_MAX && IMAGE_REFERENCE.test(value),
      "must be an image reference like busybox:latest or registry.example:5000/team/app:1.0",
    ),
    "busybox:latest",
    "Image reference.",
  ),
  key: dockerName.optional().meta({ description: "Stable identity of the container on its host; defaults to its name." }),
});

export const hostSchema = mapping({
  name: pattern(HOST_NAME, "must be 1–32 characters of a-z 0-9 -, starting with a letter or digit", "must be a string").meta({
    description: "Host name, used in resource names.",
  }),
  address: text(isHostAddress, "must be an IPv4 address or a DNS name").meta({ description: "SSH (management) address." }),
  port: orDefault(integer(1, 65535), 22, "SSH port."),
  role: choice(["docker", "router"]).meta({ description: "docker runs containers; router joins the VLANs." }),
  trunkInterface: interfaceName.optional().meta({ description: "This host's trunk NIC, instead of the top-level one." }),
  vlanAddresses: orDefault(
    z.record(z.string(), interfaceAddress, { error: 'must be an object of vlan id to address, like { "10": 192.168.22.10/24 }' }),
    {},
    "VLAN id to the host's own address/prefix on that VLAN; the router's are the gateways.",
  ),
  containers: orDefault(
    z.array(containerSchema, { error: "must be a list of containers {name, vlan, ip, image}" }),
    [],
    "Containers on a docker host.",
  ),
  hostShim: orDefault(
    z.record(z.string(), ipv4("172.18.0.250"), { error: 'must be an object of vlan id to address, like { "10": 172.18.0.250 }' }),
    {},
    "VLAN id to the address of a macvlan shim through which this docker host reaches its own containers on that VLAN.",
  ),
  hostKey: sshHostKey.optional().meta({ description: "The host's SSH public key, pinned; default its entry in sshKnownHostsFile." }),
});

const routerSchema = mapping({
  masquerade: orDefault(boolean(), true, "NAT between VLANs; false forwards without NAT."),
});

/** A bastion every SSH connection goes through (ssh -J). */
const sshProxySchema = mapping({
  host: text(isHostAddress, "must be an IPv4 address or a DNS name").meta({ description: "The bastion's address." }),
  port: orDefault(integer(1, 65535), 22, "The bastion's SSH port."),
  user: pattern(SSH_USER, "must be a Linux user name: a-z or _, then up to 31 of a-z 0-9 _ -").optional().meta({
    description: "User on the bastion; default sshUser.",
  }),
  hostKey: sshHostKey.optional().meta({ description: "The bastion's SSH public key, pinned; default its entry in sshKnownHostsFile." }),
});

function nonEmptyList<T extends z.ZodType>(item: T, what: string) {
  const message = `must be a non-empty list of ${what}`;
  return z
    .array(item, { error: (issue) => (issue.input === undefined ? `is required: a non-empty list of ${what}` : message) })
    .min(1, { error: message });
}

/** Every top-level key, in the order messages list them. */
export const configFields = {
  trunkInterface: orDefault(interfaceName, "ens33", "The NIC that carries the VLANs on every host."),
  persistence: orDefault(choice(["network-scripts", "none"]), "network-scripts", "How host config survives a reboot."),
  sshUser: orDefault(pattern(SSH_USER, "must be a Linux user name: a-z or _, then up to 31 of a-z 0-9 _ -"), "root", "SSH user on every host."),
  sshPrivateKeyFile: filePath.optional().meta({ description: "Private key file, relative to the project folder." }),
  sshPrivateKey: secretValue("sshPrivateKey").optional().meta({ description: "The private key text, set as a secret.", secret: true }),
  sshKnownHostsFile: filePath.optional().meta({ description: "known_hosts file: pins each host's key for every SSH connection." }),
  sshProxy: sshProxySchema.optional().meta({ description: "A bastion every SSH connection goes through; default none." }),
  vlans: nonEmptyList(vlanSchema, "vlans {id, network, subnet, gateway}").meta({ description: "The VLANs." }),
  hosts: nonEmptyList(hostSchema, "hosts {name, address, role, ...}").meta({ description: "The hosts." }),
  router: routerSchema.optional().meta({ description: "Router settings; only with a router host." }),
  macvlanMode: orDefault(choice(["bridge", "private", "vepa", "passthru"]), "bridge", "Docker macvlan mode."),
  verify: orDefault(boolean(), true, "Run the connectivity check after the containers are up."),
  reapply: orDefault(integer(0, 2147483647), 0, "Change it to make every host command run its in-place update (the repair after drift)."),
  confirmWithinSeconds: orDefault(
    integer(0, 86400),
    600,
    "Seconds within which pulumi up must confirm an in-place update of a host's links, shims, promiscuous mode or router rules, or the host reverts it by itself; 0 turns this off.",
  ),
};

export const configSchema = mapping(configFields);

export type Config = z.output<typeof configSchema>;
export type VlanFields = z.output<typeof vlanSchema>;
export type HostFields = z.output<typeof hostSchema>;
export type ContainerFields = z.output<typeof containerSchema>;
