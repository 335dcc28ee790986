// Every meaning rule, in the order they run: a rule may skip a value an earlier one rejected.

import * as addresses from "./addresses";
import * as credentials from "./credentials";
import * as hostShims from "./hostShims";
import * as hostKeys from "./hostKeys";
import * as management from "./management";
import * as names from "./names";
import * as references from "./references";
import * as router from "./router";
import type { Rule } from "./rule";
import * as uniqueness from "./uniqueness";

export type { Rule } from "./rule";

export const RULES: readonly Rule[] = [
  credentials.oneKeySource,
  hostKeys.hostKeysPinned,
  addresses.subnetOnNetworkAddress,
  addresses.subnetLeavesRoom,
  addresses.subnetNotSpecial,
  addresses.gatewayInSubnet,
  uniqueness.vlanIdsUnique,
  uniqueness.networkNamesUnique,
  names.networkNameAllowed,
  addresses.subnetsDisjoint,
  references.vlanAddressKeyDefined,
  addresses.vlanAddressUsable,
  references.containerVlanDefined,
  names.containerNameLength,
  addresses.containerIpUsable,
  uniqueness.hostNamesUnique,
  uniqueness.sshEndpointsUnique,
  uniqueness.containerNamesUnique,
  uniqueness.containerKeysUnique,
  router.gatewaysOnlyOnRouter,
  router.routerAddressIsGateway,
  uniqueness.vlanAddressesDistinct,
  uniqueness.hostAddressNotContainerIp,
  addresses.hostAddressOnOneVlan,
  management.managementAddressesOutsideVlans,
  router.oneRouter,
  router.routerRunsNoContainers,
  router.dockerHostPresent,
  router.routerSettingsNeedRouter,
  router.routerHoldsEveryGateway,
  names.trunkNameAllowed,
  names.deviceNamesFit,
  names.passthruOnePerParent,
  hostShims.hostShimUsable,
];
