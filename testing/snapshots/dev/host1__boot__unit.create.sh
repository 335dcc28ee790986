#!/bin/sh
# macvlan-overlay: boot unit (create or update)
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022
UNIT='/etc/systemd/system/macvlan-overlay.service'
RUNNER='/etc/macvlan-overlay/boot.sh'
FRAGMENT_DIR='/etc/macvlan-overlay/boot.d'
WANTS_LINK='/etc/systemd/system/multi-user.target.wants/macvlan-overlay.service'
UNIT_TEXT='# Managed by macvlan-overlay; removed by pulumi destroy.
[Unit]
Description=macvlan-overlay: re-apply VLAN links, promiscuous mode and router rules
Wants=network-pre.target sys-subsystem-net-devices-ens33.device
After=network-pre.target systemd-sysctl.service sys-subsystem-net-devices-ens33.device
Before=docker.service network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh /etc/macvlan-overlay/boot.sh

[Install]
WantedBy=multi-user.target
'
# shellcheck disable=SC2016,SC1003 # a value: its $ and \ are text here
RUNNER_TEXT='# Managed by macvlan-overlay; removed by pulumi destroy.
set -u
status=0
revert_dir='\''/var/lib/macvlan-overlay/revert'\''
if [ -f "$revert_dir/timer" ] && [ -f "$revert_dir/deadline" ]; then
  if [ "$(date +%s)" -ge "$(cat "$revert_dir/deadline")" ]; then
    sh "$revert_dir/timer" || status=1
  else
    setsid sh "$revert_dir/timer" </dev/null >/dev/null 2>&1 &
    echo "$!" >"$revert_dir/timer.pid"
  fi
fi
for fragment in '\''/etc/macvlan-overlay/boot.d'\''/*.sh; do
  [ -f "$fragment" ] || continue
  if ! sh "$fragment"; then
    printf '\''macvlan-overlay: %s failed\n'\'' "$fragment" >&2
    status=1
  fi
done
exit "$status"
'
MARKER='# Managed by macvlan-overlay; removed by pulumi destroy.'
STATE_DIR='/var/lib/macvlan-overlay'
HOST_LOCK='/run/macvlan-overlay.lock'
HOST_LOCK_WAIT='300'
is_ours() {
  first_line=
  [ -f "$1" ] && { IFS= read -r first_line <"$1" || :; } && [ "$first_line" = "$MARKER" ]
}
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }
refuse_foreign() {
  [ ! -e "$1" ] || is_ours "$1" || fail "$1 exists and is not managed by macvlan-overlay (no marker line); refusing to change it"
}
dir_record() { printf '%s/created-dir%s@%s' "$STATE_DIR" "$(printf '%s' "$1" | tr / _)" "$2"; }
undo_push() { :; }
release_state_dir() { rmdir "$STATE_DIR" 2>/dev/null || true; }
make_state_dir() { [ -d "$STATE_DIR" ] || { undo_push release_state_dir; mkdir -p "$STATE_DIR"; }; }
journal_file() { :; }
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
say() { printf '%s\n' "$*"; }
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
drop_file() {
  if [ ! -e "$1" ]; then say "$1: already absent"
  elif is_ours "$1"; then journal_file "$1"; rm -f "$1"; say "$1: removed"
  else say "$1: not ours (no marker line), left in place"; fi
}
remove_boot_unit() {
  if [ "$(readlink "$WANTS_LINK" 2>/dev/null)" = "$UNIT" ]; then rm -f "$WANTS_LINK"; say 'boot unit: disabled'; fi
  release_dir "${WANTS_LINK%/*}" boot-unit
  release_dir "$FRAGMENT_DIR" boot-unit
  drop_file "$RUNNER"
  release_dir "${RUNNER%/*}" boot-unit
  drop_file "$UNIT"
  release_dir "${UNIT%/*}" boot-unit
  release_state_dir
}
host_locked=no
unlock_host() { [ "$host_locked" = no ] || { rm -f "$HOST_LOCK"; exec 9>&-; host_locked=no; }; }
fresh=no
on_unit_exit() {
  unit_status=$?
  if [ "$fresh" = yes ] && [ "$unit_status" != 0 ]; then
    trap - EXIT HUP INT TERM
    remove_boot_unit >/dev/null
  fi
  unlock_host
  exit "$unit_status"
}
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
trap on_unit_exit EXIT
trap 'exit 129' HUP
trap 'exit 143' TERM
lock_host
refuse_foreign "$UNIT"
refuse_foreign "$RUNNER"
if [ -e "$WANTS_LINK" ] || [ -L "$WANTS_LINK" ]; then
  [ "$(readlink "$WANTS_LINK")" = "$UNIT" ] || fail "$WANTS_LINK exists and is not ours; refusing to change it"
fi
[ -e "$UNIT" ] || fresh=yes
put_file "$UNIT" "$UNIT_TEXT" boot-unit
put_file "$RUNNER" "$RUNNER_TEXT" boot-unit
ensure_dir "$FRAGMENT_DIR" boot-unit
if [ "$(readlink "$WANTS_LINK" 2>/dev/null)" = "$UNIT" ]; then
  say 'boot unit: enabled already'
else
  ensure_dir "${WANTS_LINK%/*}" boot-unit
  ln -s "$UNIT" "$WANTS_LINK"
  say 'boot unit: enabled'
fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
