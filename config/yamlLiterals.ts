// Plain YAML scalars that the Pulumi CLI (go-yaml, YAML 1.1 numbers) and this project's YAML 1.2
// reader would read as different values: refused, so `validate` and `pulumi up` see one config.

import { isMap, isPair, isScalar, isSeq, type Document, type Node } from "yaml";
import { keyPath } from "../topology/problems";
import type { ConfigProblem } from "../topology/types";

const LEADING_ZERO = /^[-+]?0[0-9_]+$/;
const WITH_UNDERSCORE = /^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|0x[0-9A-Fa-f_]+|0b[01_]+)$/;
const BINARY = /^[-+]?0b[01_]+$/;

/** Why a plain scalar reads two ways, or undefined when it reads one way. */
export function ambiguousLiteral(source: string): string | undefined {
  if (LEADING_ZERO.test(source)) {
    return "a leading 0 makes it octal to the Pulumi CLI (YAML 1.1) and decimal to validate (YAML 1.2): drop the 0, or quote the text";
  }
  if (WITH_UNDERSCORE.test(source) && source.includes("_")) {
    return "the Pulumi CLI (YAML 1.1) reads digits with _ as a number, validate (YAML 1.2) as text: write the digits without _";
  }
  if (BINARY.test(source)) {
    return "the Pulumi CLI (YAML 1.1) reads 0b as a binary number, validate (YAML 1.2) as text: write it in decimal";
  }
  return undefined;
}

/**
 * Every ambiguous plain scalar, as a key or a value, under the config keys `pathOf` names
 * (it returns the key path for a config key, or undefined to skip that key).
 */
export function ambiguousLiterals(document: Document, pathOf: (configKey: string) => string | undefined): ConfigProblem[] {
  const config = document.get("config", true);
  if (!isMap(config)) return [];
  const problems: ConfigProblem[] = [];
  const visit = (path: string, node: unknown): void => {
    if (isScalar(node)) {
      const why = node.type === "PLAIN" && typeof node.source === "string" ? ambiguousLiteral(node.source) : undefined;
      if (why !== undefined) problems.push({ path, value: String(node.source), message: why });
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visit(keyPath(path, index), item));
    } else if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.source ?? pair.key.value) : String(pair.key);
        visit(keyPath(path, key), pair.key);
        visit(keyPath(path, key), pair.value);
      }
    }
  };
  for (const pair of config.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    const path = key === undefined ? undefined : pathOf(key);
    if (path !== undefined) visit(path, pair.value as Node);
  }
  return problems;
}
