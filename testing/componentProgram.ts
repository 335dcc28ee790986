// Test code: a program that is only `new MacvlanOverlay("overlay", args)`, as a consumer's program
// is; the arguments come from the JSON file MACVLAN_OVERLAY_COMPONENT_ARGS names, the key text made a
// secret as a consumer's secret config arrives.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { MacvlanOverlay, type MacvlanOverlayArgs } from "../components/macvlanOverlay";

export const COMPONENT_ARGS_VARIABLE = "MACVLAN_OVERLAY_COMPONENT_ARGS";

const file = process.env[COMPONENT_ARGS_VARIABLE];
if (file !== undefined) {
  const args = JSON.parse(fs.readFileSync(file, "utf8")) as MacvlanOverlayArgs;
  new MacvlanOverlay("overlay", { ...args, sshPrivateKey: pulumi.secret(args.sshPrivateKey) });
}
