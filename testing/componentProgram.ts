// Test code: a program that is only a MacvlanOverlay, as a consumer's program is; the arguments come
// from the JSON file MACVLAN_OVERLAY_COMPONENT_ARGS names, the key text made a secret as a consumer's
// secret config arrives. With MACVLAN_OVERLAY_COMPONENT_VIA=provider it is constructed as
// `pulumi package add` consumers get it: by Pulumi's ComponentProvider, from the package's exports.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import { MACVLAN_OVERLAY_TYPE, MacvlanOverlay, type MacvlanOverlayArgs } from "../components/macvlanOverlay";
import { PROJECT } from "../config/project";

export const COMPONENT_ARGS_VARIABLE = "MACVLAN_OVERLAY_COMPONENT_ARGS";
export const COMPONENT_VIA_VARIABLE = "MACVLAN_OVERLAY_COMPONENT_VIA";

const file = process.env[COMPONENT_ARGS_VARIABLE];
if (file !== undefined) {
  const read = JSON.parse(fs.readFileSync(file, "utf8")) as MacvlanOverlayArgs;
  const args = { ...read, sshPrivateKey: pulumi.secret(read.sshPrivateKey) };
  if (process.env[COMPONENT_VIA_VARIABLE] === "provider") {
    // Compiled to dist/testing/: the project root, whose package.json names the entry, is two levels up.
    const root = path.join(__dirname, "..", "..");
    const components = getPulumiComponents(require(path.join(__dirname, "..", "plugin")));
    const provider = new ComponentProvider({ components, name: PROJECT, dirname: root });
    provider.construct("overlay", MACVLAN_OVERLAY_TYPE, args as unknown as pulumi.Inputs, {}).then(
      ({ state }) => pulumi.output(state).apply((outputs) => fs.writeFileSync(`${file}.outputs.json`, JSON.stringify(Object.keys(outputs).sort()))),
      (error) => fs.writeFileSync(`${file}.error`, String(error)),
    );
  } else {
    new MacvlanOverlay("overlay", args);
  }
}
