// Test code, run in its own process (each program evaluation needs a fresh Pulumi runtime): one
// `pulumi up` (or `pulumi destroy`) of a stack against the lab. The engine model
// (testing/engine/model.ts) decides each step as the program's registrations arrive, in the engine's
// order; this file does the step for real on the lab host and hands back the provider's outputs, so
// later registrations see real ids, MACs and check output. As in the engine, each registration's
// steps start when it arrives, without waiting for other steps (testing/engine/schedule.ts: unbounded
// by default, MACVLAN_OVERLAY_E2E_PARALLEL=N limits it, 1 runs one step at a time), and the deletes at
// the end run in antichains of the old state's dependency graph. The state is written after every
// step, so a failed run can still be destroyed.
import type * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { type DeployedResource, deployedResource } from "../testing/engine/deployment";
import { type Step, StepGenerator } from "../testing/engine/model";
import { type GraphNode, scheduleDeletes, StepLimit } from "../testing/engine/schedule";
import { evaluateProgram, isSecretWrapper, listInput, type Applied, type Registration } from "../testing/programHarness";
import { DockerOverSsh, type SshTarget } from "./labAccess";
import { createNetwork, ensureImage, mustSucceed, removeDockerObject, runContainer, runScriptAsync } from "./liveResources";
import type { ExecutedStep, LiveEntry, LiveObject, LiveUpRequest, LiveUpResult } from "./liveStack";

const COMMAND = "command:remote:Command";
/** A host's Confirm command (components/hostConfirm.ts). */
const CONFIRM = /\/confirm$/;

class LiveRun {
  /** The state as it stands: old entries not yet deleted, then what this run created or kept. */
  private readonly current: LiveEntry[];
  private readonly generator: StepGenerator;
  readonly executed: ExecutedStep[] = [];
  private readonly providers = new Map<string, { hostUrl: string; sshOpts: string[] }>();
  private readonly clis = new Map<string, DockerOverSsh>();
  /** Old resources replaced create-first: out of the state's list, deleted by `finish()` ([SG] pending deletes). */
  private readonly pendingDeletes = new Map<string, LiveEntry>();
  /** The components and providers this run registered (their steps do nothing on a host). */
  private readonly structure: GraphNode[] = [];
  /** Old components and providers deleted by `finish()`. */
  private readonly structureGone = new Set<string>();
  private readonly limit: StepLimit;
  /** The first failed step: as in the engine, no step starts after a failure. */
  private failure: string | undefined;

  constructor(private readonly request: LiveUpRequest, private readonly previous: LiveEntry[], private readonly previousStructure: GraphNode[]) {
    this.current = [...previous];
    this.limit = new StepLimit(request.parallel ?? 0);
    // `pulumi up --replace`: the test names the resources, the engine takes URNs.
    const replace = new Set(previous.filter((entry) => (request.replace ?? []).includes(entry.resource.name)).map((entry) => entry.resource.urn));
    if (replace.size !== (request.replace ?? []).length) {
      throw new Error(`--replace: not every one of ${(request.replace ?? []).join(", ")} is in the state`);
    }
    this.generator = new StepGenerator(previous.map((entry) => entry.resource), replace);
  }

  apply = async (args: pulumi.runtime.MockResourceArgs, _earlier: unknown, registration?: Registration): Promise<Applied> => {
    this.mustNotHaveFailed(args.name);
    const inputs = args.inputs as Record<string, any>;
    if (registration !== undefined && (!args.custom || args.type.startsWith("pulumi:providers:"))) {
      this.structure.push({ urn: registration.urn, parent: registration.parent, custom: args.custom === true, dependencies: registration.dependencies });
    }
    if (args.type === "pulumi:providers:docker") {
      const id = `${args.name}-provider`;
      this.providers.set(id, { hostUrl: inputs.host, sshOpts: listInput(inputs.sshOpts ?? []) });
      return { id, state: inputs };
    }
    if (!args.custom) {
      return { id: "", state: inputs };
    }
    const resource = deployedResource({ type: args.type, name: args.name, inputs, provider: args.provider, registration, id: "", state: {} });
    const steps = this.generator.register(resource);
    const replaced = this.generator.oldOf(resource);
    if (replaced !== undefined && steps.some((step) => step.phase === "create") && !steps.some((step) => step.phase === "delete" && step.urn === replaced.urn)) {
      const kept = this.current.find((entry) => entry.resource.urn === replaced.urn);
      if (kept !== undefined) {
        this.pendingDeletes.set(replaced.urn, kept);
        this.current.splice(this.current.indexOf(kept), 1);
      }
    }
    // [SG] one registration's steps are one chain, run in order (a delete-before-replace deletes its
    // dependents, then the old resource, then creates); [EX] chains of other registrations run beside it.
    const result = await this.limit.run(() => this.runChain(steps, args, inputs, resource)).catch((error: Error) => {
      this.failure ??= `${args.name}: ${error.message}`;
      throw error;
    });
    const entry: LiveEntry = {
      resource: { ...resource, id: result.id, outputs: deployedResource({ ...args, registration, id: result.id, state: result.state }).outputs },
      live: result.live,
      parent: registration?.parent ?? "",
    };
    this.replaceEntry(entry);
    this.save();
    return { id: result.id, state: result.state };
  };

