// The name of a host shim interface, shared by the topology (which assigns it) and the scripts.

/** The shim interface of a VLAN: `mvo-shim<id>` (at most 12 characters, within Linux's 15). */
export function hostShimDevice(vlan: number): string {
  return `mvo-shim${vlan}`;
}
