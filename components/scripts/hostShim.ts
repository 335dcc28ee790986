// The host's way to its own macvlan containers: a macvlan interface (mode bridge) of its own on the
// VLAN's parent link, with one address in the VLAN's subnet and a host route to each of the host's
// containers on that VLAN. macvlan never lets a parent talk to its children; a sibling may.
// The shim is entirely ours: create makes it (never adopts a link of that name), an update converges
// its parent, address and routes, delete removes the link and, with it, its address and routes.

import { bootFragment, bootFragmentPath, createWithoutBootUnit, dropFragment, dropStaleFragment, writeFragment } from "./bootUnit";
import { type Confirmation, confirmableConverge } from "./confirm";
import { concernDelete } from "./concernScript";
import { buildScript, shellFunction, steps } from "./scriptBuilder";
import {
  BEGIN_TRANSACTION,
  COMMIT,
  FAIL,
  FORGET,
  type HostScript,
  RECORD,
  RECORDED,
  SAY,
  shellQuote,
  STATE_DIR,
  UNDO_PUSH,
} from "./shell";

export interface HostShimScriptArgs {
  /** The shim interface ("mvo-shim10"). */
  readonly device: string;
  /** The VLAN link it sits on ("ens33.10"). */
  readonly parent: string;
  /** The host's address on the shim, without prefix ("172.18.0.250"); it gets /32. */
  readonly address: string;
  /** The host's containers on the VLAN, each reached by a /32 route through the shim. Default none. */
  readonly containerIps?: readonly string[];
  /** Write the boot fragment that makes the shim again at boot (the host has the boot unit). Default false. */
  readonly boot?: boolean;
  /** The stack's confirmWithinSeconds: an in-place update arms a revert that far ahead (confirm.ts). Default 0: off. */
  readonly confirmWithinSeconds?: number;
}

function confirmation(args: { readonly device: string; readonly confirmWithinSeconds?: number }): Confirmation {
  return { id: `shim-${args.device}`, withinSeconds: args.confirmWithinSeconds ?? 0 };
}

const RECORD_PREFIX = "shim-";
const RECORD_SUFFIX = ".before";

export { hostShimDevice } from "../../topology/hostShimName";

/** The record a create writes before it makes the shim (`link=absent`). */
export function hostShimStateFile(device: string): string {
  return `${STATE_DIR}/${RECORD_PREFIX}${device}${RECORD_SUFFIX}`;
}

/** The shim device a record in STATE_DIR belongs to, or undefined for another resource's record. */
export function shimDeviceOfRecord(record: string): string | undefined {
  if (!record.startsWith(RECORD_PREFIX) || !record.endsWith(RECORD_SUFFIX)) return undefined;
  const device = record.slice(RECORD_PREFIX.length, -RECORD_SUFFIX.length);
  return device === "" ? undefined : device;
}

const LINK_EXISTS = shellFunction("link_exists", ["link_exists() { ip link show dev \"$1\" >/dev/null 2>&1; }"]);
const SHIM_PARENT = shellFunction("shim_parent", ["shim_parent() { ip -o link show dev \"$SHIM\" | sed -n 's/^[0-9]*: [^@:]*@\\([^:]*\\):.*/\\1/p'; }"]);
const SHIM_IS_MACVLAN = shellFunction("shim_is_macvlan", ["shim_is_macvlan() { ip -d -o link show dev \"$SHIM\" | grep -q ' macvlan mode bridge '; }"]);
const DELETE_SHIM = shellFunction("delete_shim", ["delete_shim() { if link_exists \"$SHIM\"; then ip link del dev \"$SHIM\"; fi; }"], { calls: [LINK_EXISTS] });
const MAKE_SHIM = shellFunction(
  "make_shim",
  ["make_shim() {", "  ip link add link \"$PARENT\" name \"$SHIM\" type macvlan mode bridge", "  undo_push delete_shim", "}"],
  { calls: [UNDO_PUSH, DELETE_SHIM] },
);

