// The guard that keeps a script from cutting off the operator: before an address is added to a link
// (or a link with an address comes up), the route back to the SSH client must not move onto that link.
// Validation refuses configs that would do it; this catches what config cannot know (the operator's
// own address, routes made by hand).

/**
 * Shell functions for host scripts. `guard_route_back DEVICE ADDRESS/PREFIX` exits through `fail`
 * when the connected route of ADDRESS/PREFIX on DEVICE would become the best route to the client
 * named in $SSH_CONNECTION; without an SSH session (a boot unit) or with an IPv6 client it does nothing.
 * Needs `fail` from the prelude.
 */
export function routeGuardFunctions(): string[] {
  return [
    "ip4_num() {",
    "  guard_ifs=$IFS",
    "  IFS=.",
    "  # shellcheck disable=SC2086 # splitting the dotted quad into its octets is the point",
    "  set -- $1",
    "  IFS=$guard_ifs",
    "  echo $(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 ))",
    "}",
    "ip4_in_prefix() {",
    "  guard_len=${2#*/}",
    "  guard_mask=0",
    "  [ \"$guard_len\" = 0 ] || guard_mask=$(( (0xFFFFFFFF << (32 - guard_len)) & 0xFFFFFFFF ))",
    "  [ $(( $(ip4_num \"$1\") & guard_mask )) = $(( $(ip4_num \"${2%/*}\") & guard_mask )) ]",
    "}",
    "# The most specific main-table route to $1, as '<prefix length> <device>'.",
    "best_route() {",
    "  ip -4 -o route show table main match \"$1\" | awk '",
    "    { p = $1; if (p !~ /^[0-9]/ && p != \"default\") p = $2",
    "      len = 32; if (p == \"default\") len = 0; else if (index(p, \"/\")) len = substr(p, index(p, \"/\") + 1) + 0",
    "      dev = \"-\"; for (i = 2; i < NF; i++) if ($i == \"dev\") dev = $(i + 1)",
    "      if (len > best) { best = len; bestdev = dev } else if (bestdev == \"\") { best = len; bestdev = dev } }",
    "    END { if (bestdev != \"\") print best, bestdev }'",
    "}",
    "guard_route_back() {",
    "  [ -n \"${SSH_CONNECTION:-}\" ] || return 0",
    "  guard_client=${SSH_CONNECTION%% *}",
    "  case $guard_client in *:*) return 0 ;; esac",
    "  ip4_in_prefix \"$guard_client\" \"$2\" || return 0",
    "  guard_best=$(best_route \"$guard_client\")",
    "  guard_best_len=${guard_best%% *}",
    "  guard_best_dev=${guard_best#* }",
    "  [ \"$guard_best_dev\" != \"$1\" ] || return 0",
    "  if [ -z \"$guard_best\" ] || [ \"${2#*/}\" -ge \"$guard_best_len\" ]; then",
    "    fail \"$1: adding $2 would move the route back to this SSH session's client $guard_client onto $1 (now via ${guard_best_dev:-no route}, /${guard_best_len:-?}) and cut the connection; nothing was changed on $1\"",
    "  fi",
    "}",
  ];
}
