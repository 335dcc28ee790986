// Reads a Pulumi.<stack>.yaml into the raw config parseTopology takes, for checks outside `pulumi up`.

import * as fs from "fs";
import { parseDocument, type Document, type YAMLError } from "yaml";
import { isPrivateKeyText } from "../topology/problems";
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
  /** The Pulumi ESC environments the stack file imports (`environment:`); their values are not in the file. */
  readonly environments: readonly string[];
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
  if (document.errors.length > 0) throw new StackFileError(path, "invalid", `not valid YAML: ${yamlErrorText(document.errors[0], text)}`);
  const contents: unknown = document.toJS();
  const empty = { project: PROJECT, raw: {}, literalProblems: [], environments: [] };
  if (contents === null || contents === undefined) return empty;
  if (!isMapping(contents)) throw new StackFileError(path, "invalid", "must be a YAML mapping with a config: key");
  const environments = importedEnvironments(contents.environment);

  const config = contents.config;
  if (config === undefined || config === null) return { ...empty, environments };
  if (!isMapping(config)) throw new StackFileError(path, "invalid", "config: must be a mapping of keys to values");

  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const keyPath = configKeyPath(key);
    if (keyPath !== undefined) raw[keyPath] = value;
  }
  return { project: PROJECT, raw, literalProblems: ambiguousLiterals(document, configKeyPath), environments };
}

/** The ESC environments named by `environment:`: a list of names, one name, or `{ imports: [...] }`. */
function importedEnvironments(value: unknown): string[] {
  const listed = isMapping(value) ? value.imports : value;
  const names = Array.isArray(listed) ? listed : listed === undefined || listed === null ? [] : [listed];
  return names.map((name) => (typeof name === "string" ? name : JSON.stringify(name)));
}

/**
 * The parser's message, which quotes the lines around the error: when the file holds a private key
 * anywhere, only where the error is, so not a character of the key is repeated.
 */
function yamlErrorText(error: YAMLError, text: string): string {
  if (!isPrivateKeyText(text)) return error.message;
  const at = error.linePos?.[0];
  const where = at === undefined ? "" : ` at line ${at.line}, column ${at.col}`;
  return `${error.code}${where} (the file holds a private key: the lines around the error are not shown)`;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
