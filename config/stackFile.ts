// Reads a Pulumi.<stack>.yaml into the raw config parseTopology takes, for checks outside `pulumi up`.

import * as fs from "fs";
import { parseDocument, type Document } from "yaml";
import type { ConfigProblem } from "../topology/types";

// Also declared in config/pulumiConfig.ts; not imported from there, which would load @pulumi/pulumi into the CLI.
import { PROJECT } from "./project";
import { ambiguousLiterals } from "./yamlLiterals";

// Keys of providers the stack may configure; they are not ours to validate.
const PROVIDER_NAMESPACES = ["docker", "command", "random", "pulumi"];

export interface StackConfig {
  readonly project: string;
  /** Project keys without the `macvlan-overlay:` prefix; keys of other projects under their full name. */
  readonly raw: Record<string, unknown>;
  /** Numbers written so that the Pulumi CLI and a YAML 1.2 reader read them differently, by key path. */
  readonly literalProblems: readonly ConfigProblem[];
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

/** The key path a config key has in problems (`hosts`, `otherproj:foo`), or undefined for a provider's key. */
export function configKeyPath(key: string): string | undefined {
  const colon = key.indexOf(":");
  const namespace = colon < 0 ? PROJECT : key.slice(0, colon);
  if (namespace === PROJECT) return colon < 0 ? key : key.slice(colon + 1);
  // Another project's key stays under its full name, so the validation names it as unknown.
  return PROVIDER_NAMESPACES.includes(namespace) ? undefined : key;
}

export function readStackConfig(path: string): StackConfig {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (error) {
    throw new StackFileError(path, "unreadable", `cannot read: ${(error as Error).message}`);
  }

  const document: Document = parseDocument(text);
  if (document.errors.length > 0) throw new StackFileError(path, "invalid", `not valid YAML: ${document.errors[0].message}`);
  const contents: unknown = document.toJS();
  const empty = { project: PROJECT, raw: {}, literalProblems: [] };
  if (contents === null || contents === undefined) return empty;
  if (!isMapping(contents)) throw new StackFileError(path, "invalid", "must be a YAML mapping with a config: key");

  const config = contents.config;
  if (config === undefined || config === null) return empty;
  if (!isMapping(config)) throw new StackFileError(path, "invalid", "config: must be a mapping of keys to values");

  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const keyPath = configKeyPath(key);
    if (keyPath !== undefined) raw[keyPath] = value;
  }
  return { project: PROJECT, raw, literalProblems: ambiguousLiterals(document, configKeyPath) };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
