// SSH credentials: the key comes from exactly one place.

import { SECRET_SHOWN } from "../problems";
import type { Rule } from "./rule";

export const oneKeySource: Rule = (config, findings) => {
  const file = config.raw.sshPrivateKeyFile;
  const secret = config.raw.sshPrivateKey;
  if (file === undefined && secret === undefined) {
    findings.add("sshPrivateKeyFile", undefined, "is required, or else the secret sshPrivateKey");
  }
  if (file !== undefined && secret !== undefined) {
    // Whatever its shape, the key may hold key material: it is never echoed.
    const shown = config.settings.sshPrivateKey !== undefined ? SECRET_SHOWN : typeof secret === "string" ? "(plaintext, not shown)" : "(not shown)";
    findings.addShown("sshPrivateKey", shown, "conflicts with sshPrivateKeyFile: set only one of them");
  }
};
