// The validated topology: its types, and the one way to build it from raw stack config.
export * from "./types";
export { parseTopology, formatProblems } from "./parse";
