// Private key text pasted into the stack config, under any key: named by its key path with the
// way to set it as a secret, and never shown, not even in part.

import { type Findings, isMapping, keyPath, isPrivateKeyText, PRIVATE_KEY_SHOWN } from "./problems";

const AS_SECRET = "set it as a secret: pulumi config set --secret sshPrivateKey < key";

/** Reports every place the raw config holds private key text; returns their key paths. */
export function reportPastedKeys(raw: unknown, findings: Findings): string[] {
  const found: string[] = [];
  const visit = (path: string, value: unknown): void => {
    if (isPrivateKeyText(value)) {
      found.push(path);
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => visit(keyPath(path, index), item));
    } else if (isMapping(value)) {
      for (const [key, inner] of Object.entries(value)) visit(keyPath(path, key), inner);
    }
  };
  if (!isMapping(raw)) return found;
  for (const [key, value] of Object.entries(raw)) {
    // sshPrivateKey is where the key belongs: the schema asks for it as a secret already.
    if (key !== "sshPrivateKey") visit(keyPath("", key), value);
  }
  for (const path of found) {
    const message =
      path === "sshPrivateKeyFile"
        ? `holds a private key, not a path to one: ${AS_SECRET} (and remove sshPrivateKeyFile), or write the key file's path here`
        : `holds a private key, which never belongs in the stack file as text: ${AS_SECRET}, and remove it from here`;
    findings.addShown(path, PRIVATE_KEY_SHOWN, message);
  }
  return found;
}

/** True when `path` is one of `paths` or lies under one of them. */
export function isUnder(path: string, paths: readonly string[]): boolean {
  return paths.some((parent) => path === parent || path.startsWith(`${parent}.`) || path.startsWith(`${parent}[`));
}
