// The package's schema as Pulumi's ComponentProvider infers it from the package's entry: the file in
// schema/ is current, MacvlanOverlay takes the stack config's keys (each described, nested ones as
// named types), and the YAML example uses only what the schema has.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import { parse } from "yaml";
import { configFields, containerSchema, hostSchema, vlanSchema } from "../topology/schema";
import { PACKAGE_SCHEMA_FILE, packageSchemaText } from "./packageSchema";

// Compiled to dist/tools/, two levels below the project root.
const ROOT = path.join(__dirname, "..", "..");
const TOKEN = "macvlan-overlay:index:MacvlanOverlay";
const TYPES = "#/types/";
const ADD_THE_KEY = "a stack key is missing from MacvlanOverlayArgs or its nested types (components/macvlanOverlay.ts): add it with its JSDoc, then npm run schema";

interface Property {
  type?: string;
  $ref?: string;
  items?: Property;
  additionalProperties?: Property;
  description?: string;
}
interface ObjectType {
  properties: Record<string, Property>;
  required?: string[];
}
interface PackageSchema {
  name: string;
  resources: Record<string, { isComponent: boolean; inputProperties: Record<string, Property>; requiredInputs: string[]; properties: Record<string, Property> }>;
  types: Record<string, ObjectType>;
}