  private async runChain(steps: Step[], args: pulumi.runtime.MockResourceArgs, inputs: Record<string, any>, resource: DeployedResource): Promise<Done> {
    let done: Done | undefined;
    for (const step of steps) {
      this.mustNotHaveFailed(args.name);
      const old = step.phase === "delete" || step.op === "same" || step.op === "update" ? this.entryAt(step.urn, resource) : undefined;
      if (step.phase === "delete") {
        await this.remove(step, old!);
        continue;
      }
      // [CMD] create and update both run with the new inputs' connection (only a delete uses the stored one).
      const record = this.record(step, this.targetOf(inputs, args));
      if (step.op === "same") {
        done = { id: old!.resource.id, state: { ...old!.resource.outputs, ...inputs }, live: this.withCurrentProvider(old!.live, args) };
      } else if (step.op === "update") {
        done = await this.update(args, inputs, old!, record);
      } else {
        done = await this.create(args, inputs, record);
      }
      this.save();
    }
    if (done === undefined) {
      throw new Error(`${args.name}: the engine model gave no create, update or same step`);
    }
    return done;
  }

  /**
   * After the program: the late deletes of replaced resources and what no registration claimed,
   * [SG] ScheduleDeletes: in antichains of the old state's dependency graph, dependents first, each
   * antichain's deletes at once ([EX] ExecuteParallel) and the next one after it. Components and
   * providers no longer registered are deleted in the same antichains; that does nothing on a host.
   */
  async finish(): Promise<void> {
    const steps = new Map(this.generator.finish().map((step) => [step.urn, step]));
    const registered = new Set(this.structure.map((node) => node.urn));
    const oldGraph: GraphNode[] = [
      ...this.previousStructure,
      ...this.previous.map((entry): GraphNode => ({
        urn: entry.resource.urn, parent: entry.parent ?? "", custom: true, dependencies: entry.resource.dependencies, provider: entry.resource.provider,
      })),
    ];
    const structureToGo = this.previousStructure.map((node) => node.urn).filter((urn) => !registered.has(urn));
    for (const antichain of scheduleDeletes(oldGraph, [...steps.keys(), ...structureToGo])) {
      this.mustNotHaveFailed("the deletes");
      const results = await Promise.allSettled(antichain.filter((urn) => steps.has(urn)).map((urn) => this.limit.run(async () => {
        const pending = this.pendingDeletes.get(urn);
        const old = pending ?? this.current.find((entry) => entry.resource.urn === urn);
        if (old === undefined) {
          throw new Error(`delete of ${urn}: not in the state`);
        }
        await this.remove(steps.get(urn)!, old);
        this.pendingDeletes.delete(urn);
      })));
      const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
      if (failed !== undefined) {
        this.failure ??= (failed.reason as Error).message;
        throw failed.reason;
      }
      for (const urn of antichain) if (!steps.has(urn)) this.structureGone.add(urn);
    }
  }

  save(error?: string): void {
    // a failed run leaves the pending deletes in the state, as the engine does, to be deleted later
    const registered = new Set(this.structure.map((node) => node.urn));
    const structure = [...this.structure, ...this.previousStructure.filter((node) => !registered.has(node.urn) && !this.structureGone.has(node.urn))];
    const result: LiveUpResult = { state: [...this.current, ...this.pendingDeletes.values()], structure, executed: this.executed, error: error ?? this.failure };
    fs.writeFileSync(this.request.resultFile, JSON.stringify(result));
  }

  private mustNotHaveFailed(what: string): void {
    if (this.failure !== undefined) {
      throw new Error(`${what}: not started, an earlier step failed (${this.failure.split("\n")[0]})`);
    }
  }

  dispose(): void {
    for (const cli of this.clis.values()) cli.dispose();
  }

