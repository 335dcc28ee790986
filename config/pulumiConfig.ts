// Reads this project's keys from the running Pulumi program's config into the raw form the
// topology parser takes; the SSH key text stays an Output secret and never enters the topology.
import * as pulumi from "@pulumi/pulumi";

import { PROJECT } from "./project";

export { PROJECT };

/** Keys whose values Pulumi hands over as JSON text (objects, lists, booleans). */
const JSON_KEYS = new Set(["vlans", "hosts", "router", "verify"]);

export interface ProgramConfig {
  raw: Record<string, unknown>;
  /** Present when the key comes from the secret `sshPrivateKey`. */
  privateKeySecret?: pulumi.Output<string>;
}

export function readProgramConfig(): ProgramConfig {
  const raw: Record<string, unknown> = {};
  const prefix = `${PROJECT}:`;
  for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) {
      continue;
    }
    const key = fullKey.slice(prefix.length);
    raw[key] = JSON_KEYS.has(key) ? parseJsonOrKeep(text) : text;
  }

  let privateKeySecret: pulumi.Output<string> | undefined;
  if ("sshPrivateKey" in raw) {
    // The parser only needs to know it is there; the value itself stays an Output secret.
    raw.sshPrivateKey = { secure: "[secret]" };
    privateKeySecret = new pulumi.Config(PROJECT).requireSecret("sshPrivateKey");
  }
  return { raw, privateKeySecret };
}

function parseJsonOrKeep(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
