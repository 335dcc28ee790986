// Test code: evaluates the program for a stack file in a fresh process (so evaluations never share
// Pulumi's runtime state) from a project folder holding only fake key and known_hosts files.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EvaluateOptions, Evaluation } from "./programHarness";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
export const DEV_STACK = path.join(PROJECT_ROOT, "Pulumi.dev.yaml");
export const FAKE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nbWFjdmxhbi1vdmVybGF5LXRlc3Qta2V5\n-----END OPENSSH PRIVATE KEY-----\n";
/** A fake ed25519 host key the fake known_hosts pins for every dev stack host. */
export const FAKE_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeHostKeyOfTheDevStackUnderMocks000000";
/** Every lab management address on any port, with the fake key (tests move the router's SSH port). */
export const FAKE_KNOWN_HOSTS = `10.213.70.*,[10.213.70.*]:* ${FAKE_HOST_KEY}\n`;
const CLI = path.join(__dirname, "evaluateCli.js");

export function evaluate(options: Omit<EvaluateOptions, "cwd"> & { cwd?: string }): Evaluation {
  const cwd = options.cwd ?? fakeProjectDir();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovl-eval-")), "options.json");
  fs.writeFileSync(file, JSON.stringify({ ...options, cwd }));
  const out = execFileSync(process.execPath, [CLI, file], { encoding: "utf8", maxBuffer: 64 << 20 });
  return JSON.parse(out) as Evaluation;
}

/** A project folder holding only the dev stack's key and known_hosts files (fakes). */
export function fakeProjectDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-project-"));
  fs.mkdirSync(path.join(dir, ".lab"));
  fs.writeFileSync(path.join(dir, ".lab", "id_ed25519"), FAKE_KEY, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, ".lab", "known_hosts"), FAKE_KNOWN_HOSTS);
  return dir;
}

/** Evaluates the dev stack with its text edited by `edit` (each replaced text must be there). */
export function evaluateEditedDevStack(cwd: string, edits: ReadonlyArray<readonly [string | RegExp, string]>): Evaluation {
  let text = fs.readFileSync(DEV_STACK, "utf8");
  for (const [from, to] of edits) {
    const next = text.replace(from, to);
    if (next === text) {
      throw new Error(`the dev stack has no ${String(from)}`);
    }
    text = next;
  }
  const stackFile = path.join(cwd, "Pulumi.dev.yaml");
  fs.writeFileSync(stackFile, text);
  return evaluate({ stackFile, cwd });
}