describe("the package schema", () => {
  let text: string;
  let schema: PackageSchema;
  before(async () => {
    text = await packageSchemaText(ROOT);
    schema = JSON.parse(text) as PackageSchema;
  });

  test(`${PACKAGE_SCHEMA_FILE} is what the package's entry gives (npm run schema writes it)`, () => {
    assert.equal(fs.readFileSync(path.join(ROOT, PACKAGE_SCHEMA_FILE), "utf8"), text, `${PACKAGE_SCHEMA_FILE} is stale: run npm run schema`);
  });

  test("MacvlanOverlay is a component whose inputs are the stack config's keys, the two file keys aside", () => {
    const component = schema.resources[TOKEN];
    assert.equal(component.isComponent, true);
    const stackKeys = Object.keys(configFields).filter((key) => key !== "sshPrivateKeyFile" && key !== "sshKnownHostsFile");
    assert.deepEqual(Object.keys(component.inputProperties).sort(), stackKeys.sort(), ADD_THE_KEY);
    assert.deepEqual(component.requiredInputs, ["hosts", "sshPrivateKey", "vlans"]);
    assert.deepEqual(Object.keys(component.properties).sort(), ["connectivity", "diagram", "hosts", "routerRules", "summary"]);
  });

  test("hosts, VLANs, containers, the bastion and the router are named types, and every input says what it is", () => {
    const inputs = schema.resources[TOKEN].inputProperties;
    assert.equal(inputs.hosts.items?.$ref, `${TYPES}macvlan-overlay:index:HostSpec`);
    assert.equal(inputs.vlans.items?.$ref, `${TYPES}macvlan-overlay:index:VlanSpec`);
    assert.equal(inputs.sshProxy.$ref, `${TYPES}macvlan-overlay:index:SshProxySpec`);
    assert.equal(inputs.router.$ref, `${TYPES}macvlan-overlay:index:RouterSpec`);
    const host = schema.types["macvlan-overlay:index:HostSpec"];
    assert.equal(host.properties.containers.items?.$ref, `${TYPES}macvlan-overlay:index:ContainerSpec`);
    const inputTypes = ["HostSpec", "VlanSpec", "ContainerSpec", "SshProxySpec", "RouterSpec"].map((name) => `macvlan-overlay:index:${name}`);
    const undescribed = [
      ...Object.entries(inputs).map(([name, property]) => [name, property] as const),
      ...inputTypes.flatMap((type) => Object.entries(schema.types[type].properties).map(([name, property]) => [`${type}.${name}`, property] as const)),
    ]
      .filter(([, property]) => (property.description ?? "").trim() === "")
      .map(([name]) => name);
    assert.deepEqual(undescribed, []);
  });

  test("the nested types have the stack file's keys", () => {
    const keys = (type: string) => Object.keys(schema.types[`macvlan-overlay:index:${type}`].properties).sort();
    const stack = (shape: object) => Object.keys(shape).sort();
    assert.deepEqual(keys("HostSpec"), ["address", "containers", "hostKey", "hostShim", "name", "port", "role", "trunkInterface", "vlanAddresses"]);
    assert.deepEqual(keys("HostSpec"), stack(hostSchema.shape), ADD_THE_KEY);
    assert.deepEqual(keys("VlanSpec"), stack(vlanSchema.shape), ADD_THE_KEY);
    assert.deepEqual(keys("ContainerSpec"), stack(containerSchema.shape), ADD_THE_KEY);
    assert.deepEqual(keys("SshProxySpec"), stack(configFields.sshProxy.unwrap().shape), ADD_THE_KEY);
    assert.deepEqual(keys("RouterSpec"), stack(configFields.router.unwrap().shape), ADD_THE_KEY);
  });

  describe("examples/yaml/Pulumi.yaml", () => {
    interface YamlProgram {
      config?: Record<string, { type: string; secret?: boolean }>;
      resources: Record<string, { type: string; properties: Record<string, unknown> }>;
    }
    let program: YamlProgram;
    before(() => {
      program = parse(fs.readFileSync(path.join(ROOT, "examples", "yaml", "Pulumi.yaml"), "utf8")) as YamlProgram;
    });

    /** Every mismatch between `value` and the schema's `property`, by path; `${config}` stands for its config's declared type. */
    function mismatches(value: unknown, property: Property, where: string): string[] {
      if (typeof value === "string" && /^\$\{[A-Za-z0-9]+\}$/.test(value)) {
        const declared = program.config?.[value.slice(2, -1)]?.type;
        return declared === property.type ? [] : [`${where}: ${value} is config of type ${declared}, the schema wants ${property.type ?? property.$ref}`];
      }
      if (property.$ref !== undefined) return objectMismatches(value, schema.types[property.$ref.slice(TYPES.length)], where);
      switch (property.type) {
        case "string":
        case "number":
        case "boolean":
          return typeof value === property.type ? [] : [`${where}: ${JSON.stringify(value)} is not a ${property.type}`];
        case "array":
          return Array.isArray(value) ? value.flatMap((item, index) => mismatches(item, property.items!, `${where}[${index}]`)) : [`${where}: not a list`];
        case "object":
          return value !== null && typeof value === "object" && !Array.isArray(value)
            ? Object.entries(value).flatMap(([key, item]) => mismatches(item, property.additionalProperties!, `${where}.${key}`))
            : [`${where}: not a map`];
        default:
          return [`${where}: the schema has no type`];
      }
    }

    function objectMismatches(value: unknown, type: ObjectType | undefined, where: string): string[] {
      if (type === undefined) return [`${where}: no such type`];
      if (value === null || typeof value !== "object" || Array.isArray(value)) return [`${where}: not an object`];
      const given = value as Record<string, unknown>;
      return [
        ...(type.required ?? []).filter((key) => !(key in given)).map((key) => `${where}.${key}: required, missing`),
        ...Object.entries(given).flatMap(([key, item]) =>
          type.properties[key] === undefined ? [`${where}.${key}: not in the schema`] : mismatches(item, type.properties[key], `${where}.${key}`),
        ),
      ];
    }

    test("its resource is the package's MacvlanOverlay, and every property matches the schema by name and type", () => {
      const resources = Object.entries(program.resources);
      assert.deepEqual(resources.map(([, resource]) => resource.type), [TOKEN]);
      const component = schema.resources[TOKEN];
      const [[name, resource]] = resources;
      assert.deepEqual(
        objectMismatches(resource.properties, { properties: component.inputProperties, required: component.requiredInputs }, name),
        [],
      );
      assert.equal(program.config?.sshPrivateKey?.secret, true);
    });

    test("the check finds a wrong name and a wrong type", () => {
      const properties = { ...program.resources.overlay.properties, verify: "yes", vlanz: [] };
      const component = schema.resources[TOKEN];
      assert.deepEqual(objectMismatches(properties, { properties: component.inputProperties, required: component.requiredInputs }, "overlay"), [
        'overlay.verify: "yes" is not a boolean',
        "overlay.vlanz: not in the schema",
      ]);
    });
  });
});
