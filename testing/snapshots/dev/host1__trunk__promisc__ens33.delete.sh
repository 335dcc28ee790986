#!/bin/sh
# macvlan-overlay: promiscuous mode (delete)
# Runs later from its stored text, so it reads only host state.
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022
IFACE='ens33'
FRAGMENT='/etc/macvlan-overlay/boot.d/10-promisc-ens33.sh'
STATE_DIR='/var/lib/macvlan-overlay'
REVERT_ID='promisc-ens33'
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
recorded() { [ -f "$1" ] && grep -qxF -- "$2" "$1"; }
promisc_state() {
  if ip -o link show dev "$IFACE" | grep -q '[<,]PROMISC[,>]'; then echo on; else echo off; fi
}
release_state_dir() { rmdir "$STATE_DIR" 2>/dev/null || true; }
BEFORE="$STATE_DIR/promisc-$IFACE.before"
trap unlock_host EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM
lock_host
if [ ! -f "$BEFORE" ]; then
  say "$IFACE: no record of a create, promisc left as it is"
elif ! recorded "$BEFORE" promisc=off; then
  say "$IFACE: promisc left on (it was on before create)"
elif ! ip link show dev "$IFACE" >/dev/null 2>&1; then
  say "$IFACE: interface is gone, nothing to restore"
elif [ "$(promisc_state)" = on ]; then
  ip link set dev "$IFACE" promisc off
  say "$IFACE: promisc off (restored)"
else
  say "$IFACE: promisc already off"
fi
forget "$BEFORE"
fragment_owner=boot-${FRAGMENT##*/}
drop_file "$FRAGMENT"
release_dir "${FRAGMENT%/*}" "${fragment_owner%.sh}"
rm -f "$STATE_DIR/applied-$REVERT_ID" "$REVERT_DIR"/*-"$REVERT_ID".*.revert
release_state_dir
