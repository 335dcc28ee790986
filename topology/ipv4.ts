// IPv4 arithmetic on unsigned 32-bit integers, and the strict text forms the stack config accepts.

/** An address and a prefix length: "192.168.22.10/24". The address need not be the network address. */
export interface Ipv4Prefix {
  readonly address: number;
  readonly prefix: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;
const PREFIX_LENGTH = /^(0|[1-9][0-9]?)$/;

/** "172.18.0.1" → 0xac120001; undefined unless exactly four decimal octets 0–255 without leading zeros or spaces. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** 0xac120001 → "172.18.0.1". */
export function formatIpv4(address: number): string {
  return [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join(".");
}

/** "24" → 24; undefined unless a decimal 0–32 without leading zeros. */
export function parsePrefixLength(text: string): number | undefined {
  if (!PREFIX_LENGTH.test(text)) return undefined;
  const prefix = Number(text);
  return prefix <= 32 ? prefix : undefined;
}

/** "192.168.22.10/24" → {address, prefix}; undefined unless both halves are strict. */
export function parseIpv4Prefix(text: string): Ipv4Prefix | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const address = parseIpv4(text.slice(0, slash));
  const prefix = parsePrefixLength(text.slice(slash + 1));
  return address === undefined || prefix === undefined ? undefined : { address, prefix };
}

/** {address, prefix} → "a.b.c.d/len". */
export function formatIpv4Prefix(block: Ipv4Prefix): string {
  return `${formatIpv4(block.address)}/${block.prefix}`;
}

export function netmask(prefix: number): number {
  // JavaScript shifts by (count mod 32), so a shift by 32 would keep every bit: /0 needs its own case.
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function networkOf(block: Ipv4Prefix): number {
  return (block.address & netmask(block.prefix)) >>> 0;
}

export function broadcastOf(block: Ipv4Prefix): number {
  return (block.address | ~netmask(block.prefix)) >>> 0;
}

/** True when `address` lies inside the prefix `block`. */
export function contains(block: Ipv4Prefix, address: number): boolean {
  return networkOf({ address, prefix: block.prefix }) === networkOf(block);
}

/** True when the two prefixes share at least one address. */
export function overlaps(a: Ipv4Prefix, b: Ipv4Prefix): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  return networkOf({ address: a.address, prefix }) === networkOf({ address: b.address, prefix });
}
