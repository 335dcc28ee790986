#!/bin/sh
# macvlan-overlay: connectivity check between containers (changes nothing)
# Rendered by components/scripts.
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
say() { printf '%s\n' "$*"; }
REVERT_DEADLINE='/var/lib/macvlan-overlay/revert/deadline'
NEXT_REAPPLY='1'
armed_note() {
  [ -f "$REVERT_DEADLINE" ] || return 0
  echo "commit confirmed: no Confirm runs after a failed check; this host, and each host this update armed, reverts at about $(date -u -d "@$(cat "$REVERT_DEADLINE")" +%FT%TZ). The stack's state holds the new inputs: after fixing the cause, run pulumi config set reapply $NEXT_REAPPLY, then pulumi up" >&2
}
PING_COUNT='3'
PING_TIMEOUT='2'
PROBES='6'
# shellcheck disable=SC2016 # expanded inside the container, by its own shell
PINGS='count=$1
timeout=$2
shift 2
i=0
for ip in "$@"; do
  i=$((i + 1))
  (
    out=$(ping -c "$count" -W "$timeout" "$ip" 2>&1)
    status=$?
    rtt=$(printf '\''%s\n'\'' "$out" | sed -n '\''s|.* = [0-9.]*/\([0-9.]*\)/.*|\1|p'\'')
    printf '\''%s %s %s\n'\'' "$i" "$status" "${rtt:--}"
  ) &
done
wait'
# run_pings FROM IP...: every ping of one source container in one docker exec. A container that is
# not running, or a shell docker cannot start (exit 126/127), makes every probe of it an error,
# never the expected result. stdin stays with this script (it is read from stdin).
run_pings() {
  from=$1
  shift
  results=
  source_error=
  if [ "$(docker inspect -f '{{.State.Running}}' "$from" 2>/dev/null </dev/null)" != true ]; then
    source_error="error (container $from is not running)"
    return 0
  fi
  exec_status=0
  results=$(docker exec "$from" sh -c "$PINGS" pings "$PING_COUNT" "$PING_TIMEOUT" "$@" </dev/null 2>/dev/null) || exec_status=$?
  case $exec_status in
    126 | 127) source_error="error (no shell could run in $from, exit $exec_status)" ;;
  esac
}
# report INDEX TO TO_IP KIND EXPECTED: one tab-separated line (a single write, so lines from
# lanes running at once never mix) from the results of run_pings.
report() {
  got=$source_error
  rtt=-
  if [ -z "$got" ]; then
    found=$(printf '%s\n' "$results" | sed -n "s/^$1 //p")
    status=${found%% *}
    case $status in
      0) got=reachable; rtt=${found#* } ;;
      126 | 127) got="error (ping could not run in $from, exit $status)" ;;
      '') got="error (no result from $from)" ;;
      *) got=unreachable ;;
    esac
  fi
  printf 'probe\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$from" "$2" "$3" "$4" "$5" "$got" "$rtt"
}
# summarize: passes every line through, counts the probes and those whose result differs.
summarize() {
  tab=$(printf '\t')
  total=0
  differ=0
  while IFS= read -r line; do
    printf '%s\n' "$line"
    case $line in
      "probe$tab"*)
        total=$((total + 1))
        old_ifs=$IFS
        set -f
        IFS=$tab
        # shellcheck disable=SC2086 # split on tabs only, no globbing
        set -- $line
        IFS=$old_ifs
        set +f
        [ "$6" = "$7" ] || differ=$((differ + 1))
        ;;
    esac
  done
  if [ "$total" -ne "$PROBES" ]; then
    say "connectivity: $((PROBES - total)) of $PROBES probes gave no result"
    armed_note
    exit 1
  fi
  if [ "$differ" -ne 0 ]; then
    say "connectivity: $differ of $PROBES probes differ from the expectation"
    armed_note
    exit 1
  fi
  say "connectivity: all $PROBES probes as expected"
}
# Each lane runs its source containers one after another; the lanes run at once.
probe_all() {
  {
    run_pings 'bbox10' '172.18.0.1' '172.19.0.3' '172.18.0.5'
    report '1' 'gateway' '172.18.0.1' 'gateway' 'reachable'
    report '2' 'bbox20' '172.19.0.3' 'routed' 'reachable'
    report '3' 'bbox30' '172.18.0.5' 'same-vlan' 'reachable'
  } &
  {
    run_pings 'bbox20' '172.19.0.1' '172.18.0.2' '172.19.0.4'
    report '1' 'gateway' '172.19.0.1' 'gateway' 'reachable'
    report '2' 'bbox10' '172.18.0.2' 'routed' 'reachable'
    report '3' 'bbox40' '172.19.0.4' 'same-vlan' 'reachable'
  } &
  wait
}
probe_all | summarize
