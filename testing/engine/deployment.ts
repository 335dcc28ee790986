// Test code: a deployment as the Pulumi engine keeps it (per URN: type, inputs, recorded
// dependencies, provider, options), built from a program evaluated under mocks.
import type { Evaluation, ResourceRecord } from "../programHarness";
import { isSecretWrapper } from "../programHarness";

export interface DeployedResource {
  urn: string;
  type: string;
  name: string;
  /** Inputs as registered; secrets unwrapped, a connection reduced to host, port and user. */
  inputs: Record<string, unknown>;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  /** The explicit provider's URN, if any. */
  provider?: string;
  deleteBeforeReplace: boolean;
  /** URNs of the old state this resource takes over (its aliases). */
  aliases: string[];
  /** Input properties whose changes the engine ignores (the old value is kept). */
  ignoreChanges: string[];
  /** The provider's id and outputs: a resource the engine keeps (same, update) keeps them. */
  id: string;
  outputs: Record<string, unknown>;
}

/** Custom resources only, in registration order: components have no steps on a host. */
export type Deployment = DeployedResource[];

function plain(value: unknown): unknown {
  if (isSecretWrapper(value)) {
    return plain(value.value);
  }
  if (Array.isArray(value)) {
    return value.map(plain);
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  }
  return value;
}

/** Inputs as the engine compares them; the key text is left out of the connection (a test fake anyway). */
function comparableInputs(inputs: Record<string, unknown>): Record<string, unknown> {
  const result = plain(inputs) as Record<string, unknown>;
  if (result.connection && typeof result.connection === "object") {
    const { host, port, user } = result.connection as Record<string, unknown>;
    result.connection = { host, port, user };
  }
  return result;
}

/** One registration as the engine records it, with the provider's id and outputs. */
export function deployedResource(record: Pick<ResourceRecord, "type" | "name" | "inputs" | "provider" | "registration" | "id" | "state">): DeployedResource {
  const registration = record.registration;
  if (registration === undefined) {
    throw new Error(`${record.type} ${record.name}: no registration recorded`);
  }
  return {
    urn: registration.urn,
    type: record.type,
    name: record.name,
    inputs: comparableInputs(record.inputs),
    dependencies: registration.dependencies,
    propertyDependencies: registration.propertyDependencies,
    provider: record.provider?.split("::").slice(0, -1).join("::"),
    deleteBeforeReplace: registration.deleteBeforeReplace,
    aliases: registration.aliases,
    ignoreChanges: registration.ignoreChanges,
    id: record.id,
    outputs: comparableInputs(record.state),
  };
}

export function deploymentFromEvaluation(evaluation: Evaluation): Deployment {
  if (evaluation.error !== undefined) {
    throw new Error(`the program failed: ${evaluation.error}`);
  }
  return [...evaluation.resources]
    .filter((record) => record.custom && !record.type.startsWith("pulumi:providers:"))
    .sort((a, b) => a.seq - b.seq)
    .map(deployedResource);
}
