// Round trips the program declares for a stack: host commands (each one SSH session) per host and
// Docker resources (each at least one Docker API call over its own ssh dial-stdio) per container,
// counted from what the program registers under Pulumi's mocks.

import * as path from "node:path";
import { resourceNames } from "../components/resourceNames";
import { evaluateProgram, isSecretWrapper, type ResourceRecord } from "../testing/programHarness";

export interface HostRoundTrips {
  host: string;
  role: "docker" | "router";
  /** Host commands by component type that owns them (e.g. VlanSubinterface: 2). */
  hostCommands: number;
  dockerResources: number;
  containers: number;
  /** "PromiscuousMode 1, VlanSubinterface 2, …" */
  breakdown: string;
}

const HOST_COMMAND = "command:remote:Command";

function connectionHost(record: ResourceRecord): string {
  const connection = isSecretWrapper(record.inputs.connection) ? record.inputs.connection.value : record.inputs.connection;
  return (connection as { host: string }).host;
}

/** The component that owns a child: the one whose name, then "/", is the longest prefix of the child's name. */
export function ownerType(childName: string, components: readonly { name: string; type: string }[]): string {
  const owner = components
    .filter((c) => childName.startsWith(`${c.name}/`))
    .sort((a, b) => b.name.length - a.name.length)[0];
  return owner === undefined ? "?" : owner.type.split(":").pop()!;
}

export async function countRoundTrips(stackFile: string, projectDir: string): Promise<HostRoundTrips[]> {
  const evaluation = await evaluateProgram({
    stackFile,
    cwd: projectDir,
    config: { "macvlan-overlay:sshPrivateKeyFile": null, "macvlan-overlay:sshPrivateKey": "bench-key" },
    secretKeys: ["macvlan-overlay:sshPrivateKey"],
  });
  if (evaluation.error !== undefined) {
    throw new Error(`the program failed under mocks for ${path.basename(stackFile)}: ${evaluation.error}`);
  }
  const resources = evaluation.resources;
  const hostsByAddress = new Map<string, HostRoundTrips>();
  // OverlayHost components are named for their host; their docker.Provider is resourceNames.dockerProvider.
  for (const record of resources.filter((r) => r.type === "overlay:host:OverlayHost")) {
    const hasDocker = resources.some((r) => r.type === "pulumi:providers:docker" && r.name === resourceNames.dockerProvider(record.name));
    hostsByAddress.set(record.name, {
      host: record.name,
      role: hasDocker ? "docker" : "router",
      hostCommands: 0,
      dockerResources: 0,
      containers: 0,
      breakdown: "",
    });
  }
  // OverlayHost included: what no narrower component owns (the docker engine check) is the host's own.
  const components = resources.filter((r) => !r.custom);
  const addressToHost = new Map<string, string>();
  const concerns = new Map<string, Map<string, number>>();
  for (const record of resources.filter((r) => r.type === HOST_COMMAND)) {
    const address = connectionHost(record);
    const hostName = addressToHost.get(address) ?? [...hostsByAddress.keys()].find((h) => record.name.startsWith(`${h}/`));
    if (hostName === undefined) {
      throw new Error(`host command ${record.name} (to ${address}) belongs to no host`);
    }
    addressToHost.set(address, hostName);
    hostsByAddress.get(hostName)!.hostCommands++;
    const byConcern = concerns.get(hostName) ?? new Map<string, number>();
    const concern = ownerType(record.name, components);
    byConcern.set(concern, (byConcern.get(concern) ?? 0) + 1);
    concerns.set(hostName, byConcern);
  }
  for (const record of resources.filter((r) => r.custom && r.type.startsWith("docker:"))) {
    const providerName = (record.provider ?? "").split("::").pop()?.replace(/-id$/, "") ?? "";
    const host = [...hostsByAddress.values()].find((h) => resourceNames.dockerProvider(h.host) === providerName);
    if (host === undefined) {
      throw new Error(`docker resource ${record.name} has no host's provider (${record.provider})`);
    }
    host.dockerResources++;
    if (record.type === "docker:index/container:Container") {
      host.containers++;
    }
  }
  for (const [hostName, byConcern] of concerns) {
    hostsByAddress.get(hostName)!.breakdown = [...byConcern].map(([concern, n]) => `${concern} ${n}`).join(", ");
  }
  return [...hostsByAddress.values()];
}
