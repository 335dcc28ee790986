// Test code, run in its own process (each program evaluation needs a fresh Pulumi runtime): one
// `pulumi up` (or `pulumi destroy`) of a stack against the lab. The engine model
// (testing/engine/model.ts) decides each step as the program's registrations arrive, in the engine's
// order; this file does the step for real on the lab host and hands back the provider's outputs, so
// later registrations see real ids, MACs and check output. The state is written after every step,
// so a failed run can still be destroyed.
import type * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { type DeployedResource, deployedResource } from "../testing/engine/deployment";
import { type Step, StepGenerator } from "../testing/engine/model";
import { evaluateProgram, isSecretWrapper, listInput, type Applied, type Registration } from "../testing/programHarness";
import { DockerOverSsh, type SshTarget } from "./labAccess";
import { createNetwork, ensureImage, mustSucceed, removeDockerObject, runContainer, runScript } from "./liveResources";
import type { ExecutedStep, LiveEntry, LiveObject, LiveUpRequest, LiveUpResult } from "./liveStack";

const COMMAND = "command:remote:Command";

class LiveRun {
  /** The state as it stands: old entries not yet deleted, then what this run created or kept. */
  private readonly current: LiveEntry[];
  private readonly generator: StepGenerator;
  readonly executed: ExecutedStep[] = [];
  private readonly providers = new Map<string, { hostUrl: string; sshOpts: string[] }>();
  private readonly clis = new Map<string, DockerOverSsh>();
  /** Old resources replaced create-first: out of the state's list, deleted by `finish()` ([SG] pending deletes). */
  private readonly pendingDeletes = new Map<string, LiveEntry>();

  constructor(private readonly request: LiveUpRequest, previous: LiveEntry[]) {
    this.current = [...previous];
    // `pulumi up --replace`: the test names the resources, the engine takes URNs.
    const replace = new Set(previous.filter((entry) => (request.replace ?? []).includes(entry.resource.name)).map((entry) => entry.resource.urn));
    if (replace.size !== (request.replace ?? []).length) {
      throw new Error(`--replace: not every one of ${(request.replace ?? []).join(", ")} is in the state`);
    }
    this.generator = new StepGenerator(previous.map((entry) => entry.resource), replace);
  }

  apply = async (args: pulumi.runtime.MockResourceArgs, _earlier: unknown, registration?: Registration): Promise<Applied> => {
    const inputs = args.inputs as Record<string, any>;
    if (args.type === "pulumi:providers:docker") {
      const id = `${args.name}-provider`;
      this.providers.set(id, { hostUrl: inputs.host, sshOpts: listInput(inputs.sshOpts ?? []) });
      return { id, state: inputs };
    }
    if (!args.custom) {
      return { id: "", state: inputs };
    }
    const resource = deployedResource({ type: args.type, name: args.name, inputs, provider: args.provider, registration, id: "", state: {} });
    let result: { id: string; state: Record<string, any>; live: LiveObject } | undefined;
    const steps = this.generator.register(resource);
    const replaced = this.generator.oldOf(resource);
    if (replaced !== undefined && steps.some((step) => step.phase === "create") && !steps.some((step) => step.phase === "delete" && step.urn === replaced.urn)) {
      const kept = this.current.find((entry) => entry.resource.urn === replaced.urn);
      if (kept !== undefined) {
        this.pendingDeletes.set(replaced.urn, kept);
        this.current.splice(this.current.indexOf(kept), 1);
      }
    }
    for (const step of steps) {
      const old = step.phase === "delete" || step.op === "same" || step.op === "update" ? this.entryAt(step.urn, resource) : undefined;
      if (step.phase === "delete") {
        this.remove(step, old!);
        continue;
      }
      // [CMD] create and update both run with the new inputs' connection (only a delete uses the stored one).
      this.record(step, this.targetOf(inputs, args));
      if (step.op === "same") {
        result = { id: old!.resource.id, state: { ...old!.resource.outputs, ...inputs }, live: this.withCurrentProvider(old!.live, args) };
      } else if (step.op === "update") {
        result = this.update(args, inputs, old!);
      } else {
        result = this.create(args, inputs);
      }
      this.save();
    }
    if (result === undefined) {
      throw new Error(`${args.name}: the engine model gave no create, update or same step`);
    }
    const entry: LiveEntry = { resource: { ...resource, id: result.id, outputs: deployedResource({ ...args, registration, id: result.id, state: result.state }).outputs }, live: result.live };
    this.replaceEntry(entry);
    this.save();
    return { id: result.id, state: result.state };
  };

  /** After the program: the late deletes of replaced resources, then what no registration claimed. */
  finish(): void {
    for (const step of this.generator.finish()) {
      const pending = this.pendingDeletes.get(step.urn);
      const old = pending ?? this.current.find((entry) => entry.resource.urn === step.urn);
      if (old === undefined) {
        throw new Error(`delete of ${step.urn}: not in the state`);
      }
      this.pendingDeletes.delete(step.urn);
      this.remove(step, old);
    }
  }

