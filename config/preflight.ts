// Every check the program makes before it registers a resource, in one place, so `pulumi up` and
// `npm run validate` give one verdict: the config's shape and meaning, then the key file and each
// host's pinned SSH key (read with components/hostKeys.ts, the code the program pins them with).
// No Pulumi import: the validate command runs this without loading the SDK.

import * as fs from "fs";
import * as path from "path";
import { type PinnedHostKeys, pinnedHostKeys } from "../components/hostKeys";
import { formatProblems, parseTopology, type ConfigProblem, type Topology } from "../topology";

export type ConfigCheck = { readonly ok: true; readonly topology: Topology } | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** What the program reads from files before its first resource. */
export interface HostAccess {
  /** The key file's text; absent when the key comes from the secret sshPrivateKey. */
  readonly privateKeyText?: string;
  readonly hostKeys: PinnedHostKeys;
}

export type FileCheck = ({ readonly ok: true } & HostAccess) | { readonly ok: false; readonly errors: readonly string[] };

/** The raw config checked: numbers the CLI reads differently first (they may explain the rest), then the topology. */
export function checkConfig(raw: unknown, literalProblems: readonly ConfigProblem[]): ConfigCheck {
  const parsed = parseTopology(raw);
  const problems = [...literalProblems, ...(parsed.ok ? [] : parsed.problems)];
  if (!parsed.ok || problems.length > 0) return { ok: false, problems };
  return { ok: true, topology: parsed.topology };
}

/**
 * The key file read, and every SSH server's key pinned (`baseDir`: the project folder, where
 * relative paths resolve). Each host without a key is named, not only the first.
 */
export function checkFiles(topology: Topology, baseDir: string): FileCheck {
  const errors: string[] = [];
  let privateKeyText: string | undefined;
  if (!topology.ssh.privateKeyFromConfig) {
    const file = topology.ssh.privateKeyFile;
    if (file === undefined) throw new Error("checkFiles: no sshPrivateKeyFile and no sshPrivateKey although the config passed");
    const resolved = path.resolve(baseDir, file);
    try {
      privateKeyText = fs.readFileSync(resolved, "utf8");
    } catch (error) {
      errors.push(`sshPrivateKeyFile ${file}: cannot read ${resolved}: ${(error as Error).message}`);
    }
  }
  const pinned = attempt(() => pinnedHostKeys(topology, baseDir));
  if (typeof pinned === "string") errors.push(...eachUnpinned(topology, baseDir));
  if (errors.length > 0 || typeof pinned === "string") return { ok: false, errors };
  return { ok: true, hostKeys: pinned, ...(privateKeyText === undefined ? {} : { privateKeyText }) };
}

/** One message per SSH server without a key (the bastion last), or the one reason none can be read. */
function eachUnpinned(topology: Topology, baseDir: string): string[] {
  const alone = [
    ...topology.hosts.map((host) => ({ ...topology, hosts: [host], ssh: { ...topology.ssh, proxy: undefined } })),
    ...(topology.ssh.proxy === undefined ? [] : [{ ...topology, hosts: [] }]),
  ];
  const messages = alone.map((part) => attempt(() => pinnedHostKeys(part, baseDir))).filter((result): result is string => typeof result === "string");
  return [...new Set(messages)];
}

function attempt<T>(read: () => T): T | string {
  try {
    return read();
  } catch (error) {
    return (error as Error).message;
  }
}

/** Things that are allowed but probably not meant, one line each. */
export function configWarnings(topology: Topology): string[] {
  return topology.hosts.flatMap((host, index) =>
    host.role === "docker" && host.containers.length === 0
      ? [`hosts[${index}] ${host.name}: a docker host with nothing on it (no containers): it gets only its VLAN links and networks`]
      : [],
  );
}

/** What the program needs to register its resources; throws, with the message `pulumi up` shows, at the first failed step. */
export function preflight(raw: unknown, literalProblems: readonly ConfigProblem[], baseDir: string): { topology: Topology; warnings: string[] } & HostAccess {
  const config = checkConfig(raw, literalProblems);
  if (!config.ok) throw new Error(`invalid stack configuration:\n${formatProblems(config.problems)}`);
  const files = checkFiles(config.topology, baseDir);
  if (!files.ok) throw new Error(files.errors.join("\n"));
  const { ok: _ok, ...access } = files;
  return { topology: config.topology, warnings: configWarnings(config.topology), ...access };
}
