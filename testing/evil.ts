// Scripts rendered from values full of shell syntax that would touch a canary file if any of it ran.

import { renderConnectivityCheck, renderNatRouter, renderPromiscuousMode, renderVlanSubinterface } from "../components/scripts";

export function evilValue(canary: string): string {
  return `x$(touch ${canary})\`touch ${canary}\`'"; touch ${canary}; #\n touch ${canary}`;
}

export function evilScripts(canary: string): string[] {
  const evil = evilValue(canary);
  const scripts = [
    renderPromiscuousMode({ trunkInterface: evil, persistence: "network-scripts" }),
    renderVlanSubinterface({
      subinterface: {
        vlan: 10,
        parent: evil,
        device: `${evil}.10`,
        address: { cidr: evil, address: evil, prefix: 24, network: evil },
      },
      persistence: "network-scripts",
    }),
    renderNatRouter({ interfaces: [evil, "ens33.20"], masquerade: true }),
  ].flatMap((script) => [script.create, script.delete]);
  scripts.push(renderConnectivityCheck({ probes: [{ from: evil, to: evil, toIp: evil, kind: "routed", expectReachable: true }] }));
  return scripts;
}
