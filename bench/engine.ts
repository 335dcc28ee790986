// The Docker Engine `npm run bench:check` runs: the lab's Docker 26, fetched by lab/fetch-engine.sh
// into the project's .lab/cache as `npm run lab:up` does (Debian 13's dockerd 26 and containerd 1.7,
// Debian 12's runc, the Docker 26 CLI), never installed on the machine. Kept there like the lab's.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { BenchSetupError, INSTALL_DEPS, type Remedy, type Tool } from "./tools";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");
/** lab.sh's CACHE_DIR ($PROJECT_DIR/.lab/cache), which `lab:down` keeps. */
export const ENGINE_CACHE = path.join(PROJECT_DIR, ".lab", "cache");
export const FETCH_ENGINE = path.join(PROJECT_DIR, "lab", "fetch-engine.sh");

export interface Engine {
  /** <cache>/engine/root: the packages' files, unpacked. */
  root: string;
  dockerd: string;
  containerd: string;
  shim: string;
  runc: string;
  /** The Docker 26 CLI. */
  docker: string;
  /** <cache>/engine/VERSIONS: "package version" lines. */
  versions: string;
  /** PATH for dockerd and containerd: the engine's sbin first (Debian 12's runc), then bin. */
  binPath: string;
}

export function engineAt(cacheDir: string): Engine {
  const root = path.join(cacheDir, "engine", "root");
  return {
    root,
    dockerd: path.join(root, "usr/sbin/dockerd"),
    containerd: path.join(root, "usr/bin/containerd"),
    shim: path.join(root, "usr/bin/containerd-shim-runc-v2"),
    runc: path.join(root, "usr/sbin/runc"),
    docker: path.join(root, "usr/bin/docker"),
    versions: path.join(cacheDir, "engine", "VERSIONS"),
    binPath: `${path.join(root, "usr/sbin")}:${path.join(root, "usr/bin")}`,
  };
}

/** What lab/fetch-engine.sh checks before it fetches anything (it exits at once when these are there). */
export function engineFetched(engine: Engine, exists: (file: string) => boolean = fs.existsSync): boolean {
  return exists(engine.dockerd) && exists(engine.runc) && exists(engine.versions);
}

/** What lab/fetch-engine.sh needs to fetch the engine (apt-get and dpkg-deb are on every Debian machine). */
export const FETCH_TOOLS: readonly Tool[] = [
  { command: "apt-get", debianPackage: "apt", remedy: INSTALL_DEPS },
  { command: "dpkg-deb", debianPackage: "dpkg", remedy: INSTALL_DEPS },
  { command: "/usr/share/keyrings/debian-archive-keyring.gpg", readable: true, debianPackage: "debian-archive-keyring", remedy: INSTALL_DEPS },
];

/** The engine's programs the benchmark runs; shown relative to the project, with how to fetch them again. */
export function engineTools(engine: Engine, projectDir = PROJECT_DIR, cacheDir = ENGINE_CACHE): Tool[] {
  const relative = (file: string) => path.relative(projectDir, file);
  const remedy: Remedy = {
    run: `rm -rf ${relative(path.join(cacheDir, "engine"))} && sh lab/fetch-engine.sh ${relative(cacheDir)}`,
    verb: "fetches",
  };
  return [engine.dockerd, engine.containerd, engine.shim, engine.runc, engine.docker].map((command) => ({
    command,
    name: relative(command),
    remedy,
  }));
}

/** "docker.io 26.1.5+dfsg1-9+deb13u1+b1, containerd 1.7.24~ds1-6+deb13u1, …" from VERSIONS. */
export function engineVersions(versionsText: string): string {
  return versionsText
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .join(", ");
}

/** Fetches the engine into `cacheDir` when it is not there yet, as lab.sh does; a failure is a BenchSetupError. */
export function ensureEngine(cacheDir: string, log: (line: string) => void): Engine {
  const engine = engineAt(cacheDir);
  if (engineFetched(engine)) {
    return engine;
  }
  log(`fetching Docker Engine 26 into ${path.relative(PROJECT_DIR, cacheDir) || cacheDir} (sh lab/fetch-engine.sh, a Debian mirror; once)`);
  const result = spawnSync("sh", [FETCH_ENGINE, cacheDir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (result.status !== 0) {
    throw new BenchSetupError(
      `cannot fetch Docker Engine 26 (sh lab/fetch-engine.sh ${cacheDir}: exit ${result.status ?? result.signal}; set LAB_DEBIAN_MIRROR for another mirror):\n${(result.stderr ?? "").slice(-1500)}`,
    );
  }
  return engine;
}
