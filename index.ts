// Wiring only: stack config → checks (config/preflight.ts, shared with `npm run validate`) → the
// package's component (the key files' contents as its arguments) → stack outputs.
import * as pulumi from "@pulumi/pulumi";
import { MacvlanOverlay } from "./components/macvlanOverlay";
import { overlayArgsFromStack } from "./config/overlayArgs";
import { preflight } from "./config/preflight";
import { readProgramConfig } from "./config/pulumiConfig";

const baseDir = process.cwd();
const config = readProgramConfig();
// Throws before any resource registers: bad config, an unreadable key file, a host without a pinned key.
const checked = preflight(config.raw, config.literalProblems, baseDir);
for (const warning of checked.warnings) pulumi.log.warn(warning);

const privateKey = config.privateKeySecret ?? pulumi.secret(checked.privateKeyText!);

const overlay = new MacvlanOverlay("overlay", overlayArgsFromStack(config.raw, checked, privateKey, baseDir));

export const hosts = overlay.hosts;
export const routerRules = overlay.routerRules;
export const connectivity = overlay.connectivity;
export const diagram = overlay.diagram;
/** A few lines for the end of `pulumi up`: hosts, links, networks, containers and the check's verdict. */
export const summary = overlay.summary;