  save(error?: string): void {
    // a failed run leaves the pending deletes in the state, as the engine does, to be deleted later
    const result: LiveUpResult = { state: [...this.current, ...this.pendingDeletes.values()], executed: this.executed, error };
    fs.writeFileSync(this.request.resultFile, JSON.stringify(result));
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

  private record(step: Step, on: string, output?: string): void {
    this.executed.push({ ...step, name: step.urn.split("::").pop()!, on, output, startedAt: Date.now() });
  }

  private targetOf(inputs: Record<string, any>, args: { type: string; provider?: string }): string {
    if (args.type === COMMAND) {
      const connection = (isSecretWrapper(inputs.connection) ? inputs.connection.value : inputs.connection) as { host: string; port?: number };
      return `${connection.host}:${connection.port ?? 22}`;
    }
    return args.provider === undefined ? "" : (this.providers.get(args.provider.split("::").pop()!)?.hostUrl ?? "");
  }

  private remove(step: Step, old: LiveEntry): void {
    const live = old.live;
    if (live.kind === "command") {
      this.record(step, `${live.target.host}:${live.target.port}`);
      // [CMD] Delete runs with the stored connection, script and stdin; a command without a
      // delete script (the read-only checks) runs nothing on delete (commandController.go Delete).
      if (live.delete !== "") {
        mustSucceed(old.resource.name, "delete", runScript(live.target, live.delete, old.resource.inputs.stdin as string | undefined));
      }
    } else if (live.kind === "docker") {
      this.record(step, live.hostUrl);
      removeDockerObject(this.cli(live.hostUrl, live.sshOpts), live.object, live.id, live.keepLocally);
    } else {
      this.record(step, "");
    }
    const at = this.current.indexOf(old);
    if (at >= 0) this.current.splice(at, 1);
    this.save();
  }

  /** [CMD] Update runs `update` if set, else `create`, with the new inputs' connection and stdin. */
  private update(args: pulumi.runtime.MockResourceArgs, inputs: Record<string, any>, old: LiveEntry): { id: string; state: Record<string, any>; live: LiveObject } {
    if (args.type === COMMAND) {
      return this.command(args.name, inputs, inputs.update ?? inputs.create, old.resource.id);
    }
    if (args.type === "docker:index/container:Container" && old.live.kind === "docker") {
      // [DOCKER] the container arguments changed in place (restart policy, limits) go through `docker update`.
      this.cli(old.live.hostUrl, old.live.sshOpts).must(["update", "--restart", inputs.restart ?? "no", old.live.id]);
    }
    return { id: old.resource.id, state: { ...old.resource.outputs, ...inputs }, live: this.withCurrentProvider(old.live, args) };
  }

  /** A kept Docker object is reached, from now on, through its provider as configured by this run. */
  private withCurrentProvider(live: LiveObject, args: { provider?: string }): LiveObject {
    const provider = this.providers.get(args.provider?.split("::").pop() ?? "");
    return live.kind === "docker" && provider !== undefined ? { ...live, hostUrl: provider.hostUrl, sshOpts: provider.sshOpts } : live;
  }

  private create(args: pulumi.runtime.MockResourceArgs, inputs: Record<string, any>): { id: string; state: Record<string, any>; live: LiveObject } {
    switch (args.type) {
      case COMMAND:
        return this.command(args.name, inputs, inputs.create, args.name);
      case "random:index/randomId:RandomId": {
        const hex = crypto.randomBytes(Number(inputs.byteLength)).toString("hex");
        return { id: hex, state: { ...inputs, hex }, live: { kind: "value" } };
      }
      case "docker:index/remoteImage:RemoteImage": {
        const { cli, live } = this.docker(args);
        const imageId = ensureImage(cli, inputs.name);
        return { id: imageId, state: { ...inputs, imageId, repoDigest: "" }, live: { ...live, object: "image", id: imageId, keepLocally: inputs.keepLocally === true } };
      }
      case "docker:index/network:Network": {
        const { cli, live } = this.docker(args);
        const id = createNetwork(cli, inputs);
        return { id, state: inputs, live: { ...live, object: "network", id } };
      }
      case "docker:index/container:Container": {
        const { cli, live } = this.docker(args);
        const id = runContainer(cli, args.name, inputs);
        return { id, state: inputs, live: { ...live, object: "container", id } };
      }
      default:
        throw new Error(`the e2e harness cannot do resources of type ${args.type}`);
    }
  }

  private command(name: string, inputs: Record<string, any>, script: string, id: string): { id: string; state: Record<string, any>; live: LiveObject } {
    const target = this.sshTarget(inputs.connection);
    const result = runScript(target, script, inputs.stdin);
    const stdout = mustSucceed(name, "create or update", result);
    this.executed[this.executed.length - 1].output = stdout;
    return { id, state: { ...inputs, stdout: stdout.replace(/\n$/, ""), stderr: result.stderr }, live: { kind: "command", target, delete: inputs.delete ?? "" } };
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

async function main(): Promise<void> {
  const request = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as LiveUpRequest;
  const previous = (fs.existsSync(request.stateFile) ? JSON.parse(fs.readFileSync(request.stateFile, "utf8")) : []) as LiveEntry[];
  const run = new LiveRun(request, previous);
  try {
    if (request.stackFile !== undefined) {
      const evaluation = await evaluateProgram({ stackFile: request.stackFile, cwd: request.cwd, programDir: request.programDir, apply: run.apply });
      if (evaluation.error !== undefined) {
        throw new Error(evaluation.error);
      }
    }
    run.finish();
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
