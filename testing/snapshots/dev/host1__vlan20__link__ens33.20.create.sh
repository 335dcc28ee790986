#!/bin/sh
# macvlan-overlay: VLAN subinterface (create or update)
# Runs its boot fragment, held once below, which writes itself to its file as it commits.
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
boot_fragment_text=
while IFS= read -r fragment_line; do boot_fragment_text="$boot_fragment_text$fragment_line
"; done <<'MACVLAN_OVERLAY_BOOT_FRAGMENT'
# Managed by macvlan-overlay; removed by pulumi destroy.
# macvlan-overlay: VLAN subinterface (create, update, boot)
# Brought back at boot by macvlan-overlay.service, which runs this text.
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022
DEVICE='ens33.20'
PARENT='ens33'
VLAN_ID='20'
ADDRESS='192.168.23.10/24'
FILE_1='/etc/sysconfig/network-scripts/ifcfg-ens33.20'
FILE_1_TEXT='# Managed by macvlan-overlay; removed by pulumi destroy.
BOOTPROTO=none
NAME=ens33.20
DEVICE=ens33.20
ONBOOT=yes
IPADDR=192.168.23.10
NETWORK=192.168.23.0
PREFIX=24
VLAN=yes
'
FRAGMENT='/etc/macvlan-overlay/boot.d/20-vlan-ens33.20.sh'
STATE_DIR='/var/lib/macvlan-overlay'
REVERT_ID='vlan-ens33.20'
FINGERPRINT='621a222285ef0268'
CONFIRM_WITHIN='600'
HOST_LOCK='/run/macvlan-overlay.lock'
HOST_LOCK_WAIT='300'
REVERT_DIR='/var/lib/macvlan-overlay/revert'
REVERTED='/var/lib/macvlan-overlay/reverted'
MARKER='# Managed by macvlan-overlay; removed by pulumi destroy.'
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }
lock_host() {
  command -v flock >/dev/null 2>&1 ||
    fail 'flock (util-linux) is not installed; the macvlan-overlay scripts of a host take turns with it; nothing was changed'
  while :; do
    exec 9>>"$HOST_LOCK"
    flock -w "$HOST_LOCK_WAIT" 9 ||
      fail "waited $HOST_LOCK_WAIT s for $HOST_LOCK: another macvlan-overlay script on this host still holds it (fuser -v $HOST_LOCK names it); nothing was changed"
    # Still the file at that path, not one the last holder removed as it let go?
    [ "$(stat -L -c %d:%i /proc/self/fd/9)" != "$(stat -c %d:%i "$HOST_LOCK" 2>/dev/null)" ] || break
    exec 9>&-
  done
  host_locked=yes
}
host_locked=no
unlock_host() { [ "$host_locked" = no ] || { rm -f "$HOST_LOCK"; exec 9>&-; host_locked=no; }; }
revert_mode() {
  if [ "$REVERT_MODE" = undo ]; then set +e; eval "$REVERT_JOURNAL"; return 0; fi
  while revert_at=$(cat "$REVERT_DIR/deadline" 2>/dev/null) && [ "$(date +%s)" -lt "$revert_at" ]; do
    sleep "$((revert_at - $(date +%s)))" || sleep 1
  done
  trap unlock_host EXIT
  lock_host
  [ -f "$REVERT_DIR/deadline" ] || return 0
  reverted=
  for revert_file in $(ls -r "$REVERT_DIR"); do
    case $revert_file in *.revert) ;; *) continue ;; esac
    sh "$REVERT_DIR/$revert_file" || :
    rm -f "$REVERT_DIR/$revert_file"
    revert_name=${revert_file#*-}
    reverted="$reverted ${revert_name%.revert}"
  done
  [ -z "$reverted" ] || echo "$(date -u +%FT%TZ) reverted:$reverted" >"$REVERTED"
  rm -f "$REVERT_DIR/deadline" "$REVERT_DIR/timer" "$REVERT_DIR/timer.pid" "$REVERT_DIR/timer.unit"
  rmdir "$REVERT_DIR" "$STATE_DIR" 2>/dev/null || :
}
committed=no
on_exit() {
  exit_status=$?
  trap - EXIT
  trap '' HUP INT TERM PIPE
  if [ "$committed" = no ]; then
    set +e
    [ -z "${UNDO:-}" ] || { eval "$UNDO"; echo 'rollback: the changes this run had made are undone' >&2; }
    [ "$exit_status" -ne 0 ] || exit_status=1
  fi
  unlock_host
  exit "$exit_status"
}
is_ours() {
  first_line=
  [ -f "$1" ] && { IFS= read -r first_line <"$1" || :; } && [ "$first_line" = "$MARKER" ]
}
refuse_foreign() {
  [ ! -e "$1" ] || is_ours "$1" || fail "$1 exists and is not managed by macvlan-overlay (no marker line); refusing to change it"
}
guard_route_back() {
  [ -n "${SSH_CONNECTION:-}" ] || return 0
  guard_client=${SSH_CONNECTION%% *}
  case $guard_client in *:*) return 0 ;; esac
  guard_best=$(ip -4 -o route show table main match "$guard_client" | awk -v client="$guard_client" -v cidr="$2" '
    function num(ip, o) { split(ip, o, "."); return ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4] }
    { p = ($1 ~ /^[0-9]/ || $1 == "default") ? $1 : $2
      len = p == "default" ? 0 : index(p, "/") ? substr(p, index(p, "/") + 1) + 0 : 32
      dev = "-"; for (i = 2; i < NF; i++) if ($i == "dev") dev = $(i + 1)
      if (bestdev == "" || len > best) { best = len; bestdev = dev } }
    END { split(cidr, net, "/"); size = 2 ^ (32 - net[2])
      if (int(num(client) / size) != int(num(net[1]) / size)) print "outside"; else if (bestdev != "") print best, bestdev }')
  [ "$guard_best" != outside ] || return 0
  guard_best_len=${guard_best%% *}
  guard_best_dev=${guard_best#* }
  [ "$guard_best_dev" != "$1" ] || return 0
  if [ -z "$guard_best" ] || [ "${2#*/}" -ge "$guard_best_len" ]; then
    fail "$1: adding $2 would move the route back to this SSH session's client $guard_client onto $1 (now via ${guard_best_dev:-no route}, /${guard_best_len:-?}) and cut the connection; nothing was changed on $1"
  fi
}
recorded() { [ -f "$1" ] && grep -qxF -- "$2" "$1"; }
start_revert_timer() {
  if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then
    echo "macvlan-overlay-revert-$1" >"$REVERT_DIR/timer.unit"
    systemd-run --quiet --unit="macvlan-overlay-revert-$1" --on-active="$2" /bin/sh "$REVERT_DIR/timer"
  else
    setsid sh "$REVERT_DIR/timer" </dev/null >/dev/null 2>&1 9>&- &
    echo "$!" >"$REVERT_DIR/timer.pid"
  fi
}
say() { printf '%s\n' "$*"; }
arming=no
arm_revert() {
  [ "$CONFIRM_WITHIN" -gt 0 ] && [ -n "${boot_fragment_text:-}" ] && [ -f "$APPLIED" ] || return 0
  ! recorded "$APPLIED" "$FINGERPRINT" || return 0
  arming=yes
  [ ! -f "$REVERT_DIR/deadline" ] || return 0
  mkdir -p "$REVERT_DIR"
  rm -f "$REVERTED"
  revert_at=$(($(date +%s) + CONFIRM_WITHIN))
  { echo REVERT_MODE=timer; printf '%s' "$boot_fragment_text"; } >"$REVERT_DIR/timer"
  echo "$revert_at" >"$REVERT_DIR/deadline"
  start_revert_timer "$revert_at" "$CONFIRM_WITHIN"
  say "armed: this host reverts this update at $(date -u -d "@$revert_at" +%FT%TZ) unless pulumi up confirms it"
}
dir_record() { printf '%s/created-dir%s@%s' "$STATE_DIR" "$(printf '%s' "$1" | tr / _)" "$2"; }
quote_word() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
undo_run() { "$@" >/dev/null 2>&1 || printf 'rollback: could not undo: %s\n' "$*" >&2; }
UNDO=
undo_push() {
  undo_line=undo_run
  for undo_word in "$@"; do undo_line="$undo_line $(quote_word "$undo_word")"; done
  UNDO="$undo_line
$UNDO"
}
release_state_dir() { rmdir "$STATE_DIR" 2>/dev/null || true; }
make_state_dir() { [ -d "$STATE_DIR" ] || { undo_push release_state_dir; mkdir -p "$STATE_DIR"; }; }
restore_file() { mkdir -p "$(dirname "$1")"; printf '%s' "${2%x}" >"$1.tmp.$$"; chmod "$3" "$1.tmp.$$"; mv -f "$1.tmp.$$" "$1"; }
journal_file() {
  if [ -f "$1" ]; then undo_push restore_file "$1" "$(cat "$1"; printf x)" "$(stat -c %a "$1")"; else undo_push rm -f "$1"; fi
}
record() {
  record_file=$1
  shift
  make_state_dir
  journal_file "$record_file"
  # STATE_DIR just removed by a delete of a version before the host lock: made again.
  printf '%s\n' "$@" 2>/dev/null >"$record_file.tmp.$$" || { make_state_dir; printf '%s\n' "$@" >"$record_file.tmp.$$"; }
  mv -f "$record_file.tmp.$$" "$record_file"
}
remove_made_dirs() {
  made_dir=$1
  while [ -d "$made_dir" ] && rmdir "$made_dir" 2>/dev/null && [ "$made_dir" != "$2" ]; do made_dir=$(dirname "$made_dir"); done
}
ensure_dir() {
  dir_made=$(dir_record "$1" "$2")
  if [ -d "$1" ]; then
    [ ! -f "$dir_made" ] || return 0
    for other_record in "${dir_made%@*}"@* "${dir_made%@*}"; do
      [ -f "$other_record" ] || continue
      top_dir=
      IFS= read -r top_dir <"$other_record" || :
      [ -z "$top_dir" ] || record "$dir_made" "$top_dir"
      return 0
    done
    return 0
  fi
  top_dir=$1
  while [ ! -d "$(dirname "$top_dir")" ]; do top_dir=$(dirname "$top_dir"); done
  record "$dir_made" "$top_dir"
  mkdir -p "$1"
  undo_push remove_made_dirs "$1" "$top_dir"
  say "$1: directory created"
}
put_file() {
  ensure_dir "${1%/*}" "$3"
  refuse_foreign "$1"
  if [ -f "$1" ] && [ "$(cat "$1"; printf x)" = "$2"x ]; then say "$1: unchanged"; return 0; fi
  put_state=written
  [ ! -f "$1" ] || put_state='rewritten (content differed)'
  journal_file "$1"
  put_tmp="${1%/*}/.${1##*/}.macvlan-overlay.tmp.$$"
  printf '%s' "$2" >"$put_tmp"
  mv -f "$put_tmp" "$1"
  say "$1: $put_state"
}
reload_nm_profiles() {
  command -v nmcli >/dev/null 2>&1 && [ "$(nmcli -t -f RUNNING general 2>/dev/null)" = running ] || return 0
  nmcli connection reload
  say 'nmcli: connection profiles reloaded'
}
ifcfg_read_here() {
  [ ! -f '/etc/sysconfig/network-scripts/ifup-eth' ] || return 0
  for plugin in /usr/lib*/NetworkManager/*/libnm-settings-plugin-ifcfg-rh.so; do [ ! -f "$plugin" ] || return 0; done
  return 1
}
has_address() { ip -o addr show dev "$1" | grep -qF " inet $2 "; }
file_revert() {
  recorded "$APPLIED" "$FINGERPRINT" || record "$APPLIED" "$FINGERPRINT"
  [ ! -f "$REVERTED" ] || [ -z "${boot_fragment_text:-}" ] || { sed -i "s/ $REVERT_ID\.[0-9a-f]*//" "$REVERTED"; grep -q 'reverted: .' "$REVERTED" || rm -f "$REVERTED"; }
  [ "$arming" = yes ] || return 0
  revert_file="$REVERT_DIR/$(date +%s%N)-$REVERT_ID.$FINGERPRINT.revert"
  undo_push rm -f "$revert_file"
  { echo REVERT_MODE=undo; printf 'REVERT_JOURNAL=%s\n' "$(quote_word "$UNDO")"; printf '%s' "$boot_fragment_text"; } >"$revert_file"
}
link_exists() { ip link show dev "$1" >/dev/null 2>&1; }
link_kind() {
  ip -d -o link show dev "$1" | tr ' ' '\n' | grep -x -m 1 -E 'vlan|veth|macvlan|macvtap|ipvlan|ipvtap|bridge|bond|team|dummy|vxlan|geneve|tun|gre|gretap|ipip|sit|vrf|wireguard|ifb|macsec|netdevsim' || echo device
}
vlan_id() { ip -d -o link show dev "$1" | sed -n 's/.* vlan protocol [^ ]* id \([0-9][0-9]*\).*/\1/p'; }
link_up() { ip -o link show dev "$1" | grep -q '[<,]UP[,>]'; }
note() { say "$DEVICE: $*"; }
delete_link_if_present() { ! link_exists "$DEVICE" || ip link del dev "$DEVICE"; }
drop_address() {
  if link_exists "$DEVICE" && has_address "$DEVICE" "$1"; then
    undo_push ip addr add "$1" dev "$DEVICE"
    ip addr del "$1" dev "$DEVICE"
    note "address $1 removed"
  else
    note "address $1 already absent"
  fi
}
forget() { journal_file "$1"; rm -f "$1"; }
forget_added_address() {
  added=
  IFS= read -r added <"$ADDED" || :
  [ -z "$added" ] || drop_address "$added"
  forget "$ADDED"
}
commit() { committed=yes; UNDO=; }
APPLIED="$STATE_DIR/applied-$REVERT_ID"
[ -z "${REVERT_MODE:-}" ] || { revert_mode; exit 0; }
BEFORE="$STATE_DIR/vlan-$DEVICE.before"
ADDED="$STATE_DIR/vlan-$DEVICE.address"
OWNER="vlan-$DEVICE"
trap on_exit EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM
lock_host
# Preflight: nothing changes on the host until these pass.
refuse_foreign "$FILE_1"
guard_route_back "$DEVICE" "$ADDRESS"
if link_exists "$DEVICE"; then
  if [ "$(link_kind "$DEVICE")" = vlan ]; then
    found_id=$(vlan_id "$DEVICE")
    [ "$found_id" = "$VLAN_ID" ] || fail "$DEVICE: existing 802.1Q link has id $found_id, expected $VLAN_ID"
  fi
