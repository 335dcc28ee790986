// Test code: what each resource type the program declares does on a lab host, as its provider does
// it — a host command's script over ssh (pulumi-command), Docker objects through the docker CLI over
// ssh:// with the declared inputs (the Docker provider).
import type { DockerOverSsh, RunResult, SshTarget } from "./labAccess";
import { sshRun, sshRunAsync } from "./labAccess";

/** pulumi-command runs a phase's text as the SSH command, with the `stdin` input as its standard input. */
export function runScript(target: SshTarget, script: string, stdin?: string): RunResult {
  return sshRun(target, script, undefined, stdin);
}

/** runScript without blocking: the e2e's `pulumi up` runs every ready step at once. */
export function runScriptAsync(target: SshTarget, script: string, stdin?: string): Promise<RunResult> {
  return sshRunAsync(target, script, stdin);
}

export function mustSucceed(name: string, phase: string, result: RunResult): string {
  if (result.status !== 0) {
    throw new Error(`${name}: ${phase} failed (exit ${result.status})\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

/** The image's id, pulled first if the host lacks it. */
export async function ensureImage(cli: DockerOverSsh, name: string): Promise<string> {
  let inspected = await cli.runAsync(["image", "inspect", "--format", "{{.Id}}", name]);
  if (inspected.status !== 0) {
    await cli.mustAsync(["pull", name]);
    inspected = await cli.runAsync(["image", "inspect", "--format", "{{.Id}}", name]);
  }
  return inspected.stdout.trim();
}

/** `docker network create` with a Network's driver, options, IPAM and labels; returns its id. */
export function createNetwork(cli: DockerOverSsh, inputs: Record<string, any>): Promise<string> {
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
  return cli.mustAsync([...flags, inputs.name]);
}

/** `docker run` with a Container's inputs: one network endpoint with its own IP and MAC; returns its id. */
export async function runContainer(cli: DockerOverSsh, resourceName: string, inputs: Record<string, any>): Promise<string> {
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
    throw new Error(`${resourceName}: the harness handles exactly one network per container`);
  }
  // One endpoint with its own IP and MAC, as the provider's networksAdvanced sends it
  // (a per-network MAC needs Docker API 1.44).
  const [network] = networks;
  const endpoint = [`name=${network.name}`];
  if (network.ipv4Address) endpoint.push(`ip=${network.ipv4Address}`);
  if (network.macAddress) endpoint.push(`mac-address=${network.macAddress}`);
  flags.push("--network", endpoint.join(","));
  return cli.mustAsync([...flags, inputs.image]);
}

export type DockerObject = "network" | "container" | "image";

/** What the provider's delete does: remove the object (an image only unless kept locally). */
export async function removeDockerObject(cli: DockerOverSsh, kind: DockerObject, id: string, keepLocally: boolean): Promise<void> {
  if (kind === "container") await cli.mustAsync(["rm", "--force", id]);
  if (kind === "network") await cli.mustAsync(["network", "rm", id]);
  if (kind === "image" && !keepLocally) await cli.mustAsync(["image", "rm", id]);
}
