// Wiring only: stack config → checks (config/preflight.ts, shared with `npm run validate`) → components → stack outputs.
import * as pulumi from "@pulumi/pulumi";
import { Overlay } from "./components";
import { preflight } from "./config/preflight";
import { readProgramConfig } from "./config/pulumiConfig";
import { renderMermaid } from "./diagram";
import { renderSummary } from "./diagram/summary";

const baseDir = process.cwd();
const config = readProgramConfig();
// Throws before any resource registers: bad config, an unreadable key file, a host without a pinned key.
const checked = preflight(config.raw, config.literalProblems, baseDir);
for (const warning of checked.warnings) pulumi.log.warn(warning);
const topology = checked.topology;

const privateKey = config.privateKeySecret ?? pulumi.secret(checked.privateKeyText!);

const overlay = new Overlay("overlay", { topology, privateKey, baseDir, hostKeys: checked.hostKeys });

export const hosts = overlay.hosts;
export const routerRules = overlay.routerRules;
export const connectivity = overlay.checks;
export const diagram = renderMermaid(topology);
/** A few lines for the end of `pulumi up`: hosts, links, networks, containers and the check's verdict. */
export const summary = pulumi.all(overlay.checks).apply((checks) => renderSummary(topology, checks));
