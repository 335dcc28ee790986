#!/bin/sh
# macvlan-overlay: VLAN 10 subinterface ens33.10 on ens33 (delete)
# Rendered by components/scripts; delete runs later from its stored text, so it reads only host state.
# Brought back at boot by macvlan-overlay.service (its boot fragment is this script's converge part).
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
say() { printf '%s\n' "$*"; }
umask 022
STATE_DIR='/var/lib/macvlan-overlay'
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }
DEVICE='ens33.10'
BEFORE="$STATE_DIR"/'vlan-ens33.10.before'
ADDED="$STATE_DIR"/'vlan-ens33.10.address'
UNDO=
quote_word() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
undo_push() {
  undo_line=undo_run
  for undo_word in "$@"; do undo_line="$undo_line $(quote_word "$undo_word")"; done
  UNDO="$undo_line
$UNDO"
}
# Puts FILE back as it is now (content and mode) or removes it if it does not exist yet.
journal_file() {
  if [ -f "$1" ]; then
    undo_push restore_file "$1" "$(cat "$1"; printf x)" "$(stat -c %a "$1")"
  else
    undo_push rm -f "$1"
  fi
}
restore_file() {
  mkdir -p "$(dirname "$1")"
  printf '%s' "${2%x}" >"$1.tmp.$$"
  chmod "$3" "$1.tmp.$$"
  mv -f "$1.tmp.$$" "$1"
}
undo_run() { "$@" >/dev/null 2>&1 || printf 'rollback: could not undo: %s\n' "$*" >&2; }
# The journal is shell text, newest first; its quoted words may span lines.
rollback() { eval "$UNDO"; }
# A rollback removes STATE_DIR again if this run made it and no other record is in it.
make_state_dir() {
  if [ ! -d "$STATE_DIR" ]; then
    undo_push release_state_dir
    mkdir -p "$STATE_DIR"
  fi
}
record() {
  record_file=$1
  shift
  make_state_dir
  journal_file "$record_file"
  if ! printf '%s\n' "$@" 2>/dev/null >"$record_file.tmp.$$"; then
    make_state_dir
    printf '%s\n' "$@" >"$record_file.tmp.$$"
  fi
  mv -f "$record_file.tmp.$$" "$record_file"
}
recorded() { [ -f "$1" ] && grep -qxF -- "$2" "$1"; }
# The end of a delete: STATE_DIR goes once no resource of this host keeps a record in it.
release_state_dir() { rmdir "$STATE_DIR" 2>/dev/null || true; }
forget() {
  journal_file "$1"
  rm -f "$1"
}
MARKER='# Managed by macvlan-overlay; removed by pulumi destroy.'
is_ours() {
  [ -f "$1" ] || return 1
  first_line=
  IFS= read -r first_line <"$1" || true
  [ "$first_line" = "$MARKER" ]
}
refuse_foreign() {
  if [ -e "$1" ] && ! is_ours "$1"; then
    fail "$1 exists and is not managed by macvlan-overlay (no marker line); refusing to change it"
  fi
}
put_file() {
  refuse_foreign "$1"
  if [ -f "$1" ] && [ "$(cat "$1"; printf x)" = "$2"x ]; then
    say "$1: unchanged"
    return 0
  fi
  put_state=written
  [ -f "$1" ] && put_state='rewritten (content differed)'
  journal_file "$1"
  put_tmp="$(dirname "$1")/.$(basename "$1").macvlan-overlay.tmp.$$"
  printf '%s' "$2" >"$put_tmp"
  mv -f "$put_tmp" "$1"
  say "$1: $put_state"
}
drop_file() {
  if [ ! -e "$1" ]; then
    say "$1: already absent"
  elif is_ours "$1"; then
    journal_file "$1"
    rm -f "$1"
    say "$1: removed"
  else
    say "$1: not ours (no marker line), left in place"
  fi
}
# A file of ours that this version no longer writes: removed quietly if present.
drop_stale_file() {
  is_ours "$1" || return 0
  journal_file "$1"
  rm -f "$1"
  say "$1: removed (no longer wanted)"
}
# ensure_dir DIR RECORD PREFIX: makes DIR if missing and records the topmost directory it made;
# a directory another resource of ours made (a record under PREFIX) is recorded as ours too.
ensure_dir() {
  if [ -d "$1" ]; then
    [ ! -f "$2" ] || return 0
    # ${3%@}: the one shared record of versions before per-resource records.
    for other_record in "$STATE_DIR"/"$3"* "$STATE_DIR"/"${3%@}"; do
      [ -f "$other_record" ] || continue
      top_dir=
      IFS= read -r top_dir <"$other_record" || true
      [ -z "$top_dir" ] || record "$2" "$top_dir"
      return 0
    done
    return 0
  fi
  top_dir=$1
  while [ ! -d "$(dirname "$top_dir")" ]; do top_dir=$(dirname "$top_dir"); done
  record "$2" "$top_dir"
  mkdir -p "$1"
  undo_push remove_made_dirs "$1" "$top_dir"
  say "$1: directory created"
}
# remove_made_dirs DIR TOP: removes DIR and its parents up to TOP while they are empty.
remove_made_dirs() {
  made_dir=$1
  while [ -d "$made_dir" ] && rmdir "$made_dir" 2>/dev/null; do
    [ "$made_dir" != "$2" ] || break
    made_dir=$(dirname "$made_dir")
  done
}
# release_dir DIR RECORD LEGACY_RECORD: removes DIR if empty and a create of ours made it.
release_dir() {
  [ -f "$2" ] || return 0
  top_dir=
  IFS= read -r top_dir <"$2" || true
  if [ ! -d "$1" ]; then
    :
  elif [ -n "$(ls -A "$1")" ]; then
    say "$1: still in use, left in place"
  else
    remove_made_dirs "$1" "${top_dir:-$1}"
    say "$1: directory removed (create made it)"
    [ ! -f "$3" ] || forget "$3"
  fi
  forget "$2"
}
nm_running() { command -v nmcli >/dev/null 2>&1 && [ "$(nmcli -t -f RUNNING general 2>/dev/null)" = running ]; }
reload_nm_profiles() {
  if nm_running; then
    nmcli connection reload
    say 'nmcli: connection profiles reloaded'
  fi
}
# ifup-eth: RHEL/CentOS 7 network-scripts; the ifcfg-rh plugin: NetworkManager on RHEL 8/9.
ifcfg_read_here() {
  [ -f '/etc/sysconfig/network-scripts/ifup-eth' ] && return 0
  for plugin in /usr/lib*/NetworkManager/*/libnm-settings-plugin-ifcfg-rh.so; do
    [ -f "$plugin" ] && return 0
  done
  return 1
}
link_exists() { ip link show dev "$1" >/dev/null 2>&1; }
link_up() { ip -o link show dev "$1" | grep -q '[<,]UP[,>]'; }
delete_link_if_present() { if link_exists "$DEVICE"; then ip link del dev "$DEVICE"; fi; }
link_kind() {
  ip -d -o link show dev "$1" | tr ' ' '\n' | grep -x -m 1 -E 'vlan|veth|macvlan|macvtap|ipvlan|ipvtap|bridge|bond|team|dummy|vxlan|geneve|tun|gre|gretap|ipip|sit|vrf|wireguard|ifb|macsec|netdevsim' || echo device
}
vlan_id() { ip -d -o link show dev "$1" | sed -n 's/.* vlan protocol [^ ]* id \([0-9][0-9]*\).*/\1/p'; }
has_address() { ip -o addr show dev "$1" | grep -qF " inet $2 "; }
drop_address() {
  if link_exists "$DEVICE" && has_address "$DEVICE" "$1"; then
    undo_push ip addr add "$1" dev "$DEVICE"
    ip addr del "$1" dev "$DEVICE"
    say "$DEVICE: address $1 removed"
  else
    say "$DEVICE: address $1 already absent"
  fi
}
forget_added_address() {
  added=
  IFS= read -r added <"$ADDED" || true
  [ -z "$added" ] || drop_address "$added"
  forget "$ADDED"
}
HOST_LOCK='/run/macvlan-overlay.lock'
HOST_LOCK_WAIT=300
host_locked=no
lock_host() {
  command -v flock >/dev/null 2>&1 ||
    fail 'flock (util-linux) is not installed; the macvlan-overlay scripts of a host take turns with it; nothing was changed'
  while :; do
    exec 9>>"$HOST_LOCK"
    if ! flock -w "$HOST_LOCK_WAIT" 9; then
      exec 9>&-
      fail "waited $HOST_LOCK_WAIT s for $HOST_LOCK: another macvlan-overlay script on this host still holds it (fuser -v $HOST_LOCK names it); nothing was changed"
    fi
    # Still the file at that path, not one the last holder removed as it let go?
    if [ "$(stat -L -c %d:%i /proc/self/fd/9)" = "$(stat -c %d:%i "$HOST_LOCK" 2>/dev/null)" ]; then
      host_locked=yes
      return 0
    fi
    exec 9>&-
  done
}
unlock_host() {
  [ "$host_locked" = yes ] || return 0
  rm -f "$HOST_LOCK"
  exec 9>&-
  host_locked=no
}
trap unlock_host EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM
lock_host
if [ -f "$ADDED" ]; then
  forget_added_address
fi
if [ ! -f "$BEFORE" ]; then
  say "$DEVICE: no record of a create, link left as it is"
elif recorded "$BEFORE" link=absent; then
  if link_exists "$DEVICE"; then
    if [ -f '/etc/sysconfig/network-scripts/ifup-eth' ] && command -v ifup >/dev/null 2>&1; then
      ifdown 'ens33.10' 9>&- || say "$DEVICE: "'ifdown failed, deleting the link with ip'
    fi
    if link_exists "$DEVICE"; then
      ip link del dev "$DEVICE"
    fi
    say "$DEVICE: vlan link deleted (create made it)"
  else
    say "$DEVICE: vlan link already gone"
  fi
elif ! link_exists "$DEVICE"; then
  say "$DEVICE: link is gone, nothing to restore"
elif recorded "$BEFORE" up=no && link_up "$DEVICE"; then
  ip link set dev "$DEVICE" down
  say "$DEVICE: down (restored), link kept (it existed before create)"
else
  say "$DEVICE: link kept (it existed before create)"
fi
drop_file '/etc/sysconfig/network-scripts/ifcfg-ens33.10'
release_dir '/etc/sysconfig/network-scripts' "$STATE_DIR"/'created-dir_etc_sysconfig_network-scripts@vlan-ens33.10' "$STATE_DIR"/'created-dir_etc_sysconfig_network-scripts'
reload_nm_profiles
drop_file '/etc/macvlan-overlay/boot.d/20-vlan-ens33.10.sh'
release_dir '/etc/macvlan-overlay/boot.d' "$STATE_DIR"/'created-dir_etc_macvlan-overlay_boot.d@boot-20-vlan-ens33.10' "$STATE_DIR"/'created-dir_etc_macvlan-overlay_boot.d'
if [ -f "$BEFORE" ]; then
  forget "$BEFORE"
fi
release_state_dir