  private entryAt(urn: string, resource: DeployedResource): LiveEntry {
    const old = this.current.find((entry) => entry.resource.urn === urn)
      ?? this.current.find((entry) => entry.resource.urn === this.generator.oldOf(resource)?.urn);
    if (old === undefined) {
      throw new Error(`${urn}: not in the state`);
    }
    return old;
  }

  private record(step: Step, on: string): ExecutedStep {
    const record: ExecutedStep = { ...step, name: step.urn.split("::").pop()!, on, startedAt: Date.now() };
    this.executed.push(record);
    return record;
  }

  private targetOf(inputs: Record<string, any>, args: { type: string; provider?: string }): string {
    if (args.type === COMMAND) {
      const connection = (isSecretWrapper(inputs.connection) ? inputs.connection.value : inputs.connection) as { host: string; port?: number };
      return `${connection.host}:${connection.port ?? 22}`;
    }
    return args.provider === undefined ? "" : (this.providers.get(args.provider.split("::").pop()!)?.hostUrl ?? "");
  }

  private async remove(step: Step, old: LiveEntry): Promise<void> {
    const live = old.live;
    if (live.kind === "command") {
      const record = this.record(step, `${live.target.host}:${live.target.port}`);
      // [CMD] Delete runs with the stored connection, script and stdin; a command without a
      // delete script (the read-only checks) runs nothing on delete (commandController.go Delete).
      if (live.delete !== "") {
        mustSucceed(old.resource.name, "delete", await runScriptAsync(live.target, live.delete, old.resource.inputs.stdin as string | undefined));
      }
      record.endedAt = Date.now();
    } else if (live.kind === "docker") {
      const record = this.record(step, live.hostUrl);
      await removeDockerObject(this.cli(live.hostUrl, live.sshOpts), live.object, live.id, live.keepLocally);
      record.endedAt = Date.now();
    } else {
      this.record(step, "").endedAt = Date.now();
    }
    const at = this.current.indexOf(old);
    if (at >= 0) this.current.splice(at, 1);
    this.save();
  }

  /** [CMD] Update runs `update` if set, else `create`, with the new inputs' connection and stdin. */
  private async update(args: pulumi.runtime.MockResourceArgs, inputs: Record<string, any>, old: LiveEntry, record: ExecutedStep): Promise<Done> {
    if (args.type === COMMAND) {
      return this.command(args.name, inputs, inputs.update ?? inputs.create, old.resource.id, record);
    }
    if (args.type === "docker:index/container:Container" && old.live.kind === "docker") {
      // [DOCKER] the container arguments changed in place (restart policy, limits) go through `docker update`.
      await this.cli(old.live.hostUrl, old.live.sshOpts).mustAsync(["update", "--restart", inputs.restart ?? "no", old.live.id]);
    }
    record.endedAt = Date.now();
    return { id: old.resource.id, state: { ...old.resource.outputs, ...inputs }, live: this.withCurrentProvider(old.live, args) };
  }

  /** A kept Docker object is reached, from now on, through its provider as configured by this run. */
  private withCurrentProvider(live: LiveObject, args: { provider?: string }): LiveObject {
    const provider = this.providers.get(args.provider?.split("::").pop() ?? "");
    return live.kind === "docker" && provider !== undefined ? { ...live, hostUrl: provider.hostUrl, sshOpts: provider.sshOpts } : live;
  }

  private async create(args: pulumi.runtime.MockResourceArgs, inputs: Record<string, any>, record: ExecutedStep): Promise<Done> {
    const done = await this.createFor(args, inputs, record);
    record.endedAt = Date.now();
    return done;
  }

  private async createFor(args: pulumi.runtime.MockResourceArgs, inputs: Record<string, any>, record: ExecutedStep): Promise<Done> {
    switch (args.type) {
      case COMMAND:
        return this.command(args.name, inputs, inputs.create, args.name, record);
      case "random:index/randomId:RandomId": {
        const hex = crypto.randomBytes(Number(inputs.byteLength)).toString("hex");
        return { id: hex, state: { ...inputs, hex }, live: { kind: "value" } };
      }
      case "docker:index/remoteImage:RemoteImage": {
        const { cli, live } = this.docker(args);
        const imageId = await ensureImage(cli, inputs.name);
        return { id: imageId, state: { ...inputs, imageId, repoDigest: "" }, live: { ...live, object: "image", id: imageId, keepLocally: inputs.keepLocally === true } };
      }
      case "docker:index/network:Network": {
        const { cli, live } = this.docker(args);
        const id = await createNetwork(cli, inputs);
        return { id, state: inputs, live: { ...live, object: "network", id } };
      }
      case "docker:index/container:Container": {
        const { cli, live } = this.docker(args);
        const id = await runContainer(cli, args.name, inputs);
        return { id, state: inputs, live: { ...live, object: "container", id } };
      }
      default:
        throw new Error(`the e2e harness cannot do resources of type ${args.type}`);
    }
  }