else
  link_exists "$PARENT" || fail "$DEVICE: parent interface $PARENT does not exist"
fi
arm_revert
if [ ! -f "$BEFORE" ]; then
  if ! link_exists "$DEVICE"; then
    record "$BEFORE" link=absent up=no
    note "recorded previous state (link absent)"
  elif link_up "$DEVICE"; then
    record "$BEFORE" link=present up=yes
    note "recorded previous state (link present, up)"
  else
    record "$BEFORE" link=present up=no
    note "recorded previous state (link present, down)"
  fi
fi
files_written=no
if link_exists "$DEVICE"; then
  if recorded "$BEFORE" link=absent; then
    note 'vlan link: exists (made by an earlier create)'
  else
    note 'vlan link: adopted existing '"$(link_kind "$DEVICE")"
  fi
elif [ -f '/etc/sysconfig/network-scripts/ifup-eth' ] && command -v ifup >/dev/null 2>&1; then
  put_file "$FILE_1" "$FILE_1_TEXT" "$OWNER"
  files_written=yes
  undo_push delete_link_if_present
  # 9>&-: whatever the tool leaves running must not keep the host lock (fd 9).
  ifup "$DEVICE" 9>&- || fail "$DEVICE: "'ifup failed'
  note 'vlan link: created (802.1Q)'
  note "brought up by "'ifup'
