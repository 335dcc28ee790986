// Checks the raw config against the schema: every shape problem by key path, and the parts that
// passed (each vlan, host and container on its own) for the rules to look at.

import { z } from "zod";
import { Findings, isMapping, isSecret, keyPath, renderValue, SECRET_SHOWN } from "./problems";
import {
  configFields,
  configSchema,
  containerSchema,
  DEFINED_VLANS,
  hostSchema,
  vlanSchema,
  type Config,
  type ContainerFields,
  type HostFields,
  type VlanFields,
  unknownKeyMessage,
} from "./schema";

const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** A value that passed the schema, where it came from, and the raw mapping as written. */
export interface Entry<T> {
  readonly path: string;
  readonly value: T;
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface ShapedHost extends Entry<Omit<HostFields, "containers">> {
  /** The containers that passed, with their index in the list. */
  readonly containers: readonly Entry<ContainerFields>[];
  /** The trunk in effect and the key that set it, for messages about device names; absent when invalid. */
  readonly trunk?: { readonly name: string; readonly path: string };
}

export type Settings = Omit<Config, "vlans" | "hosts">;

/** The config as far as it passed the schema. */
export interface ShapedConfig {
  /** The top-level mapping as written. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** Each top-level setting that passed, defaults applied. */
  readonly settings: Partial<Settings>;
  readonly vlans: readonly Entry<VlanFields>[];
  /** Every vlan id that reads as an integer, even from a vlan that failed: references to it are not unknown. */
  readonly vlanIds: ReadonlySet<number>;
  /** False when some vlan's id could not be read: a reference to an unknown id may mean that one. */
  readonly vlanIdsComplete: boolean;
  readonly hosts: readonly ShapedHost[];
  /** True when every host passed, so rules about the set of hosts (roles) may speak. */
  readonly hostsComplete: boolean;
  /** The containers that passed on hosts that did not: checked on their own and against the others. */
  readonly strayContainers: readonly Entry<ContainerFields>[];
}

/** Every top-level key: its schema problems go to `findings`; returns what passed, or nothing if the config is no mapping. */
export function shapeConfig(raw: unknown, findings: Findings): ShapedConfig | undefined {
  if (!isMapping(raw)) {
    findings.add("config", raw, "must be an object");
    return undefined;
  }
  const vlanEntries = Array.isArray(raw.vlans) ? raw.vlans : [];
  const readableIds = vlanEntries.map((entry) => (isMapping(entry) ? toInteger(entry.id) : undefined));
  const vlanIds = new Set(readableIds.filter((id): id is number => id !== undefined));

  const result = configSchema.safeParse(raw);
  if (!result.success) reportIssues(findings, raw, result.error.issues, definedIds(vlanIds));

  const hostEntries = Array.isArray(raw.hosts) ? raw.hosts : [];
  const settings = result.success ? result.data : shapeSettings(raw);
  const trunk = settings.trunkInterface === undefined ? undefined : { name: settings.trunkInterface, path: "trunkInterface" };
  // A config that passed whole needs no second look at each part.
  const vlans = result.success
    ? result.data.vlans.map((value, index) => ({ path: `vlans[${index}]`, value, raw: vlanEntries[index] as Record<string, unknown> }))
    : vlanEntries.flatMap((entry, index) => passed(vlanSchema, `vlans[${index}]`, entry));
  const hosts = result.success
    ? result.data.hosts.map((value, index) => shapedHost(`hosts[${index}]`, value, hostEntries[index] as Record<string, unknown>, trunk))
    : hostEntries.flatMap((entry, index) => shapeHost(`hosts[${index}]`, entry, trunk));

  return {
    raw,
    settings,
    vlans,
    vlanIds,
    vlanIdsComplete: vlanEntries.length > 0 && readableIds.every((id) => id !== undefined),
    hosts,
    hostsComplete: hostEntries.length > 0 && hosts.length === hostEntries.length,
    strayContainers: result.success ? [] : hostEntries.flatMap((entry, index) => strayContainers(`hosts[${index}]`, entry)),
  };
}

/** Each top-level setting that passes on its own, defaults applied. */
function shapeSettings(raw: Record<string, unknown>): Partial<Settings> {
  const settings: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(configFields)) {
    if (key === "vlans" || key === "hosts") continue;
    const field = (schema as z.ZodType).safeParse(raw[key]);
    if (field.success && field.data !== undefined) settings[key] = field.data;
  }
  return settings as Partial<Settings>;
}

// The host alone: its containers are shaped one by one, so one bad container keeps its host.
const hostAlone = hostSchema.extend({ containers: z.unknown().optional() });

