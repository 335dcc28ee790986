#!/bin/sh
# macvlan-overlay: promiscuous mode on ens33 (create)
# Rendered by components/scripts; delete runs later from its stored text, so it reads only host state.
# Not persisted across reboots (persistence network-scripts): ifcfg PROMISC=yes is unsupported on RHEL7+ and /sbin/ifup-local is a shared file.
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
say() { printf '%s\n' "$*"; }
umask 022
STATE_DIR='/var/lib/macvlan-overlay'
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }
IFACE='ens33'
BEFORE="$STATE_DIR"/'promisc-ens33.before'
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
record() {
  record_file=$1
  shift
  mkdir -p "$STATE_DIR"
  journal_file "$record_file"
  if ! printf '%s\n' "$@" 2>/dev/null >"$record_file.tmp.$$"; then
    mkdir -p "$STATE_DIR"
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
promisc_state() {
  if ip -o link show dev "$IFACE" | grep -q '[<,]PROMISC[,>]'; then echo on; else echo off; fi
}
committed=no
on_exit() {
  exit_status=$?
  trap - EXIT
  trap '' HUP INT TERM PIPE
  if [ "$committed" != yes ]; then
    set +e
    if [ -n "$UNDO" ]; then
      rollback
      printf '%s\n' 'rollback: the changes this run had made are undone' >&2
    fi
    [ "$exit_status" -ne 0 ] || exit_status=1
  fi
  exit "$exit_status"
}
trap on_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM
commit() { committed=yes; UNDO=; }
ip link show dev "$IFACE" >/dev/null 2>&1 || fail "$IFACE: no such interface"
was=$(promisc_state)
if [ ! -f "$BEFORE" ]; then
  record "$BEFORE" "promisc=$was"
  say "$IFACE: recorded previous state (promisc $was)"
fi
if [ "$was" = on ]; then
  say "$IFACE: promisc already on"
else
  undo_push ip link set dev "$IFACE" promisc off
  ip link set dev "$IFACE" promisc on
  say "$IFACE: promisc on (was off)"
fi
say "$IFACE: promisc is not persisted across reboots"
commit