else
  if ! link_error=$(ip link add link "$PARENT" name "$DEVICE" type vlan id "$VLAN_ID" 2>&1); then
    fail "$DEVICE: cannot create the 802.1Q link on $PARENT: $link_error (does the kernel have 802.1Q, module 8021q?)"
  fi
  undo_push delete_link_if_present
  note 'vlan link: created (802.1Q)'
fi
if [ "$files_written" = no ]; then
  put_file "$FILE_1" "$FILE_1_TEXT" "$OWNER"
fi
reload_nm_profiles
if ! ifcfg_read_here; then
  note "nothing on this host reads ifcfg files (no network-scripts ifup-eth, no NetworkManager ifcfg-rh plugin); macvlan-overlay.service brings the link back at boot"
fi
if [ -f "$ADDED" ] && ! recorded "$ADDED" "$ADDRESS"; then
  forget_added_address
fi
if has_address "$DEVICE" "$ADDRESS"; then
  note "address $ADDRESS already present"
else
  record "$ADDED" "$ADDRESS"
  undo_push ip addr del "$ADDRESS" dev "$DEVICE"
  ip addr add "$ADDRESS" dev "$DEVICE"
  note "address $ADDRESS added"
fi
if link_up "$DEVICE"; then
  note "already up"
else
  undo_push ip link set dev "$DEVICE" down
  ip link set dev "$DEVICE" up
  note "up (was down)"
fi
if [ -n "${boot_fragment_text+set}" ]; then
  fragment_owner=boot-${FRAGMENT##*/}
  # shellcheck disable=SC2154 # set by the create that runs this text
  put_file "$FRAGMENT" "$boot_fragment_text" "${fragment_owner%.sh}"
fi
file_revert
commit
MACVLAN_OVERLAY_BOOT_FRAGMENT
eval "$boot_fragment_text"
