// Test code, not part of the program: stands in for the Pulumi engine and providers (whose binaries
// cannot be installed here). Each resource the program declares is done for real against the lab,
// in the order the program registers them; `destroy` undoes them in reverse, as `pulumi destroy`.
import type * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import { isSecretWrapper, listInput, type Applied, type ResourceRecord } from "../testing/programHarness";
import { DockerOverSsh, keyFileFor, sshRun, type SshTarget } from "./labAccess";

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
          if (kind === "container") cli.must(["rm", "--force", id]);
          if (kind === "network") cli.must(["network", "rm", id]);
          if (kind === "image" && !keepLocally) cli.must(["image", "rm", id]);
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
    let inspected = cli.run(["image", "inspect", "--format", "{{.Id}}", inputs.name]);
    if (inspected.status !== 0) {
      cli.must(["pull", inputs.name]);
      inspected = cli.run(["image", "inspect", "--format", "{{.Id}}", inputs.name]);
    }
    const imageId = inspected.stdout.trim();
    this.done.push({ type: args.type, name: args.name, docker: { cli, kind: "image", id: imageId, keepLocally: inputs.keepLocally === true }, inputs });
    return { id: imageId, state: { ...inputs, imageId, repoDigest: "" } };
  }

  private network(args: pulumi.runtime.MockResourceArgs, inputs: Record<string, any>): Applied {
    const cli = this.cli(args.provider);
    const flags = ["network", "create", "--driver", inputs.driver];
    for (const [key, value] of Object.entries((inputs.options ?? {}) as Record<string, string>)) {
      flags.push("--opt", `${key}=${value}`);
    }
    for (const ipam of (inputs.ipamConfigs ?? []) as { subnet: string; gateway?: string }[]) {
      flags.push("--subnet", ipam.subnet);
      if (ipam.gateway) flags.push("--gateway", ipam.gateway);
    }
    for (const label of (inputs.labels ?? []) as { label: string; value: string }[]) {
      flags.push("--label", `${label.label}=${label.value}`);
    }
    const id = cli.must([...flags, inputs.name]);
    this.done.push({ type: args.type, name: args.name, docker: { cli, kind: "network", id }, inputs });
    return { id, state: inputs };
  }

  private container(args: pulumi.runtime.MockResourceArgs, inputs: Record<string, any>): Applied {
    const cli = this.cli(args.provider);
    const flags = ["run", "--detach", "--name", inputs.name];
    if (inputs.hostname) flags.push("--hostname", inputs.hostname);
    if (inputs.tty) flags.push("--tty");
    if (inputs.stdinOpen) flags.push("--interactive");
    if (inputs.restart) flags.push("--restart", inputs.restart);
    for (const label of (inputs.labels ?? []) as { label: string; value: string }[]) {
      flags.push("--label", `${label.label}=${label.value}`);
    }
    const networks = (inputs.networksAdvanced ?? []) as { name: string; ipv4Address?: string; macAddress?: string }[];
    if (networks.length !== 1) {
      throw new Error(`${args.name}: the harness handles exactly one network per container`);
    }
    // One endpoint with its own IP and MAC, as the provider's networksAdvanced sends it
    // (a per-network MAC needs Docker API 1.44).
    const [network] = networks;
    const endpoint = [`name=${network.name}`];
    if (network.ipv4Address) endpoint.push(`ip=${network.ipv4Address}`);
    if (network.macAddress) endpoint.push(`mac-address=${network.macAddress}`);
    flags.push("--network", endpoint.join(","));
    const id = cli.must([...flags, inputs.image]);
    this.done.push({ type: args.type, name: args.name, docker: { cli, kind: "container", id }, inputs });
    return { id, state: inputs };
  }
}

/** pulumi-command runs each phase's text as the SSH command, with the one `stdin` input as its standard input. */
function run(command: NonNullable<LiveResource["command"]>, phase: "create" | "delete") {
  return sshRun(command.target, command[phase], undefined, command.stdin);
}

function mustSucceed(name: string, phase: string, result: { status: number; stdout: string; stderr: string }): string {
  if (result.status !== 0) {
    throw new Error(`${name}: ${phase} failed (exit ${result.status})\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}