/** Derived from the header, the same for every shim: its record. */
const RECORD_NAME = `BEFORE="$STATE_DIR/${RECORD_PREFIX}$SHIM${RECORD_SUFFIX}"`;

function fragmentPath(device: string): string {
  return bootFragmentPath(25, `shim-${device}`);
}

function renderConverge(args: HostShimScriptArgs): string {
  const { parent, address } = args;
  const routes = [...new Set(args.containerIps ?? [])].sort();
  const boot = args.boot === true;
  return confirmableConverge(confirmation(args), (confirm) => {
  const body = steps(
    confirm.guard,
    RECORD_NAME,
    BEGIN_TRANSACTION,
    "# Preflight: nothing changes on the host until these pass.",
    "link_exists \"$PARENT\" || fail \"$SHIM: parent interface $PARENT does not exist\"",
    "if link_exists \"$SHIM\" && ! recorded \"$BEFORE\" link=absent; then",
    "  fail \"$SHIM exists and was not made by macvlan-overlay; refusing to change it\"",
    "fi",
    confirm.arm,
    "if [ ! -f \"$BEFORE\" ]; then",
    "  record \"$BEFORE\" link=absent",
    "  say \"$SHIM: recorded previous state (link absent)\"",
    "fi",
    "if ! link_exists \"$SHIM\"; then",
    "  make_shim",
    "  say \"$SHIM: macvlan shim created on $PARENT\"",
    "elif [ \"$(shim_parent)\" != \"$PARENT\" ] || ! shim_is_macvlan; then",
    "  # A macvlan's parent cannot change: the shim is made again (only the host's own reach pauses).",
    "  old_parent=$(shim_parent)",
    "  ip link del dev \"$SHIM\"",
    "  undo_push ip link add link \"$old_parent\" name \"$SHIM\" type macvlan mode bridge",
    "  make_shim",
    "  say \"$SHIM: made again on $PARENT (was on $old_parent)\"",
    "else",
    "  say \"$SHIM: exists on $PARENT\"",
    "fi",
    "for found in $(ip -o -4 addr show dev \"$SHIM\" | awk '{print $4}'); do",
    "  [ \"$found\" != \"$ADDRESS\" ] || continue",
    "  undo_push ip addr add \"$found\" dev \"$SHIM\"",
    "  ip addr del \"$found\" dev \"$SHIM\"",
    "  say \"$SHIM: address $found removed (no longer wanted)\"",
    "done",
    "if ip -o -4 addr show dev \"$SHIM\" | grep -qF \" inet $ADDRESS \"; then",
    "  say \"$SHIM: address $ADDRESS already present\"",
    "else",
    "  undo_push ip addr del \"$ADDRESS\" dev \"$SHIM\"",
    "  ip addr add \"$ADDRESS\" dev \"$SHIM\"",
    "  say \"$SHIM: address $ADDRESS added\"",
    "fi",
    "if ip -o link show dev \"$SHIM\" | grep -q '[<,]UP[,>]'; then",
    "  say \"$SHIM: already up\"",
    "else",
    "  undo_push ip link set dev \"$SHIM\" down",
    "  ip link set dev \"$SHIM\" up",
    "  say \"$SHIM: up\"",
    "fi",
    "# Routes through the shim are all ours: the unwanted go, the missing come.",
    "for found in $(ip -4 route show dev \"$SHIM\" | awk '$1 ~ /^[0-9.]+(\\/32)?$/ {print $1}'); do",
    "  found=${found%/32}",
    "  case \" $ROUTES \" in *\" $found \"*) continue ;; esac",
    "  undo_push ip route add \"$found/32\" dev \"$SHIM\"",
    "  ip route del \"$found/32\" dev \"$SHIM\"",
    "  say \"$SHIM: route to $found removed (no longer wanted)\"",
    "done",
    "for ip in $ROUTES; do",
    "  if ip -4 route show dev \"$SHIM\" | awk '{print $1}' | grep -qxE \"$ip(/32)?\"; then",
    "    say \"$SHIM: route to $ip present\"",
    "  else",
    "    undo_push ip route del \"$ip/32\" dev \"$SHIM\"",
    "    ip route add \"$ip/32\" dev \"$SHIM\"",
    "    say \"$SHIM: route to $ip added\"",
    "  fi",
    "done",
    boot ? writeFragment("FRAGMENT_TEXT") : dropStaleFragment(),
    confirm.file,
    "commit",
    { lines: [], uses: [LINK_EXISTS, FAIL, RECORDED, RECORD, SAY, MAKE_SHIM, SHIM_PARENT, SHIM_IS_MACVLAN, UNDO_PUSH, COMMIT] },
  );
  return buildScript({
    title: "host shim (create or update)",
    values: [
      ["SHIM", args.device],
      ["PARENT", parent],
      ["ADDRESS", `${address}/32`],
      ["ROUTES", routes.join(" ")],
      ["FRAGMENT", fragmentPath(args.device)],
      ...(boot ? [["FRAGMENT_TEXT", hostShimBootFragment(args).content] as const] : []),
      ["STATE_DIR", STATE_DIR],
      ...confirm.values,
    ],
    uses: body.uses,
    body: body.lines,
  });
  });
}