function shapeHost(path: string, entry: unknown, defaultTrunk: ShapedHost["trunk"]): ShapedHost[] {
  const host = passed(hostAlone, path, entry)[0];
  if (host === undefined) return [];
  return [shapedHost(path, { ...host.value, containers: [] }, host.raw, defaultTrunk, shapeContainers(path, host.raw))];
}

function shapeContainers(hostPath: string, host: Record<string, unknown>): Entry<ContainerFields>[] {
  const listed = Array.isArray(host.containers) ? host.containers : [];
  return listed.flatMap((container, index) => passed(containerSchema, `${hostPath}.containers[${index}]`, container));
}

function strayContainers(hostPath: string, entry: unknown): Entry<ContainerFields>[] {
  return isMapping(entry) && !hostAlone.safeParse(entry).success ? shapeContainers(hostPath, entry) : [];
}

function shapedHost(
  path: string,
  value: HostFields,
  raw: Record<string, unknown>,
  defaultTrunk: ShapedHost["trunk"],
  shapedContainers?: Entry<ContainerFields>[],
): ShapedHost {
  const { containers, ...fields } = value;
  const rawContainers = (Array.isArray(raw.containers) ? raw.containers : []) as Record<string, unknown>[];
  return {
    path,
    raw,
    value: fields,
    containers:
      shapedContainers ?? containers.map((container, index) => ({ path: `${path}.containers[${index}]`, value: container, raw: rawContainers[index] })),
    trunk: fields.trunkInterface === undefined ? defaultTrunk : { name: fields.trunkInterface, path: `${path}.trunkInterface` },
  };
}

function passed<T extends z.ZodType>(schema: T, path: string, entry: unknown): Entry<z.output<T>>[] {
  const result = schema.safeParse(entry);
  return result.success && isMapping(entry) ? [{ path, value: result.data, raw: entry }] : [];
}

function reportIssues(findings: Findings, raw: Record<string, unknown>, issues: readonly z.core.$ZodIssue[], vlans: string): void {
  // Each problem as [path, value as shown, message].
  const unknownKeys: [string, string, string][] = [];
  const others: [string, string, string][] = [];
  for (const issue of issues) {
    const path = issue.path.filter((part): part is string | number => typeof part !== "symbol");
    const message = issue.message.replace(DEFINED_VLANS, vlans);
    if (issue.code === "unrecognized_keys") {
      const parent = valueAt(raw, path) as Record<string, unknown>;
      const parentPath = path.length === 0 ? "" : pathText(path);
      for (const key of issue.keys) unknownKeys.push([keyPath(parentPath, key), renderValue(parent[key]), unknownKeyMessage(message, key)]);
    } else if (isSecretKey(raw, path)) {
      // A secret is named by its key and never shown, whatever inside it is wrong.
      others.push([pathText(path.slice(0, 1)), shownSecret(raw[path[0]]), message]);
    } else {
      const value = valueAt(raw, path);
      const required = value === undefined && !message.startsWith("is required");
      others.push([pathText(path), renderValue(value), required ? "is required" : message]);
    }
  }
  // Unknown keys first: they often explain the other problems (a misspelt key is also a missing one).
  for (const [path, shown, message] of [...unknownKeys, ...others]) findings.addShown(path, shown, message);
}

/** How a secret key's value is named in a message: never its text. */
function shownSecret(value: unknown): string {
  if (isSecret(value)) return SECRET_SHOWN;
  return typeof value === "string" ? "(plaintext, not shown)" : "(not shown)";
}

/** True when the path lies under a top-level key declared secret, or one whose value is a secret. */
function isSecretKey(raw: Record<string, unknown>, path: readonly (string | number)[]): boolean {
  const top = path[0];
  if (typeof top !== "string") return false;
  const schema = Object.hasOwn(configFields, top) ? (configFields[top as keyof typeof configFields] as z.ZodType) : undefined;
  return schema?.meta()?.secret === true || isSecret(raw[top]);
}

function valueAt(raw: unknown, path: readonly (string | number)[]): unknown {
  let value = raw;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

function pathText(path: readonly (string | number)[]): string {
  return path.length === 0 ? "config" : path.reduce<string>((text, part) => keyPath(text, part), "");
}

/** Integers as YAML gives them, or as the decimal strings Pulumi's config gives ("10"). */
export function toInteger(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value !== "string" || !DECIMAL_INTEGER.test(value)) return undefined;
  const integer = Number(value);
  return Number.isSafeInteger(integer) ? integer : undefined;
}

/** "defined: 10, 20", or "none defined". */
export function definedIds(ids: ReadonlySet<number>): string {
  const sorted = [...ids].sort((a, b) => a - b);
  return sorted.length === 0 ? "none defined" : `defined: ${sorted.join(", ")}`;
}
