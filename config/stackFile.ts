// Reads a Pulumi.<stack>.yaml into the raw config parseTopology takes, for checks outside `pulumi up`.

import * as fs from "fs";
import { parse as parseYaml } from "yaml";

// Also declared in config/pulumiConfig.ts; not imported from there, which would load @pulumi/pulumi into the CLI.
import { PROJECT } from "./project";

// Keys of providers the stack may configure; they are not ours to validate.
const PROVIDER_NAMESPACES = ["docker", "command", "random", "pulumi"];

export interface StackConfig {
  readonly project: string;
  /** Project keys without the `macvlan-overlay:` prefix; keys of other projects under their full name. */
  readonly raw: Record<string, unknown>;
}

/** Why a stack file gave no config: it could not be read at all, or it is not a stack file. */
export class StackFileError extends Error {
  constructor(
    readonly path: string,
    readonly reason: "unreadable" | "invalid",
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = "StackFileError";
  }
}

export function readStackConfig(path: string): StackConfig {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (error) {
    throw new StackFileError(path, "unreadable", `cannot read: ${(error as Error).message}`);
  }

  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new StackFileError(path, "invalid", `not valid YAML: ${(error as Error).message}`);
  }
  if (document === null || document === undefined) return { project: PROJECT, raw: {} };
  if (!isMapping(document)) throw new StackFileError(path, "invalid", "must be a YAML mapping with a config: key");

  const config = document.config;
  if (config === undefined || config === null) return { project: PROJECT, raw: {} };
  if (!isMapping(config)) throw new StackFileError(path, "invalid", "config: must be a mapping of keys to values");

  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const colon = key.indexOf(":");
    const namespace = colon < 0 ? PROJECT : key.slice(0, colon);
    if (namespace === PROJECT) raw[colon < 0 ? key : key.slice(colon + 1)] = value;
    // Another project's key stays under its full name, so the validation names it as unknown.
    else if (!PROVIDER_NAMESPACES.includes(namespace)) raw[key] = value;
  }
  return { project: PROJECT, raw };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
