// Problems found in the raw config, each naming its key path and the value as written; secrets never shown.

import type { ConfigProblem } from "./types";

// Longer values are cut in messages so one line stays one line.
const SHOWN_VALUE_MAX = 60;
const PRINTABLE_WITHOUT_SPACE = /^[\x21-\x7e]+$/;
const PLAIN_KEY = /^[A-Za-z0-9_:-]+$/;

export const SECRET_SHOWN = "(secret)";
/** How a value holding private key text is named in a message: not one character of it. */
export const PRIVATE_KEY_SHOWN = "(private key, not shown)";

// PEM ("-----BEGIN RSA PRIVATE KEY-----") and OpenSSH ("-----BEGIN OPENSSH PRIVATE KEY-----") armour.
const PRIVATE_KEY_ARMOUR = /-----BEGIN[\s\S]*PRIVATE KEY/;

/** True for text that holds a private key, wherever it was pasted. */
export function isPrivateKeyText(value: unknown): value is string {
  return typeof value === "string" && PRIVATE_KEY_ARMOUR.test(value);
}

/** A Pulumi secret as a stack file holds it: `{ secure: "v1:..." }`. */
export function isSecret(value: unknown): value is { readonly secure: string } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const secure = (value as Record<string, unknown>).secure;
  return keys.length === 1 && keys[0] === "secure" && typeof secure === "string" && secure !== "";
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isSecret(value);
}

/** Collects problems in the order found, keeps the same problem once, and remembers which keys failed. */
export class Findings {
  readonly problems: ConfigProblem[] = [];
  private readonly seen = new Set<string>();
  private readonly rejected = new Set<string>();

  add(path: string, value: unknown, message: string): void {
    this.addShown(path, renderValue(value), message);
  }

  /** For a value that must not appear as written (a secret). */
  addShown(path: string, shown: string, message: string): void {
    this.rejected.add(path);
    const key = JSON.stringify([path, shown, message]);
    // One trunk shared by many hosts would otherwise report the same overlong device once per host.
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.problems.push({ path, value: shown, message });
  }

  /** True when a problem was reported at this key: later rules leave the value alone. */
  isRejected(path: string): boolean {
    return this.rejected.has(path);
  }
}

/** `hosts[1].containers[0].ip` from its parts; keys that are not plain are quoted: `["ssh user"]`. */
export function keyPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (PLAIN_KEY.test(key)) return parent === "" ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** The value as the user wrote it, on one short line; a secret or a private key anywhere inside it is never shown. */
export function renderValue(value: unknown): string {
  if (value === undefined) return "";
  if (isSecret(value)) return SECRET_SHOWN;
  if (isPrivateKeyText(value)) return PRIVATE_KEY_SHOWN;
  if (typeof value === "string" && PRINTABLE_WITHOUT_SPACE.test(value)) return shorten(value);
  if (typeof value === "string" || typeof value === "object") {
    try {
      const hidden = (_key: string, inner: unknown) => (isSecret(inner) ? SECRET_SHOWN : isPrivateKeyText(inner) ? PRIVATE_KEY_SHOWN : inner);
      const text = JSON.stringify(value, hidden);
      return shorten(text ?? String(value));
    } catch {
      return shorten(String(value));
    }
  }
  return shorten(String(value));
}

function shorten(text: string): string {
  return text.length <= SHOWN_VALUE_MAX ? text : `${text.slice(0, SHOWN_VALUE_MAX - 1)}…`;
}

/** One line per problem: `hosts[1].containers[0].ip 172.18.0.1: is the gateway of vlan 10`. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems
    .map((problem) => (problem.value === "" ? `${problem.path}: ${problem.message}` : `${problem.path} ${problem.value}: ${problem.message}`))
    .join("\n");
}
