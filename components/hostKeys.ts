// Pins each host's SSH key for the remote commands: pulumi-command checks the server against
// `connection.hostKey` (one key, authorized_keys format) and accepts any key when it is unset.
// The key comes from a per-host `hostKey` or from the host's entry in an OpenSSH known_hosts file.
import { createHmac } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Topology } from "../topology";

/** Key types in the order we prefer them when a host has several entries. */
const KEY_PREFERENCE = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];

interface KnownHostsEntry {
  readonly marker?: "@revoked" | "@cert-authority";
  readonly hosts: string;
  readonly keyType: string;
  readonly key: string;
}

function parseEntries(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) {
      continue;
    }
    const fields = line.split(/\s+/);
    const marker = fields[0] === "@revoked" || fields[0] === "@cert-authority" ? fields.shift() : undefined;
    if (fields.length < 3) {
      continue;
    }
    entries.push({ marker: marker as KnownHostsEntry["marker"], hosts: fields[0], keyType: fields[1], key: fields[2] });
  }
  return entries;
}

/** The name ssh looks up: the bare address on port 22, `[address]:port` otherwise (ssh(8)). */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

function globMatches(pattern: string, name: string): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${regex}$`, "i").test(name);
}

/** Hashed names are `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` (HashKnownHosts in ssh_config(5)). */
function hashedMatches(field: string, name: string): boolean {
  const [, magic, salt, hash] = field.split("|");
  if (magic !== "1" || salt === undefined || hash === undefined) {
    return false;
  }
  return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
}

/** sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT": comma-separated patterns, `!` negates and wins. */
function hostsFieldMatches(field: string, name: string): boolean {
  if (field.startsWith("|")) {
    return hashedMatches(field, name);
  }
  let matched = false;
  for (const pattern of field.split(",")) {
    if (pattern.startsWith("!")) {
      if (globMatches(pattern.slice(1), name)) {
        return false;
      }
    } else if (globMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/**
 * The host's key from known_hosts text, as `"<type> <base64>"`, preferring ed25519; throws naming
 * the file and host when there is none or when the matching key is marked @revoked.
 */
export function hostKeyFromKnownHosts(text: string, file: string, address: string, port: number): string {
  const name = knownHostsName(address, port);
  const matching = parseEntries(text).filter((entry) => hostsFieldMatches(entry.hosts, name));
  const revoked = new Set(matching.filter((entry) => entry.marker === "@revoked").map((entry) => entry.key));
  const usable = matching.filter((entry) => entry.marker === undefined && !revoked.has(entry.key));
  if (usable.length === 0) {
    const why = revoked.size > 0 ? "its only keys are marked @revoked" : "no entry for it";
    throw new Error(
      `sshKnownHostsFile ${file}: host ${name}: ${why} (add one with: ssh-keyscan -p ${port} -t ed25519 ${address} >> ${file})`,
    );
  }
  const rank = (entry: KnownHostsEntry): number => {
    const index = KEY_PREFERENCE.indexOf(entry.keyType);
    return index === -1 ? KEY_PREFERENCE.length : index;
  };
  const best = [...usable].sort((a, b) => rank(a) - rank(b))[0];
  return `${best.keyType} ${best.key}`;
}

/** The key part of an OpenSSH public key line, without its comment: `"<type> <base64>"`. */
export function publicKeyOnly(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(" ");
}

/** Every SSH server's pinned key, as the remote commands check it. */
export interface PinnedHostKeys {
  /** By host name. */
  readonly hosts: ReadonlyMap<string, string>;
  /** The bastion's, when there is one. */
  readonly proxy?: string;
}

/**
 * Each host's key from its own `hostKey`, else from the known_hosts file (read once, now, at program
 * time: a missing entry stops the program before any resource is registered).
 */
export function pinnedHostKeys(topology: Topology, baseDir: string): PinnedHostKeys {
  const file = topology.ssh.knownHostsFile;
  let text: string | undefined;
  const fromFile = (address: string, port: number, owner: string): string => {
    if (file === undefined) {
      // Validation requires a hostKey wherever the file is not set.
      throw new Error(`${owner}: no hostKey and no sshKnownHostsFile to pin its SSH key`);
    }
    if (text === undefined) {
      const resolved = path.resolve(baseDir, file);
      try {
        text = fs.readFileSync(resolved, "utf8");
      } catch (error) {
        throw new Error(`sshKnownHostsFile ${file}: cannot read ${resolved}: ${(error as Error).message}`);
      }
    }
    return hostKeyFromKnownHosts(text, file, address, port);
  };
  const hosts = new Map(
    topology.hosts.map((host) => [host.name, host.hostKey !== undefined ? publicKeyOnly(host.hostKey) : fromFile(host.address, host.port, host.name)]),
  );
  const proxy = topology.ssh.proxy;
  if (proxy === undefined) {
    return { hosts };
  }
  return { hosts, proxy: proxy.hostKey !== undefined ? publicKeyOnly(proxy.hostKey) : fromFile(proxy.host, proxy.port, "sshProxy") };
}
