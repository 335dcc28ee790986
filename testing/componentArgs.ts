// Test code: the dev stack's config as MacvlanOverlay's arguments, and a program of only that
// component evaluated under mocks in a fresh process (testing/componentProgram.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import type { MacvlanOverlayArgs } from "../components/macvlanOverlay";
import { COMPONENT_ARGS_VARIABLE, COMPONENT_VIA_VARIABLE } from "./componentProgram";
import type { Evaluation } from "./programHarness";
import { DEV_STACK, evaluate, FAKE_HOST_KEY, FAKE_KEY } from "./stackEvaluation";

const PREFIX = "macvlan-overlay:";

/** The dev stack's keys without their prefix, as a stack file gives them. */
export function devStackConfig(): Record<string, unknown> {
  const config = (parse(fs.readFileSync(DEV_STACK, "utf8")) as { config: Record<string, unknown> }).config;
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key.slice(PREFIX.length), value]));
}

/** The dev stack's config as the component's arguments: the key's text and each host's key instead of the two files. */
export function devStackArgs(): MacvlanOverlayArgs {
  const { sshPrivateKeyFile: _key, sshKnownHostsFile: _knownHosts, hosts, ...config } = devStackConfig();
  return {
    ...config,
    sshPrivateKey: FAKE_KEY,
    hosts: (hosts as Record<string, unknown>[]).map((host) => ({ ...host, hostKey: FAKE_HOST_KEY })),
  } as MacvlanOverlayArgs;
}

/** What a component program registered; `outputs`: the output names the ComponentProvider handed back, when it constructed it. */
export interface ComponentEvaluation extends Evaluation {
  readonly outputs?: string[];
}

/** Evaluates a program of only `MacvlanOverlay("overlay", args)`, made directly or by Pulumi's ComponentProvider. */
export function evaluateComponent(args: unknown, via: "constructor" | "provider" = "constructor"): ComponentEvaluation {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovl-component-")), "args.json");
  fs.writeFileSync(file, JSON.stringify(args));
  process.env[COMPONENT_ARGS_VARIABLE] = file;
  process.env[COMPONENT_VIA_VARIABLE] = via;
  try {
    const evaluation = evaluate({ stackFile: DEV_STACK, program: path.join(__dirname, "componentProgram.js") });
    if (fs.existsSync(`${file}.error`)) return { ...evaluation, error: fs.readFileSync(`${file}.error`, "utf8") };
    const outputs = fs.existsSync(`${file}.outputs.json`) ? (JSON.parse(fs.readFileSync(`${file}.outputs.json`, "utf8")) as string[]) : undefined;
    return outputs === undefined ? evaluation : { ...evaluation, outputs };
  } finally {
    delete process.env[COMPONENT_ARGS_VARIABLE];
    delete process.env[COMPONENT_VIA_VARIABLE];
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}
