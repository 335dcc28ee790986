// Reads this project's keys from the running Pulumi program's config into the raw form the
// topology parser takes; every secret value is replaced before validation, so no message shows it.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parseDocument } from "yaml";

import type { ConfigProblem } from "../topology/types";
import { PROJECT } from "./project";
import { configKeyPath } from "./stackFile";
import { stackConfigDir } from "./stackLocation";
import { ambiguousLiterals } from "./yamlLiterals";

export { PROJECT };

/** What the parser sees in place of a secret value: the shape of a secret, not its text. */
const SECRET_PLACEHOLDER = { secure: "[secret]" };

export interface ProgramConfig {
  raw: Record<string, unknown>;
  /** Numbers the stack file writes so that the Pulumi CLI and `validate` read them differently. */
  literalProblems: readonly ConfigProblem[];
  /** Present when the key comes from the secret `sshPrivateKey`. */
  privateKeySecret?: pulumi.Output<string>;
}

/** This project's keys as the parser takes them; config/preflight.ts checks them. */
export function readProgramConfig(): ProgramConfig {
  const raw: Record<string, unknown> = {};
  const prefix = `${PROJECT}:`;
  const isSecret = secretKeyTest();
  for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    // Whatever the key's name, even a misspelt one, its secret value never reaches a message.
    raw[key] = isSecret(fullKey) ? SECRET_PLACEHOLDER : structuredOrText(text);
  }

  let privateKeySecret: pulumi.Output<string> | undefined;
  // A plaintext sshPrivateKey stays text, so the validation refuses it as `validate` does (never showing it).
  if (raw.sshPrivateKey === SECRET_PLACEHOLDER) {
    // The parser only needs to know it is there; the value itself stays an Output secret.
    privateKeySecret = new pulumi.Config(PROJECT).requireSecret("sshPrivateKey");
  }
  return { raw, literalProblems: stackFileLiterals(), privateKeySecret };
}

/**
 * The CLI hands the program JSON, already read by go-yaml; only the stack file itself shows how a
 * number was written. Without the file (config from elsewhere) there is nothing to compare.
 */
function stackFileLiterals(): ConfigProblem[] {
  const name = `Pulumi.${pulumi.getStack()}.yaml`;
  // The project folder is the root directory Pulumi reports; under test mocks that is a placeholder,
  // and the program's working folder is the project folder.
  const folders = [pulumi.runtime.getRootDirectory(), process.cwd()].filter((folder) => folder !== "");
  for (const folder of folders) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(folder, stackConfigDir(path.join(folder, "Pulumi.yaml")), name), "utf8");
    } catch {
      continue;
    }
    const document = parseDocument(text);
    return document.errors.length > 0 ? [] : ambiguousLiterals(document, configKeyPath);
  }
  return [];
}

/** Which full keys hold secrets: the SDK knows, but exports the test only at runtime. */
function secretKeyTest(): (fullKey: string) => boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  if (typeof runtime.isConfigSecret === "function") return runtime.isConfigSecret;
  // The engine passes the same list in this variable.
  const listed: unknown = JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS ?? "[]");
  return (key) => Array.isArray(listed) && listed.includes(key);
}

/** Pulumi hands over objects and lists as JSON text, everything else as the text itself ("10", "true"). */
function structuredOrText(text: string): unknown {
  if (!text.startsWith("{") && !text.startsWith("[")) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
