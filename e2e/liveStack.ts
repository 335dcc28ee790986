// Test code: a stack deployed to the lab and moved from one config to the next as `pulumi up` would
// (steps from the engine model, done for real by e2e/liveUp.ts in a fresh process per run), and
// destroyed as `pulumi destroy` would. The state (the engine's view plus how to undo each resource
// on its host) stays in a temporary folder between runs.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { DeployedResource } from "../testing/engine/deployment";
import type { Step } from "../testing/engine/model";
import { type GraphNode, parallelFromEnv } from "../testing/engine/schedule";
import type { SshTarget } from "./labAccess";
import { DockerOverSsh, PROJECT_ROOT } from "./labAccess";
import { mustSucceed, runScript } from "./liveResources";

/** How to reach or remove what a resource is on its host. */
export type LiveObject =
  | { kind: "command"; target: SshTarget; delete: string }
  | { kind: "docker"; hostUrl: string; sshOpts: string[]; object: "network" | "container" | "image"; id: string; keepLocally: boolean }
  | { kind: "value" };

export interface LiveEntry {
  resource: DeployedResource;
  live: LiveObject;
  /** The parent component's URN: the engine deletes children before their parent. */
  parent?: string;
}

export interface ExecutedStep extends Step {
  /** The resource's name (the URN's last part). */
  name: string;
  /** Where it ran: host:port for a command, the Docker host URL for Docker objects. */
  on: string;
  /** A command's stdout. */
  output?: string;
  /** When the step began and ended (ms since the epoch), to see where a run's time goes and what overlapped. */
  startedAt: number;
  endedAt?: number;
}

export interface LiveUpRequest {
  /** The stack to deploy; absent: destroy. */
  stackFile?: string;
  /** `pulumi up --replace`: names (the URNs' last part) of resources to replace though unchanged. */
  replace?: string[];
  cwd: string;
  programDir?: string;
  stateFile: string;
  resultFile: string;
  keysDir: string;
  /** `pulumi up --parallel`: at most this many steps at once; 0, the default, is unbounded. */
  parallel?: number;
  /**
   * A fault the test puts into what a host runs: per command name, a text of its script and what
   * replaces it there (the state keeps the program's script). Default none.
   */
  faults?: Record<string, readonly [string, string]>;
}

export interface LiveUpResult {
  state: LiveEntry[];
  /** The components and providers of the state: the dependency graph that orders deletes needs them. */
  structure: GraphNode[];
  executed: ExecutedStep[];
  error?: string;
}

const LIVE_UP = path.join(__dirname, "liveUp.js");
/** A run on a loaded machine: each step is an ssh session to a User-Mode Linux guest. */
const RUN_TIMEOUT_MS = 1_800_000;
/** MACVLAN_OVERLAY_E2E_PARALLEL: `pulumi up --parallel` for every up and destroy of the e2e (unset: unbounded). */
export const E2E_PARALLEL = parallelFromEnv(process.env.MACVLAN_OVERLAY_E2E_PARALLEL);

export class LabStack {
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovl-e2e-stack-"));
  private readonly stateFile = path.join(this.dir, "state.json");
  private readonly keysDir = path.join(this.dir, "keys");
  state: LiveEntry[] = [];
  /** The state's components and providers (no steps on a host; they order deletes). */
  structure: GraphNode[] = [];

  constructor() {
    fs.mkdirSync(this.keysDir, { mode: 0o700 });
  }

  /** `pulumi up` of a stack file (its name must be Pulumi.<stack>.yaml); throws with the steps done on failure. */
  up(stackFile: string, options: { programDir?: string; replace?: string[]; faults?: LiveUpRequest["faults"] } = {}): ExecutedStep[] {
    return this.run({ stackFile, programDir: options.programDir, replace: options.replace, faults: options.faults });
  }

