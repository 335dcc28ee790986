#!/bin/sh
# macvlan-overlay: NAT router between the VLANs (delete)
# Runs later from its stored text, so it reads only host state.
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022
NAT_RULES='-A POSTROUTING -o ens33.10 -m comment --comment macvlan-overlay -j MASQUERADE
-A POSTROUTING -o ens33.20 -m comment --comment macvlan-overlay -j MASQUERADE'
FILTER_RULES='-A FORWARD -i ens33.10 -o ens33.20 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment macvlan-overlay -j ACCEPT
-A FORWARD -i ens33.20 -o ens33.10 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment macvlan-overlay -j ACCEPT
-A FORWARD -i ens33.10 -o ens33.20 -m comment --comment macvlan-overlay -j ACCEPT
-A FORWARD -i ens33.20 -o ens33.10 -m comment --comment macvlan-overlay -j ACCEPT'
SYSCTL_FILE='/etc/sysctl.d/90-macvlan-overlay.conf'
FRAGMENT='/etc/macvlan-overlay/boot.d/30-router.sh'
STATE_DIR='/var/lib/macvlan-overlay'
REVERT_ID='nat-router'
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
delete_rule() {
  rule_table=$1
  set -f
  # shellcheck disable=SC2086 # our rules are plain words
  set -- $2
  set +f
  rule_chain=$2
  shift 2
  rule_state='already absent'
  while iptables -w -t "$rule_table" -C "$rule_chain" "$@" 2>/dev/null; do
    iptables -w -t "$rule_table" -D "$rule_chain" "$@"
    rule_state=removed
  done
  say "iptables: $rule_state: -t $rule_table -A $rule_chain $*"
}
delete_rules() {
  while IFS= read -r rule_line; do
    [ -z "$rule_line" ] || delete_rule "$1" "$rule_line"
  done <<EOF
$(printf '%s\n' "$2" | sed -n '1!G;h;$p')
EOF
}
undo_push() { :; }
remove_ours_except() {
  ours=$(iptables -w -t "$1" -S "$2" | grep -F -e '--comment macvlan-overlay ' || true)
  rule_table=$1
  wanted=$3
  while IFS= read -r listed; do
    [ -n "$listed" ] || continue
    if printf '%s\n' "$wanted" | grep -qxF -- "$listed"; then
      continue
    fi
    set -f
    # shellcheck disable=SC2086 # iptables -S prints our rules as plain words
    set -- $listed
    set +f
    shift
    undo_push iptables -w -t "$rule_table" -A "$@"
    iptables -w -t "$rule_table" -D "$@"
    say "iptables: removed (no longer wanted): -t $rule_table -A $*"
  done <<EOF
$ours
EOF
}
ip_forward() { cat /proc/sys/net/ipv4/ip_forward; }
set_ip_forward() {
  if command -v sysctl >/dev/null 2>&1 && sysctl -w "net.ipv4.ip_forward=$1" >/dev/null 2>&1; then
    return 0
  fi
  printf '%s\n' "$1" >/proc/sys/net/ipv4/ip_forward
}
release_state_dir() { rmdir "$STATE_DIR" 2>/dev/null || true; }
BEFORE="$STATE_DIR/nat-router.before"
trap unlock_host EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM
lock_host
delete_rules filter "$FILTER_RULES"
delete_rules nat "$NAT_RULES"
# Rules of ours an earlier version added and a failed update may have left.
remove_ours_except nat POSTROUTING ''
remove_ours_except filter FORWARD ''
drop_file "$SYSCTL_FILE"
release_dir "${SYSCTL_FILE%/*}" nat-router
fragment_owner=boot-${FRAGMENT##*/}
drop_file "$FRAGMENT"
release_dir "${FRAGMENT%/*}" "${fragment_owner%.sh}"
if [ ! -f "$BEFORE" ]; then
  say "ip_forward: no record of a create, left at $(ip_forward)"
else
  previous=$(sed -n 's/^ip_forward=//p' "$BEFORE")
  if [ -z "$previous" ]; then
    say "ip_forward: record is empty, left at $(ip_forward)"
  elif [ "$(ip_forward)" = "$previous" ]; then
    say "ip_forward: already $previous"
  else
    set_ip_forward "$previous"
    say "ip_forward: $previous (restored)"
  fi
  forget "$BEFORE"
fi
rm -f "$STATE_DIR/applied-$REVERT_ID" "$REVERT_DIR"/*-"$REVERT_ID".*.revert
release_state_dir
