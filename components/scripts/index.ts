// Pure renderers of the host scripts (no Pulumi here): components call these and hand the text to
// remote commands.

export * from "./shell";
export * from "./managedFile";
export * from "./persistence";
export * from "./promiscuousMode";
export * from "./vlanSubinterface";
export * from "./natRouter";
export * from "./connectivityCheck";
export * from "./dockerEngine";
export * from "./hostShim";