/** The shim's boot fragment (25: after the VLAN links it sits on, before the router's rules). */
export function hostShimBootFragment(args: HostShimScriptArgs) {
  return bootFragment(25, `shim-${args.device}`, hostShimBootFragmentBody(args));
}

/**
 * The delete needs only the device (it reads the record; a fragment is removed by its path alone),
 * so a cleanup without state can render it.
 */
export function renderHostShimDelete(device: string, confirmWithinSeconds = 0): string {
  const body = steps(
    "if [ ! -f \"$BEFORE\" ]; then",
    "  say \"$SHIM: no record of a create, left as it is\"",
    "elif ! recorded \"$BEFORE\" link=absent; then",
    "  say \"$SHIM: record does not say create made it, left as it is\"",
    "elif link_exists \"$SHIM\"; then",
    "  ip link del dev \"$SHIM\"",
    "  say \"$SHIM: deleted with its address and routes (create made it)\"",
    "else",
    "  say \"$SHIM: already gone\"",
    "fi",
    dropFragment(),
    "if [ -f \"$BEFORE\" ]; then",
    "  forget \"$BEFORE\"",
    "fi",
    { lines: [], uses: [SAY, RECORDED, LINK_EXISTS, FORGET] },
  );
  return concernDelete({
    title: "host shim (delete)",
    confirmation: confirmation({ device, confirmWithinSeconds }),
    recordNames: RECORD_NAME,
    values: [["SHIM", device], ["FRAGMENT", fragmentPath(device)], ["STATE_DIR", STATE_DIR]],
    body,
  });
}

export function renderHostShim(args: HostShimScriptArgs): HostScript {
  return {
    create: createWithoutBootUnit("host shim (create or update)", renderConverge(args), args.confirmWithinSeconds),
    delete: renderHostShimDelete(args.device, args.confirmWithinSeconds),
  };
}

/**
 * The shim's boot fragment body (for `bootFragment(order, name, body)` in bootUnit.ts): the link,
 * address, up and routes again after a reboot; each command tolerates what is already there.
 */
export function hostShimBootFragmentBody(args: HostShimScriptArgs): string {
  const { parent, address } = args;
  const shim = shellQuote(args.device);
  return [
    `ip link show dev ${shim} >/dev/null 2>&1 || ip link add link ${shellQuote(parent)} name ${shim} type macvlan mode bridge`,
    `ip addr replace ${shellQuote(`${address}/32`)} dev ${shim}`,
    `ip link set dev ${shim} up`,
    ...[...new Set(args.containerIps ?? [])].sort().map((ip) => `ip route replace ${shellQuote(`${ip}/32`)} dev ${shim}`),
    "",
  ].join("\n");
}
