// Test code, not part of the program: stands in for the Pulumi engine and providers (whose binaries
// cannot be installed here). Each resource the program declares is done for real against the lab,
// in the order the program registers them; `destroy` undoes them in reverse, as `pulumi destroy`.
import type * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import { isSecretWrapper, listInput, type Applied, type ResourceRecord } from "../testing/programHarness";
import { DockerOverSsh, keyFileFor, type SshTarget } from "./labAccess";
import { createNetwork, ensureImage, mustSucceed, removeDockerObject, runContainer, runScript } from "./liveResources";

/** What was done, enough to do it again or undo it. */
export interface LiveResource {
  type: string;
  name: string;
  /** Host commands: the target and scripts as declared. */
  command?: { target: SshTarget; create: string; delete: string; stdin?: string; stdout: string };
  /** Docker objects: the CLI for its host and the ids to remove. */
  docker?: { cli: DockerOverSsh; kind: "network" | "container" | "image"; id: string; keepLocally?: boolean };
  /** The inputs it was declared with. */
  inputs: Record<string, any>;
}

const unsecret = (value: unknown): unknown => (isSecretWrapper(value) ? value.value : value);

export class LiveApply {
  readonly done: LiveResource[] = [];
  private readonly providers = new Map<string, DockerOverSsh>();
  private readonly keyFiles: (() => void)[] = [];
  private readonly keyFileByText = new Map<string, string>();

  /** The mocks' newResource: does the resource, returns its id and outputs. */
  apply = async (args: pulumi.runtime.MockResourceArgs, _earlier: ResourceRecord[]): Promise<Applied> => {
    const inputs = args.inputs as Record<string, any>;
    switch (args.type) {
      case "pulumi:providers:docker": {
        const cli = new DockerOverSsh(inputs.host, listInput(inputs.sshOpts ?? []));
        const id = `${args.name}-provider`;
        this.providers.set(id, cli);
        return { id, state: inputs };
      }
      case "command:remote:Command":
        return this.runCommand(args.name, inputs);
      case "random:index/randomId:RandomId": {
        const hex = crypto.randomBytes(Number(inputs.byteLength)).toString("hex");
        return { id: hex, state: { ...inputs, hex } };
      }
      case "docker:index/remoteImage:RemoteImage":
        return this.image(args, inputs);
      case "docker:index/network:Network":
        return this.network(args, inputs);
      case "docker:index/container:Container":
        return this.container(args, inputs);
      default:
        if (args.custom) {
          throw new Error(`the e2e harness cannot do resources of type ${args.type}`);
        }
        return { id: "", state: inputs };
    }
  };

  /** Runs every host command's create script again, in the order they first ran. */
  rerunCreates(): void {
    for (const resource of this.done) {
      if (resource.command !== undefined) {
        mustSucceed(resource.name, "create (again)", run(resource.command, "create"));
      }
    }
  }

  /** Runs again, in their first order, the create scripts of every host command aimed at one host. */
  rerunCreatesOn(host: string): string[] {
    const names: string[] = [];
    for (const resource of this.done) {
      if (resource.command !== undefined && resource.command.target.host === host) {
        mustSucceed(resource.name, "create (again)", run(resource.command, "create"));
        names.push(resource.name);
      }
    }
    return names;
  }

  /** Runs one created host command's create or delete script again, as an update or destroy would. */
  runScript(name: string, phase: "create" | "delete"): string {
    const command = this.done.find((r) => r.name === name && r.command !== undefined)?.command;
    if (command === undefined) {
      throw new Error(`no host command named ${name} was created`);
    }
    return mustSucceed(name, phase, run(command, phase));
  }

  /** Undoes everything in reverse order; collects failures instead of stopping at the first. */
  destroy(): string[] {
    const failures: string[] = [];
    for (const resource of [...this.done].reverse()) {
      try {
        if (resource.command !== undefined) {
          mustSucceed(resource.name, "delete", run(resource.command, "delete"));
        } else if (resource.docker !== undefined) {
          const { cli, kind, id, keepLocally } = resource.docker;
          removeDockerObject(cli, kind, id, keepLocally === true);
        }
      } catch (error) {
        failures.push(`${resource.name}: ${(error as Error).message}`);
      }
    }
    this.done.length = 0;
    return failures;
  }

  dispose(): void {
    for (const cli of this.providers.values()) cli.dispose();
    for (const remove of this.keyFiles) remove();
  }

  private target(connectionInput: unknown): SshTarget {
    const connection = unsecret(connectionInput) as { host: string; port?: number; user?: string; privateKey: string };
    let keyFile = this.keyFileByText.get(connection.privateKey);
    if (keyFile === undefined) {
      const written = keyFileFor(connection.privateKey);
      this.keyFiles.push(written.remove);
      keyFile = written.keyFile;
      this.keyFileByText.set(connection.privateKey, keyFile);
    }
    return { host: connection.host, port: connection.port ?? 22, user: connection.user ?? "root", keyFile };
  }

  private runCommand(name: string, inputs: Record<string, any>): Applied {
    const target = this.target(inputs.connection);
    const command = { target, create: inputs.create as string, delete: (inputs.delete ?? "") as string, stdin: inputs.stdin as string | undefined, stdout: "" };
    const result = run(command, "create");
    const stdout = mustSucceed(name, "create", result);
    command.stdout = stdout;
    this.done.push({ type: "command:remote:Command", name, command, inputs });
    return { id: name, state: { ...inputs, stdout: stdout.replace(/\n$/, ""), stderr: result.stderr } };
  }

  private cli(provider: string | undefined): DockerOverSsh {
    const id = provider?.split("::").pop() ?? "";
    const cli = this.providers.get(id);
    if (cli === undefined) {
      throw new Error(`docker resource without a known explicit provider (${provider})`);
    }
    return cli;
  }

  private image(args: pulumi.runtime.MockResourceArgs, inputs: Record<string, any>): Applied {
    const cli = this.cli(args.provider);
    const imageId = ensureImage(cli, inputs.name);
    this.done.push({ type: args.type, name: args.name, docker: { cli, kind: "image", id: imageId, keepLocally: inputs.keepLocally === true }, inputs });
    return { id: imageId, state: { ...inputs, imageId, repoDigest: "" } };
  }

  private network(args: pulumi.runtime.MockResourceArgs, inputs: Record<string, any>): Applied {
    const cli = this.cli(args.provider);
    const id = createNetwork(cli, inputs);
    this.done.push({ type: args.type, name: args.name, docker: { cli, kind: "network", id }, inputs });
    return { id, state: inputs };
  }

  private container(args: pulumi.runtime.MockResourceArgs, inputs: Record<string, any>): Applied {
    const cli = this.cli(args.provider);
    const id = runContainer(cli, args.name, inputs);
    this.done.push({ type: args.type, name: args.name, docker: { cli, kind: "container", id }, inputs });
    return { id, state: inputs };
  }
}

function run(command: NonNullable<LiveResource["command"]>, phase: "create" | "delete") {
  return runScript(command.target, command[phase], command.stdin);
}
