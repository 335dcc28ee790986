#!/bin/sh
# macvlan-overlay: promiscuous mode (create or update)
# Runs its boot fragment, held once below, which writes itself to its file as it commits.
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
boot_fragment_text=
while IFS= read -r fragment_line; do boot_fragment_text="$boot_fragment_text$fragment_line
"; done <<'MACVLAN_OVERLAY_BOOT_FRAGMENT'
# Managed by macvlan-overlay; removed by pulumi destroy.
# macvlan-overlay: promiscuous mode (create, update, boot)
# Brought back at boot by macvlan-overlay.service, which runs this text.
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022
IFACE='ens33'
FRAGMENT='/etc/macvlan-overlay/boot.d/10-promisc-ens33.sh'
STATE_DIR='/var/lib/macvlan-overlay'
REVERT_ID='promisc-ens33'
FINGERPRINT='5f19145d24f77ba2'
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
is_ours() {
  first_line=
  [ -f "$1" ] && { IFS= read -r first_line <"$1" || :; } && [ "$first_line" = "$MARKER" ]
}
refuse_foreign() {
  [ ! -e "$1" ] || is_ours "$1" || fail "$1 exists and is not managed by macvlan-overlay (no marker line); refusing to change it"
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
file_revert() {
  recorded "$APPLIED" "$FINGERPRINT" || record "$APPLIED" "$FINGERPRINT"
  [ ! -f "$REVERTED" ] || [ -z "${boot_fragment_text:-}" ] || { sed -i "s/ $REVERT_ID\.[0-9a-f]*//" "$REVERTED"; grep -q 'reverted: .' "$REVERTED" || rm -f "$REVERTED"; }
  [ "$arming" = yes ] || return 0
  revert_file="$REVERT_DIR/$(date +%s%N)-$REVERT_ID.$FINGERPRINT.revert"
  undo_push rm -f "$revert_file"
  { echo REVERT_MODE=undo; printf 'REVERT_JOURNAL=%s\n' "$(quote_word "$UNDO")"; printf '%s' "$boot_fragment_text"; } >"$revert_file"
}
promisc_state() {
  if ip -o link show dev "$IFACE" | grep -q '[<,]PROMISC[,>]'; then echo on; else echo off; fi
}
commit() { committed=yes; UNDO=; }
APPLIED="$STATE_DIR/applied-$REVERT_ID"
[ -z "${REVERT_MODE:-}" ] || { revert_mode; exit 0; }
BEFORE="$STATE_DIR/promisc-$IFACE.before"
trap on_exit EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM
lock_host
ip link show dev "$IFACE" >/dev/null 2>&1 || fail "$IFACE: no such interface"
arm_revert
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
if [ -n "${boot_fragment_text+set}" ]; then
  fragment_owner=boot-${FRAGMENT##*/}
  # shellcheck disable=SC2154 # set by the create that runs this text
  put_file "$FRAGMENT" "$boot_fragment_text" "${fragment_owner%.sh}"
fi
file_revert
commit
MACVLAN_OVERLAY_BOOT_FRAGMENT
eval "$boot_fragment_text"
