export * from "./busyboxContainer";
export * from "./connectivityCheck";
export * from "./macvlanNetwork";
export * from "./natRouter";
export * from "./overlay";
export * from "./overlayHost";
export * from "./promiscuousMode";
export * from "./vlanSubinterface";
