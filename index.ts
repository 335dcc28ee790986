// Wiring only: stack config → validated topology → components → stack outputs.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { Overlay } from "./components";
import { pinnedHostKeys } from "./components/hostKeys";
import { readProgramConfig } from "./config/pulumiConfig";
import { renderMermaid } from "./diagram";
import { formatProblems, parseTopology } from "./topology";

const baseDir = process.cwd();
const config = readProgramConfig();
const parsed = parseTopology(config.raw);
if (!parsed.ok) {
  throw new Error(`invalid stack configuration:\n${formatProblems(parsed.problems)}`);
}
const topology = parsed.topology;

const privateKey = config.privateKeySecret ?? readKeyFile(topology.ssh.privateKeyFile!);

// Read now, so a host without a pinned key stops the program before any resource registers.
const hostKeys = pinnedHostKeys(topology, baseDir);

const overlay = new Overlay("overlay", { topology, privateKey, baseDir, hostKeys });

export const hosts = overlay.hosts;
export const routerRules = overlay.routerRules;
export const connectivity = overlay.checks;
export const diagram = renderMermaid(topology);

function readKeyFile(file: string): pulumi.Output<string> {
  const resolved = path.resolve(baseDir, file);
  try {
    return pulumi.secret(fs.readFileSync(resolved, "utf8"));
  } catch (error) {
    throw new Error(`sshPrivateKeyFile ${file}: cannot read ${resolved}: ${(error as Error).message}`);
  }
}
