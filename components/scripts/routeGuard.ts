// The guard that keeps a script from cutting off the operator: before an address is added to a link
// (or a link with an address comes up), the route back to the SSH client must not move onto that link.
// Validation refuses configs that would do it; this catches what config cannot know (the operator's
// own address, routes made by hand).

import { shellFunction } from "./scriptBuilder";
import { FAIL } from "./shell";

/**
 * `guard_route_back DEVICE ADDRESS/PREFIX` exits through `fail` when the connected route of
 * ADDRESS/PREFIX on DEVICE would become the best route to the client named in $SSH_CONNECTION;
 * without an SSH session (a boot unit) or with an IPv6 client it does nothing. The awk program prints
 * "outside" when the client is not in ADDRESS/PREFIX, else the most specific main-table route to it
 * as '<prefix length> <device>' (nothing when there is none). Dotted quads become numbers below 2^32,
 * exact in awk's doubles; dividing by 2^(32 - prefix) keeps the network part.
 */
export const GUARD_ROUTE_BACK = shellFunction(
  "guard_route_back",
  [
    "guard_route_back() {",
    "  [ -n \"${SSH_CONNECTION:-}\" ] || return 0",
    "  guard_client=${SSH_CONNECTION%% *}",
    "  case $guard_client in *:*) return 0 ;; esac",
    "  guard_best=$(ip -4 -o route show table main match \"$guard_client\" | awk -v client=\"$guard_client\" -v cidr=\"$2\" '",
    "    function num(ip, o) { split(ip, o, \".\"); return ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4] }",
    "    { p = ($1 ~ /^[0-9]/ || $1 == \"default\") ? $1 : $2",
    "      len = p == \"default\" ? 0 : index(p, \"/\") ? substr(p, index(p, \"/\") + 1) + 0 : 32",
    "      dev = \"-\"; for (i = 2; i < NF; i++) if ($i == \"dev\") dev = $(i + 1)",
    "      if (bestdev == \"\" || len > best) { best = len; bestdev = dev } }",
    "    END { split(cidr, net, \"/\"); size = 2 ^ (32 - net[2])",
    "      if (int(num(client) / size) != int(num(net[1]) / size)) print \"outside\"; else if (bestdev != \"\") print best, bestdev }')",
    "  [ \"$guard_best\" != outside ] || return 0",
    "  guard_best_len=${guard_best%% *}",
    "  guard_best_dev=${guard_best#* }",
    "  [ \"$guard_best_dev\" != \"$1\" ] || return 0",
    "  if [ -z \"$guard_best\" ] || [ \"${2#*/}\" -ge \"$guard_best_len\" ]; then",
    "    fail \"$1: adding $2 would move the route back to this SSH session's client $guard_client onto $1 (now via ${guard_best_dev:-no route}, /${guard_best_len:-?}) and cut the connection; nothing was changed on $1\"",
    "  fi",
    "}",
  ],
  { calls: [FAIL] },
);
