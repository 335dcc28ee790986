#!/bin/sh
# macvlan-overlay: VLAN subinterface (delete)
# Runs later from its stored text, so it reads only host state.
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022
DEVICE='ens33.10'
FILE_1='/etc/sysconfig/network-scripts/ifcfg-ens33.10'
FRAGMENT='/etc/macvlan-overlay/boot.d/20-vlan-ens33.10.sh'
STATE_DIR='/var/lib/macvlan-overlay'
REVERT_ID='vlan-ens33.10'
REVERT_DIR='/var/lib/macvlan-overlay/revert'
HOST_LOCK='/run/macvlan-overlay.lock'
HOST_LOCK_WAIT='300'
MARKER='# Managed by macvlan-overlay; removed by pulumi destroy.'
host_locked=no
unlock_host() { [ "$host_locked" = no ] || { rm -f "$HOST_LOCK"; exec 9>&-; host_locked=no; }; }
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
is_ours() {
  first_line=
  [ -f "$1" ] && { IFS= read -r first_line <"$1" || :; } && [ "$first_line" = "$MARKER" ]
}
journal_file() { :; }
say() { printf '%s\n' "$*"; }
drop_file() {
  if [ ! -e "$1" ]; then say "$1: already absent"
  elif is_ours "$1"; then journal_file "$1"; rm -f "$1"; say "$1: removed"
  else say "$1: not ours (no marker line), left in place"; fi
}
dir_record() { printf '%s/created-dir%s@%s' "$STATE_DIR" "$(printf '%s' "$1" | tr / _)" "$2"; }
remove_made_dirs() {
  made_dir=$1
  while [ -d "$made_dir" ] && rmdir "$made_dir" 2>/dev/null && [ "$made_dir" != "$2" ]; do made_dir=$(dirname "$made_dir"); done
}
forget() { journal_file "$1"; rm -f "$1"; }
release_dir() {
  dir_made=$(dir_record "$1" "$2")
  [ -f "$dir_made" ] || return 0
  top_dir=
  IFS= read -r top_dir <"$dir_made" || :
  if [ -d "$1" ] && [ -n "$(ls -A "$1")" ]; then
    say "$1: still in use, left in place"
  elif [ -d "$1" ]; then
    remove_made_dirs "$1" "${top_dir:-$1}"
    say "$1: directory removed (create made it)"
    [ ! -f "${dir_made%@*}" ] || forget "${dir_made%@*}"
  fi
  forget "$dir_made"
}
reload_nm_profiles() {
  command -v nmcli >/dev/null 2>&1 && [ "$(nmcli -t -f RUNNING general 2>/dev/null)" = running ] || return 0
  nmcli connection reload
  say 'nmcli: connection profiles reloaded'
}
link_exists() { ip link show dev "$1" >/dev/null 2>&1; }
has_address() { ip -o addr show dev "$1" | grep -qF " inet $2 "; }
undo_push() { :; }
note() { say "$DEVICE: $*"; }
drop_address() {
  if link_exists "$DEVICE" && has_address "$DEVICE" "$1"; then
    undo_push ip addr add "$1" dev "$DEVICE"
    ip addr del "$1" dev "$DEVICE"
    note "address $1 removed"
  else
    note "address $1 already absent"
  fi
}
forget_added_address() {
  added=
  IFS= read -r added <"$ADDED" || :
  [ -z "$added" ] || drop_address "$added"
  forget "$ADDED"
}
recorded() { [ -f "$1" ] && grep -qxF -- "$2" "$1"; }
link_up() { ip -o link show dev "$1" | grep -q '[<,]UP[,>]'; }
release_state_dir() { rmdir "$STATE_DIR" 2>/dev/null || true; }
BEFORE="$STATE_DIR/vlan-$DEVICE.before"
ADDED="$STATE_DIR/vlan-$DEVICE.address"
OWNER="vlan-$DEVICE"
trap unlock_host EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM
lock_host
if [ -f "$ADDED" ]; then
  forget_added_address
fi
if [ ! -f "$BEFORE" ]; then
  note "no record of a create, link left as it is"
elif recorded "$BEFORE" link=absent; then
  if link_exists "$DEVICE"; then
    if [ -f '/etc/sysconfig/network-scripts/ifup-eth' ] && command -v ifup >/dev/null 2>&1; then
      ifdown "$DEVICE" 9>&- || note 'ifdown failed, deleting the link with ip'
    fi
    if link_exists "$DEVICE"; then
      ip link del dev "$DEVICE"
    fi
    note "vlan link deleted (create made it)"
  else
    note "vlan link already gone"
  fi
elif ! link_exists "$DEVICE"; then
  note "link is gone, nothing to restore"
elif recorded "$BEFORE" up=no && link_up "$DEVICE"; then
  ip link set dev "$DEVICE" down
  note "down (restored), link kept (it existed before create)"
else
  note "link kept (it existed before create)"
fi
drop_file "$FILE_1"
release_dir "${FILE_1%/*}" "$OWNER"
reload_nm_profiles
fragment_owner=boot-${FRAGMENT##*/}
drop_file "$FRAGMENT"
release_dir "${FRAGMENT%/*}" "${fragment_owner%.sh}"
if [ -f "$BEFORE" ]; then
  forget "$BEFORE"
fi
rm -f "$STATE_DIR/applied-$REVERT_ID" "$REVERT_DIR"/*-"$REVERT_ID".*.revert
release_state_dir