  private async command(name: string, inputs: Record<string, any>, script: string, id: string, record: ExecutedStep): Promise<Done> {
    // A host's Confirm opens its own connection, as pulumi-command does for every command: a host that
    // refuses new SSH connections must fail it even while a shared master to it is still open.
    const target = { ...this.sshTarget(inputs.connection), ...(CONFIRM.test(name) ? { multiplex: false } : {}) };
    const result = await runScriptAsync(target, this.withFault(name, script), inputs.stdin);
    const stdout = mustSucceed(name, "create or update", result);
    record.output = stdout;
    record.endedAt = Date.now();
    return { id, state: { ...inputs, stdout: stdout.replace(/\n$/, ""), stderr: result.stderr }, live: { kind: "command", target, delete: inputs.delete ?? "" } };
  }

  /** The script as the host runs it: with the test's fault for this command, if it has one (the text must be there). */
  private withFault(name: string, script: string): string {
    const fault = this.request.faults?.[name];
    if (fault === undefined) return script;
    if (!script.includes(fault[0])) throw new Error(`${name}: the fault's place ${JSON.stringify(fault[0])} is not in its script`);
    return script.replace(fault[0], fault[1]);
  }

  private sshTarget(connectionInput: unknown): SshTarget {
    const connection = (isSecretWrapper(connectionInput) ? connectionInput.value : connectionInput) as { host: string; port?: number; user?: string; privateKey: string };
    const keyFile = path.join(this.request.keysDir, crypto.createHash("sha256").update(connection.privateKey).digest("hex").slice(0, 16));
    if (!fs.existsSync(keyFile)) {
      fs.writeFileSync(keyFile, connection.privateKey, { mode: 0o600 });
    }
    return { host: connection.host, port: connection.port ?? 22, user: connection.user ?? "root", keyFile };
  }

  private docker(args: pulumi.runtime.MockResourceArgs): { cli: DockerOverSsh; live: Omit<Extract<LiveObject, { kind: "docker" }>, "object" | "id" | "keepLocally"> & { kind: "docker"; keepLocally: boolean } } {
    const provider = this.providers.get(args.provider?.split("::").pop() ?? "");
    if (provider === undefined) {
      throw new Error(`${args.name}: docker resource without a known explicit provider (${args.provider})`);
    }
    return { cli: this.cli(provider.hostUrl, provider.sshOpts), live: { kind: "docker", hostUrl: provider.hostUrl, sshOpts: provider.sshOpts, keepLocally: false } };
  }

  private cli(hostUrl: string, sshOpts: string[]): DockerOverSsh {
    const key = JSON.stringify([hostUrl, sshOpts]);
    let cli = this.clis.get(key);
    if (cli === undefined) {
      cli = new DockerOverSsh(hostUrl, sshOpts);
      this.clis.set(key, cli);
    }
    return cli;
  }

  /** The registration's entry replaces the old one it took over (same URN or alias), or joins the end. */
  private replaceEntry(entry: LiveEntry): void {
    const urns = new Set([entry.resource.urn, ...entry.resource.aliases]);
    const at = this.current.findIndex((existing) => urns.has(existing.resource.urn));
    if (at >= 0) {
      this.current.splice(at, 1);
    }
    this.current.push(entry);
  }
}

/** What a step leaves: the provider's id and outputs, and how to reach or remove it on its host. */
interface Done {
  id: string;
  state: Record<string, any>;
  live: LiveObject;
}

async function main(): Promise<void> {
  const request = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as LiveUpRequest;
  const stored = (fs.existsSync(request.stateFile) ? JSON.parse(fs.readFileSync(request.stateFile, "utf8")) : { state: [], structure: [] }) as Pick<LiveUpResult, "state" | "structure">;
  const run = new LiveRun(request, stored.state, stored.structure);
  try {
    if (request.stackFile !== undefined) {
      const evaluation = await evaluateProgram({ stackFile: request.stackFile, cwd: request.cwd, programDir: request.programDir, apply: run.apply });
      if (evaluation.error !== undefined) {
        throw new Error(evaluation.error);
      }
    }
    await run.finish();
    run.save();
  } catch (error) {
    run.save((error as Error).message);
  } finally {
    run.dispose();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  },
);
