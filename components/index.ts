export * from "./busyboxContainer";
export * from "./connectivityCheck";
export * from "./hostConcern";
export * from "./macvlanNetwork";
export * from "./overlay";
export * from "./overlayHost";
export * from "./plan";
export * from "./resourceNames";
