// The plugin package's entry (package.json `main`): the components other Pulumi programs use, in any
// language, through `pulumi package add`. It runs nothing; the stack program is index.ts (Pulumi.yaml).
export { MacvlanOverlay } from "./components/macvlanOverlay";
export type {
  ContainerSpec,
  ContainerState,
  HostSpec,
  HostState,
  MacvlanOverlayArgs,
  PingResult,
  RouterSpec,
  SshProxySpec,
  VlanSpec,
} from "./components/macvlanOverlay";
