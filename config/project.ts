// The project's name: the namespace of its config keys (`macvlan-overlay:hosts`). No Pulumi import,
// so the validate CLI can use it without loading the SDK.
export const PROJECT = "macvlan-overlay";
