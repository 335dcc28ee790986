#!/bin/sh
# macvlan-overlay: confirm the update (disarm this host's reverts)
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022
FINGERPRINTS='5f19145d24f77ba2 621a222285ef0268 644672b9797ad673'
NEXT_REAPPLY='1'
REVERT_DIR='/var/lib/macvlan-overlay/revert'
REVERTED='/var/lib/macvlan-overlay/reverted'
HOST_LOCK='/run/macvlan-overlay.lock'
HOST_LOCK_WAIT='300'
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
say() { printf '%s\n' "$*"; }
trap unlock_host EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM
lock_host
if [ -f "$REVERTED" ]; then
  fail "this host did not confirm in time and reverted: $(cat "$REVERTED"). The stack's state holds the new inputs: after fixing the cause, run pulumi config set reapply $NEXT_REAPPLY, then pulumi up"
fi
confirmed=0
left=0
for revert_file in "$REVERT_DIR"/*.revert; do
  [ -f "$revert_file" ] || continue
  fingerprint=${revert_file%.revert}
  case " $FINGERPRINTS " in
    *" ${fingerprint##*.} "*) rm -f "$revert_file"; confirmed=$((confirmed + 1)) ;;
    *) left=$((left + 1)) ;;
  esac
done
if [ "$left" = 0 ] && [ -d "$REVERT_DIR" ]; then
  [ ! -f "$REVERT_DIR/timer.pid" ] || kill -s TERM -- "-$(cat "$REVERT_DIR/timer.pid")" 2>/dev/null || :
  [ ! -f "$REVERT_DIR/timer.unit" ] || systemctl stop "$(cat "$REVERT_DIR/timer.unit").timer" 2>/dev/null || :
  rm -f "$REVERT_DIR/deadline" "$REVERT_DIR/timer" "$REVERT_DIR/timer.pid" "$REVERT_DIR/timer.unit"
  rmdir "$REVERT_DIR"
fi
say "confirmed: $confirmed armed change(s) disarmed, $left still armed"