  /**
   * `pulumi refresh`, for what the e2e removes by hand: a Docker network or container the provider
   * no longer finds is dropped from the state (the provider's Read returns no resource, and the
   * engine removes it: "Repairing State With Pulumi Refresh", pulumi.com/blog). Returns their names.
   */
  refresh(): string[] {
    const gone = this.state.filter((entry) => {
      const live = entry.live;
      if (live.kind !== "docker" || live.object === "image") return false;
      const cli = new DockerOverSsh(live.hostUrl, live.sshOpts);
      try {
        const found = cli.run([live.object, "inspect", "--format", "{{.Id}}", live.id]);
        if (found.status !== 0 && !/no such|not found/i.test(found.stderr)) {
          throw new Error(`refresh of ${entry.resource.name}: docker ${live.object} inspect failed: ${found.stderr.trim()}`);
        }
        return found.status !== 0;
      } finally {
        cli.dispose();
      }
    });
    this.state = this.state.filter((entry) => !gone.includes(entry));
    return gone.map((entry) => entry.resource.name);
  }

  /** `pulumi destroy`: every resource deleted, dependents first. */
  destroy(): ExecutedStep[] {
    return this.run({});
  }

  /** The entry of a resource by its name (the URN's last part). */
  entry(name: string): LiveEntry {
    const found = this.state.find((entry) => entry.resource.name === name);
    if (found === undefined) {
      throw new Error(`no resource named ${name} in the state`);
    }
    return found;
  }

  /** Runs a deployed host command's create or delete script again, by hand, as a test step. */
  runScript(name: string, phase: "create" | "delete"): string {
    const { resource, live } = this.entry(name);
    if (live.kind !== "command") {
      throw new Error(`${name} is not a host command`);
    }
    const script = phase === "create" ? (resource.inputs.create as string) : live.delete;
    return mustSucceed(name, phase, runScript(live.target, script, resource.inputs.stdin as string | undefined));
  }

  /** Host commands of the state, in the order they were deployed. */
  commands(): LiveEntry[] {
    return this.state.filter((entry) => entry.live.kind === "command");
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private run(request: Pick<LiveUpRequest, "stackFile" | "programDir" | "replace" | "faults">): ExecutedStep[] {
    const resultFile = path.join(this.dir, "result.json");
    const requestFile = path.join(this.dir, "request.json");
    fs.rmSync(resultFile, { force: true });
    fs.writeFileSync(this.stateFile, JSON.stringify({ state: this.state, structure: this.state.length === 0 ? [] : this.structure }));
    const full: LiveUpRequest = { ...request, cwd: PROJECT_ROOT, stateFile: this.stateFile, resultFile, keysDir: this.keysDir, parallel: E2E_PARALLEL };
    fs.writeFileSync(requestFile, JSON.stringify(full));
    const child = spawnSync(process.execPath, [LIVE_UP, requestFile], { encoding: "utf8", timeout: RUN_TIMEOUT_MS, maxBuffer: 64 << 20 });
    if (!fs.existsSync(resultFile)) {
      throw new Error(`the live run wrote no result (exit ${child.status}):\n${child.stdout}\n${child.stderr}`);
    }
    const result = JSON.parse(fs.readFileSync(resultFile, "utf8")) as LiveUpResult;
    this.state = result.state;
    this.structure = result.structure;
    if (result.error !== undefined || child.status !== 0) {
      const done = result.executed.map(describeStep).join("\n  ");
      throw new Error(`${request.stackFile === undefined ? "destroy" : "up"} failed: ${result.error ?? child.stderr}\nsteps done:\n  ${done}`);
    }
    return result.executed;
  }
}

/** "update host1/vlan10/link/ens33.10 (runs create on 10.213.70.11:22)". */
export function describeStep(step: ExecutedStep): string {
  const op = step.phase === undefined ? step.op : `${step.op}(${step.phase})`;
  const runs = step.runs === undefined ? "" : `runs ${step.runs} `;
  return `${op} ${step.name}${step.on === "" && runs === "" ? "" : ` (${runs}on ${step.on})`}`;
}

/** Pairs of steps whose run times overlapped ("a + b", in the order they started). */
export function overlappingSteps(steps: readonly ExecutedStep[]): string[] {
  const timed = steps.filter((step) => step.endedAt !== undefined && step.op !== "same");
  const pairs: string[] = [];
  timed.forEach((a, i) => {
    for (const b of timed.slice(i + 1)) {
      if (a.startedAt < b.endedAt! && b.startedAt < a.endedAt!) pairs.push(`${a.name} + ${b.name}`);
    }
  });
  return pairs;
}
