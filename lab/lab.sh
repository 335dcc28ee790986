#!/usr/bin/env bash
# The local lab: the seed's three hosts (two Docker hosts and a router) built on this machine as
# network + mount namespaces behind one switch namespace, each running its own sshd (and dockerd),
# reachable from the root netns over a management veth. Usage: lab.sh up|down|status
# (lab/README.md says what it builds and what it touches on the machine).
set -euo pipefail

PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT_DIR=$(dirname "$LAB_SRC")
# shellcheck source-path=SCRIPTDIR source=lab.env
. "$LAB_SRC/lab.env"

LAB_DIR=$PROJECT_DIR/.lab
NS_DIR=$LAB_RUN_DIR/ns
PID_DIR=$LAB_RUN_DIR/pids
CREATED_LIST=$LAB_RUN_DIR/created-paths
SW=$LAB_SWITCH_NETNS
BR_TRUNK=br-trunk
SW_ROOT_PORT=root-mgmt0
MGMT_PREFIX_LEN=${LAB_MGMT_SUBNET#*/}
DOCKER_SOCK=unix:///run/docker.sock
# Mount points a lab host gets its own copy of (bind mounts from .lab/hosts/<host>/).
HOST_BIND_DIRS="/etc/sysconfig /etc/sysctl.d /var/lib/macvlan-overlay"
DOCKER_BIND_DIRS="/etc/docker"

T0=${EPOCHREALTIME/./}
# log lines carry the seconds since the script started
log() { local ms=$(((${EPOCHREALTIME/./} - T0) / 1000)); printf '[lab %3d.%01ds] %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*"; }
warn() { printf '[lab] warning: %s\n' "$*" >&2; }
die() { printf '[lab] error: %s\n' "$*" >&2; exit 1; }

host_addr() { local v="LAB_HOST_${1}_ADDR"; printf '%s' "${!v}"; }
host_role() { local v="LAB_HOST_${1}_ROLE"; printf '%s' "${!v}"; }
host_ns() { printf '%s%s' "$LAB_NETNS_PREFIX" "$1"; }
host_dir() { printf '%s/hosts/%s' "$LAB_DIR" "$1"; }
mnt_ns_file() { printf '%s/%s.mnt' "$NS_DIR" "$1"; }
docker_hosts() { local h; for h in $LAB_HOSTS; do [ "$(host_role "$h")" != docker ] || printf '%s\n' "$h"; done; }
all_netns() { local h; printf '%s\n' "$SW"; for h in $LAB_HOSTS; do host_ns "$h"; printf '\n'; done; }

# Run a command in a netns only (root mount ns), or in a lab host's net + mount namespaces.
in_net() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }
in_host() { local h=$1; shift; nsenter --net="/run/netns/$(host_ns "$h")" --mount="$(mnt_ns_file "$h")" -- "$@"; }

need_root() { [ "$(id -u)" = 0 ] || die "lab.sh $1 must run as root (it creates namespaces, links and mounts)"; }
need_cmds() {
  local c missing=()
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  [ "${#missing[@]}" = 0 ] || die "missing commands: ${missing[*]} — install them with: bash lab/install-deps.sh"
}

# Serialize up/down: a lock on this script file (no lock file is left behind).
take_lock() {
  exec 9<"$LAB_SRC/lab.sh"
  flock -w "$1" 9 || die "another 'lab.sh up/down' is running"
}

# --- IPv4 prefix arithmetic -------------------------------------------------------------------
# ip4_int VAR A.B.C.D: set VAR to the address as a 32-bit integer (fails on a malformed address).
ip4_int() {
  [[ $2 =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || return 1
  local o1=$((10#${BASH_REMATCH[1]})) o2=$((10#${BASH_REMATCH[2]})) o3=$((10#${BASH_REMATCH[3]})) o4=$((10#${BASH_REMATCH[4]}))
  ((o1 < 256 && o2 < 256 && o3 < 256 && o4 < 256)) || return 1
  printf -v "$1" '%d' $(((o1 << 24) | (o2 << 16) | (o3 << 8) | o4))
}
# prefixes_overlap A[/p] B[/q]: true when the two IPv4 prefixes share any address.
prefixes_overlap() {
  local a=${1%/*} b=${2%/*} p=32 q=32 ai bi m mask
  [ "$a" = "$1" ] || p=${1#*/}
  [ "$b" = "$2" ] || q=${2#*/}
  [[ $p =~ ^[0-9]{1,2}$ && $q =~ ^[0-9]{1,2}$ ]] || return 1
  ((10#$p <= 32 && 10#$q <= 32)) || return 1
  ip4_int ai "$a" && ip4_int bi "$b" || return 1
  p=$((10#$p)) q=$((10#$q))
  m=$((p < q ? p : q))
  mask=$(((0xFFFFFFFF << (32 - m)) & 0xFFFFFFFF))
  (((ai & mask) == (bi & mask)))
}
# in_prefix ADDR PREFIX: the address lies in the prefix.
in_prefix() { prefixes_overlap "$1/32" "$2"; }

# --- plan and safety checks -------------------------------------------------------------------
check_plan() {
  # shellcheck disable=SC2034 # n is set by name in ip4_int
  local h addr net n
  for net in "$LAB_MGMT_SUBNET" $LAB_OTHER_SUBNETS; do
    if ! [[ $net =~ ^[0-9.]+/([0-9]{1,2})$ ]] || ((10#${BASH_REMATCH[1]} > 32)) || ! ip4_int n "${net%/*}"; then
      die "lab.env: '$net' is not an IPv4 prefix"
    fi
  done
  in_prefix "${LAB_MGMT_ROOT_ADDR%/*}" "$LAB_MGMT_SUBNET" || die "lab.env: LAB_MGMT_ROOT_ADDR is outside LAB_MGMT_SUBNET"
  for h in $LAB_HOSTS; do
    [[ $h =~ ^[a-z][a-z0-9]{0,7}$ ]] || die "lab.env: host name '$h' must be 1-8 lowercase letters/digits"
    addr=$(host_addr "$h") || die "lab.env: no LAB_HOST_${h}_ADDR"
    in_prefix "$addr" "$LAB_MGMT_SUBNET" || die "lab.env: $h's address $addr is outside $LAB_MGMT_SUBNET"
    case $(host_role "$h") in docker | router) ;; *) die "lab.env: $h's role must be docker or router" ;; esac
  done
  case ${LAB_VLAN_MODE:-auto} in auto | 8021q | emulated) ;; *) die "LAB_VLAN_MODE must be auto, 8021q or emulated" ;; esac
  [[ $TRUNK =~ ^[a-z][a-z0-9]{0,9}$ ]] || die "lab.env: TRUNK '$TRUNK' is not a plain interface name"
  local id
  for id in $VLAN_IDS; do
    if ! [[ $id =~ ^[0-9]+$ ]] || ((id < 1 || id > 4094)); then die "lab.env: bad VLAN id '$id'"; fi
  done
}

# Refuse any lab subnet that overlaps an address or a non-default route of the root netns.
safety_check() {
  local subnet entries=() entry what prefix conflicts=()
  while IFS= read -r entry; do entries+=("$entry"); done < <(
    ip -o -4 addr show | awk '{for (i = 1; i < NF; i++) if ($i == "inet" || $i == "peer") print $(i + 1) "\taddress " $(i + 1) " on " $2}'
    ip -4 route show table all | awk '{
      d = $1
      if (d ~ /^(unicast|local|broadcast|anycast|multicast|blackhole|unreachable|prohibit|throw|nat)$/) d = $2
      if (d == "default" || d == "0.0.0.0/0") next
      print d "\troute \"" $0 "\""
    }')
  for subnet in "$LAB_MGMT_SUBNET" $LAB_OTHER_SUBNETS; do
    for entry in "${entries[@]}"; do
      prefix=${entry%%$'\t'*}
      what=${entry#*$'\t'}
      if prefixes_overlap "$subnet" "$prefix"; then conflicts+=("lab subnet $subnet overlaps $what"); fi
    done
  done
  if [ "${#conflicts[@]}" -gt 0 ]; then
    printf '[lab] error: refusing to build the lab: this machine already routes a lab subnet:\n' >&2
    printf '  %s\n' "${conflicts[@]}" >&2
    exit 1
  fi
  log "safety: lab subnets $LAB_MGMT_SUBNET $LAB_OTHER_SUBNETS overlap no address or route of this machine"
}

# After building: management traffic must go to the lab link, and no lab netns may have a default route.
check_built() {
  local h addr got ns
  for h in $LAB_HOSTS; do
    addr=$(host_addr "$h")
    got=$(ip route get "$addr")
    [[ $got == *" dev $LAB_ROOT_LINK "* ]] || die "ip route get $addr does not say dev $LAB_ROOT_LINK: $got"
  done
  while IFS= read -r ns; do
    [ -z "$(ip -n "$ns" -4 route show default)$(ip -n "$ns" -6 route show default)" ] || die "netns $ns has a default route"
  done < <(all_netns)
  log "safety: ${LAB_HOSTS// /, } route via $LAB_ROOT_LINK; no lab netns has a default route"
}

# --- state and discovery ----------------------------------------------------------------------
# record_created PATH: remember a path the lab creates in the root filesystem (written before it exists).
record_created() { printf '%s\n' "$1" >>"$CREATED_LIST"; }
ensure_dir() {
  [ -d "$1" ] && return 0
  [ ! -e "$1" ] || die "$1 exists and is not a directory"
  record_created "$1"
  mkdir -p "$1"
}

lab_dirs() {
  printf '%s\n' "$LAB_DIR"
  if [ -f "$LAB_RUN_DIR/lab-dir" ]; then
    local other
    other=$(cat "$LAB_RUN_DIR/lab-dir")
    [ "$other" = "$LAB_DIR" ] || [[ $other != */.lab ]] || printf '%s\n' "$other"
  fi
}

lab_cgroup_dirs() { find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "${LAB_CGROUP_PREFIX}*" 2>/dev/null || true; }

# Every process of the lab: in a lab netns or host mount ns (live or recorded), in a lab cgroup,
# or a lab daemon by its command line; then all their descendants. Never this script or its callers.
lab_pids() {
  local -A keys=() pick=() skip=() children=() parent=()
  local f dir link pid ppid queue=() d cmd
  local files=()
  while IFS= read -r f; do [ ! -e "/run/netns/$f" ] || files+=("/run/netns/$f"); done < <(all_netns)
  for f in "$NS_DIR"/*.mnt; do [ ! -e "$f" ] || files+=("$f"); done
  # the inode of a namespace file names the namespace (an unmounted file's small inode matches none)
  while IFS= read -r link; do [ -z "$link" ] || keys[$link]=1; done < <(
    [ "${#files[@]}" = 0 ] || stat -L -c '%i %n' "${files[@]}" 2>/dev/null | while read -r ino f; do
      case $f in *.mnt) printf 'mnt:[%s]\n' "$ino" ;; *) printf 'net:[%s]\n' "$ino" ;; esac
    done)
  if [ "${#keys[@]}" -gt 0 ]; then
    while read -r dir link; do
      if [ -z "$link" ] || [ -z "${keys[$link]:-}" ]; then continue; fi
      pid=${dir#/proc/}
      pick[${pid%/ns}]=1
    done < <(find /proc/[0-9]*/ns -maxdepth 1 \( -name net -o -name mnt \) -printf '%h %l\n' 2>/dev/null || true)
  fi
  while IFS= read -r d; do
    while read -r pid; do [ -z "$pid" ] || pick[$pid]=1; done < <(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null || true)
  done < <(lab_cgroup_dirs)
  while IFS= read -r d; do
    while IFS= read -r f; do
      IFS= read -r -d '' cmd <"$f" 2>/dev/null || continue
      # argv[0] of a listening sshd is its process title "sshd: /usr/sbin/sshd -D ... [listener] ..."
      case $cmd in
        sshd | */sshd | "sshd: "* | dockerd | */dockerd) pid=${f#/proc/}; pick[${pid%/cmdline}]=1 ;;
      esac
    done < <(grep -lsaF -- "$d/hosts/" /proc/[0-9]*/cmdline || true)
  done < <(lab_dirs)
  # never this script, its subshells or its callers
  while read -r pid ppid; do
    children[$ppid]+=" $pid"
    parent[$pid]=$ppid
  done < <(ps -e -o pid=,ppid=)
  pid=$$
  while [ -n "$pid" ] && [ "$pid" != 0 ] && [ -z "${skip[$pid]:-}" ]; do
    skip[$pid]=1
    pid=${parent[$pid]:-}
  done
  skip[$BASHPID]=1
  queue=("${!pick[@]}")
  while [ "${#queue[@]}" -gt 0 ]; do
    pid=${queue[0]}
    queue=("${queue[@]:1}")
    for d in ${children[$pid]:-}; do
      [ -n "${pick[$d]:-}" ] || { pick[$d]=1; queue+=("$d"); }
    done
  done
  for pid in "${!pick[@]}"; do
    [ -z "${skip[$pid]:-}" ] || continue
    proc_alive "$pid" && printf '%s\n' "$pid"
  done | sort -n
}

# A process that exists and is not a zombie.
proc_alive() {
  local stat
  { IFS= read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

pid_of() { local f="$PID_DIR/$1.$2.pid"; [ -f "$f" ] && cat "$f"; }

# --- up ---------------------------------------------------------------------------------------
detect_vlan_mode() {
  local want=${LAB_VLAN_MODE:-auto} mode=emulated
  case $want in auto | 8021q | emulated) ;; *) die "LAB_VLAN_MODE must be auto, 8021q or emulated" ;; esac
  if [ "$want" != emulated ]; then
    ip -n "$SW" link add vprobe0 type veth peer name vprobe1
    if ip -n "$SW" link add link vprobe0 name vprobe0.1 type vlan id 1 2>/dev/null; then mode=8021q; fi
    ip -n "$SW" link del vprobe0
  fi
  [ "$want" != 8021q ] || [ "$mode" = 8021q ] || die "LAB_VLAN_MODE=8021q but this kernel cannot create 802.1Q links"
  printf '%s' "$mode"
}

build_switch() {
  ip netns add "$SW"
  # the switch is pure L2: no forwarding, no addresses (not even IPv6 link-local)
  in_net "$SW" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0
  local k
  for k in iptables ip6tables arptables; do
    [ ! -e "/proc/sys/net/bridge/bridge-nf-call-$k" ] || in_net "$SW" sysctl -qw "net.bridge.bridge-nf-call-$k=0"
  done
  ip -n "$SW" link add "$BR_TRUNK" type bridge
  ip -n "$SW" link set "$BR_TRUNK" up
  VLAN_MODE=$(detect_vlan_mode)
  printf '%s\n' "$VLAN_MODE" >"$LAB_DIR/vlan-mode"
  local id
  if [ "$VLAN_MODE" = emulated ]; then
    for id in $VLAN_IDS; do
      ip -n "$SW" link add "br-vlan$id" type bridge
      ip -n "$SW" link set "br-vlan$id" up
    done
  fi
  log "switch: netns $SW, bridges $BR_TRUNK$([ "$VLAN_MODE" != emulated ] || for id in $VLAN_IDS; do printf ' br-vlan%s' "$id"; done)"
  log "vlan mode: $VLAN_MODE$([ "$VLAN_MODE" = emulated ] && printf ' (no 802.1Q in this kernel: %s.<id> are veths into br-vlan<id>)' "$TRUNK" || printf ' (802.1Q tagged frames cross %s)' "$BR_TRUNK")"
}

build_root_link() {
  ip link add "$LAB_ROOT_LINK" type veth peer name "$SW_ROOT_PORT" netns "$SW"
  ip -n "$SW" link set "$SW_ROOT_PORT" master "$BR_TRUNK" up
  # strict reverse-path filter: a lab-internal source arriving here is dropped, never answered via eth0
  sysctl -qw "net.ipv4.conf.$LAB_ROOT_LINK.rp_filter=1"
  ip addr add "$LAB_MGMT_ROOT_ADDR" dev "$LAB_ROOT_LINK"
  ip link set "$LAB_ROOT_LINK" up
  log "root netns: $LAB_ROOT_LINK $LAB_MGMT_ROOT_ADDR (rp_filter=1), peer $SW_ROOT_PORT on $BR_TRUNK"
}

build_host_net() {
  local h=$1 ns addr id port
  ns=$(host_ns "$h")
  addr=$(host_addr "$h")
  ip netns add "$ns"
  in_net "$ns" sysctl -qw net.ipv4.ip_forward=0
  ip -n "$ns" link set lo up
  port="$h-$TRUNK"
  ip -n "$SW" link add "$port" type veth peer name "$TRUNK" netns "$ns"
  ip -n "$SW" link set "$port" master "$BR_TRUNK" up
  ip -n "$ns" addr add "$addr/$MGMT_PREFIX_LEN" dev "$TRUNK"
  ip -n "$ns" link set "$TRUNK" up
  if [ "$VLAN_MODE" = emulated ]; then
    for id in $VLAN_IDS; do
      # left DOWN without an address: the program's VLAN script adopts it
      ip -n "$SW" link add "$h-v$id" type veth peer name "$TRUNK.$id" netns "$ns"
      ip -n "$SW" link set "$h-v$id" master "br-vlan$id" up
    done
  fi
  log "$h: netns $ns, $TRUNK $addr/$MGMT_PREFIX_LEN$([ "$VLAN_MODE" != emulated ] || for id in $VLAN_IDS; do printf ', %s.%s (down)' "$TRUNK" "$id"; done)"
}

make_keys() {
  local h hd addr
  ssh-keygen -q -t ed25519 -N '' -C ovl-lab-client -f "$LAB_DIR/id_ed25519"
  install -m 600 "$LAB_DIR/id_ed25519.pub" "$LAB_DIR/authorized_keys"
  : >"$LAB_DIR/known_hosts"
  for h in $LAB_HOSTS; do
    hd=$(host_dir "$h")
    addr=$(host_addr "$h")
    ssh-keygen -q -t ed25519 -N '' -C "ovl-lab-$h" -f "$hd/ssh_host_ed25519_key"
    printf '%s %s\n' "$addr" "$(cut -d' ' -f1,2 "$hd/ssh_host_ed25519_key.pub")" >>"$LAB_DIR/known_hosts"
  done
  {
    printf '# ssh client settings for the lab hosts (written by lab/lab.sh)\n'
    printf 'Host'
    for h in $LAB_HOSTS; do printf ' %s' "$(host_addr "$h")"; done
    printf '\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n' "$LAB_DIR/id_ed25519"
    printf '  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n' "$LAB_DIR/known_hosts"
    printf '  BatchMode yes\n  ConnectTimeout 10\n  LogLevel ERROR\n'
  } >"$LAB_DIR/ssh_config"
  mkdir -p "$LAB_DIR/bin"
  # an `ssh` to put first on PATH for `docker -H ssh://...` (the docker CLI runs the `ssh` it finds)
  printf '#!/bin/sh\nexec %q -F %q "$@"\n' "$(command -v ssh)" "$LAB_DIR/ssh_config" >"$LAB_DIR/bin/ssh"
  chmod 755 "$LAB_DIR/bin/ssh"
  log "ssh: client key .lab/id_ed25519, .lab/known_hosts, .lab/ssh_config, .lab/bin/ssh"
}

write_host_files() {
  local h=$1 hd addr
  hd=$(host_dir "$h")
  addr=$(host_addr "$h")
  mkdir -p "$hd/etc-sysconfig/network-scripts" "$hd/etc-sysctl.d" "$hd/var-lib-macvlan-overlay"
  cat >"$hd/sshd_config" <<EOF
# sshd of lab host $h (written by lab/lab.sh): management address only, key-only root login
ListenAddress $addr:22
HostKey $hd/ssh_host_ed25519_key
PidFile /run/sshd.pid
AuthorizedKeysFile $LAB_DIR/authorized_keys
# the lab's key files sit in the project tree, whose directories are not ours to police
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowAgentForwarding no
PermitTunnel no
# parallel Pulumi operations open many connections at once
MaxStartups 100:30:200
MaxSessions 64
Subsystem sftp internal-sftp
EOF
  if [ "$(host_role "$h")" = docker ]; then
    mkdir -p "$hd/etc-docker" "$hd/docker"
    printf '{}\n' >"$hd/etc-docker/daemon.json"
  fi
}

# The lab's mount namespaces are bound onto files in a private bind mount (required by unshare).
make_ns_dir() {
  mkdir -p "$NS_DIR"
  mount --bind "$NS_DIR" "$NS_DIR"
  mount --make-private "$NS_DIR"
}

build_host_mnt() {
  local h=$1 f mnt_ino net_ino
  f=$(mnt_ns_file "$h")
  : >"$f"
  unshare --mount="$f" --propagation private true
  mnt_ino=$(stat -L -c %i "$f")
  net_ino=$(stat -L -c %i "/run/netns/$(host_ns "$h")")
  nsenter --net="/run/netns/$(host_ns "$h")" --mount="$f" -- bash "$LAB_SRC/lab.sh" _host-mounts "$h" "$mnt_ino" "$net_ino" \
    "$(stat -L -c %i /proc/self/ns/mnt)"
}

# Runs INSIDE a lab host's net + mount namespaces (called by build_host_mnt): its own /run, /sys
# and the bind-mounted directories.
host_mounts() {
  local h=$1 mnt_ino=$2 net_ino=$3 caller_mnt_ino=$4 hd d sys_id targets=() i
  # never mount over the machine's own /run: this must be the host's fresh mount ns (and its netns)
  [ "$(stat -L -c %i /proc/self/ns/mnt)" = "$mnt_ino" ] || die "_host-mounts: not inside $h's mount namespace"
  [ "$(stat -L -c %i /proc/self/ns/mnt)" != "$caller_mnt_ino" ] || die "_host-mounts: refusing to work in the caller's mount namespace"
  [ "$(stat -L -c %i /proc/self/ns/net)" = "$net_ino" ] || die "_host-mounts: not inside $h's netns"
  hd=$(host_dir "$h")
  # drop this namespace's copies of the lab's namespace files (they would pin other hosts)
  umount -l "$NS_DIR"
  while mountpoint -q /run/netns; do umount -l /run/netns; done
  mount -t tmpfs -o mode=0755,nosuid,nodev "ovl-run-$h" /run
  mkdir -m 0755 /run/sshd /run/lock
  # a sysfs of the host's own netns (so /sys/class/net lists its links); keep /sys's submounts (cgroups)
  sys_id=$(awk '$5 == "/sys" { id = $1 } END { print id }' /proc/self/mountinfo)
  while IFS= read -r d; do targets+=("$d"); done < <(awk -v p="$sys_id" '$2 == p { print $5 }' /proc/self/mountinfo)
  mkdir /run/.sys-stash
  for i in "${!targets[@]}"; do
    mkdir "/run/.sys-stash/$i"
    mount --rbind "${targets[i]}" "/run/.sys-stash/$i"
  done
  mount -t sysfs "ovl-sys-$h" /sys
  for i in "${!targets[@]}"; do
    mount --move "/run/.sys-stash/$i" "${targets[i]}"
    rmdir "/run/.sys-stash/$i"
  done
  rmdir /run/.sys-stash
  mount --bind "$hd/etc-sysconfig" /etc/sysconfig
  mount --bind "$hd/etc-sysctl.d" /etc/sysctl.d
  mount --bind "$hd/var-lib-macvlan-overlay" /var/lib/macvlan-overlay
  if [ "$(host_role "$h")" = docker ]; then mount --bind "$hd/etc-docker" /etc/docker; fi
}

# start_daemon NAME HOST LOG CMD...: start CMD in the host's namespaces, detached, pid recorded.
start_daemon() {
  local name=$1 h=$2 logf=$3
  shift 3
  setsid nsenter --net="/run/netns/$(host_ns "$h")" --mount="$(mnt_ns_file "$h")" -- "$@" </dev/null >>"$logf" 2>&1 9<&- &
  printf '%s\n' "$!" >"$PID_DIR/$h.$name.pid"
}

start_sshd() {
  local h=$1 hd sshd
  hd=$(host_dir "$h")
  sshd=$(command -v sshd)
  in_host "$h" "$sshd" -t -f "$hd/sshd_config" || die "$h: sshd rejects $hd/sshd_config"
  start_daemon sshd "$h" "$hd/sshd.log" "$sshd" -D -e -f "$hd/sshd_config"
}

start_dockerd() {
  local h=$1 hd
  hd=$(host_dir "$h")
  start_daemon dockerd "$h" "$hd/dockerd.log" "$(command -v dockerd)" \
    --config-file "$hd/etc-docker/daemon.json" --data-root "$hd/docker" --exec-root /run/docker \
    -H "$DOCKER_SOCK" --pidfile /run/docker.pid --cgroup-parent "/$LAB_CGROUP_PREFIX$h" \
    --bridge none --iptables=false --ip-forward=false --ip-masq=false --userland-proxy=false
}

# wait_for WHAT SECONDS PID CMD...: poll CMD until it succeeds; fail early if PID dies.
wait_for() {
  local what=$1 secs=$2 pid=$3 i
  shift 3
  for ((i = 0; i < secs * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    proc_alive "$pid" || return 1
    sleep 0.1
  done
  warn "$what did not answer within ${secs}s"
  return 1
}

wait_daemons() {
  local h hd pid
  for h in $LAB_HOSTS; do
    hd=$(host_dir "$h")
    pid=$(pid_of "$h" sshd)
    wait_for "$h sshd" 10 "$pid" sshd_listening "$h" || { tail -n 20 "$hd/sshd.log" >&2; die "$h: sshd did not start (log: $hd/sshd.log)"; }
    if [ "$(host_role "$h")" = docker ]; then
      pid=$(pid_of "$h" dockerd)
      wait_for "$h dockerd" 60 "$pid" in_host "$h" docker -H "$DOCKER_SOCK" version ||
        { tail -n 20 "$hd/dockerd.log" >&2; die "$h: dockerd did not start (log: $hd/dockerd.log)"; }
      log "$h: sshd pid $(pid_of "$h" sshd) on $(host_addr "$h"):22, dockerd pid $pid answers on /run/docker.sock"
    else
      log "$h: sshd pid $(pid_of "$h" sshd) on $(host_addr "$h"):22"
    fi
  done
}
sshd_listening() { [ -n "$(in_net "$(host_ns "$1")" ss -Hltn 'sport = :22')" ]; }

# busybox:latest, offline: Debian's static busybox plus one symlink per applet.
build_busybox_tar() {
  local rootfs=$LAB_DIR/busybox-rootfs bb a
  bb=$(command -v busybox)
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp" "$rootfs/root" "$rootfs/var"
  chmod 1777 "$rootfs/tmp"
  cp "$bb" "$rootfs/bin/busybox"
  for a in $("$bb" --list); do [ "$a" = busybox ] || ln -s busybox "$rootfs/bin/$a"; done
  chroot "$rootfs" /bin/sh -c true || die "$bb does not run without a libc (install busybox-static)"
  tar -C "$rootfs" -cf "$LAB_DIR/busybox.tar" .
  rm -rf "$rootfs"
}

import_busybox() {
  local h=$1
  in_host "$h" docker -H "$DOCKER_SOCK" import -c 'CMD ["sh"]' - busybox:latest <"$LAB_DIR/busybox.tar" >/dev/null
  in_host "$h" docker -H "$DOCKER_SOCK" image inspect busybox:latest >/dev/null
}

# A real host has the filter and nat tables with their built-in chains. With iptables-nft,
# `iptables -S` alone does not create them; an empty --noflush restore does.
init_iptables() {
  local h=$1
  in_host "$h" iptables -w -S >/dev/null
  in_host "$h" iptables -w -t nat -S >/dev/null
  printf '%s\n' '*filter' ':INPUT ACCEPT [0:0]' ':FORWARD ACCEPT [0:0]' ':OUTPUT ACCEPT [0:0]' COMMIT \
    '*nat' ':PREROUTING ACCEPT [0:0]' ':INPUT ACCEPT [0:0]' ':OUTPUT ACCEPT [0:0]' ':POSTROUTING ACCEPT [0:0]' COMMIT |
    in_host "$h" iptables-restore -w --noflush
}

verify_ssh() {
  local h pids=() rc=0
  for h in $LAB_HOSTS; do verify_ssh_host "$h" & pids+=("$!"); done
  for h in "${pids[@]}"; do wait "$h" || rc=1; done
  [ "$rc" = 0 ] || die "ssh into the lab hosts failed"
}
verify_ssh_host() {
  local h=$1 addr out
  addr=$(host_addr "$h")
  out=$(ssh -F "$LAB_DIR/ssh_config" "root@$addr" 'for c in docker ip iptables sysctl; do command -v "$c" >/dev/null || echo "missing $c"; done; echo ok') ||
    die "$h: ssh root@$addr failed"
  [ "$out" = ok ] || die "$h: the login PATH lacks: $out"
  if [ "$(host_role "$h")" = docker ]; then
    out=$(PATH="$LAB_DIR/bin:$PATH" DOCKER_HOST="ssh://root@$addr" docker version --format '{{.Server.Version}}') ||
      die "$h: docker -H ssh://root@$addr failed"
    log "$h: ssh root@$addr ok; docker over ssh: engine $out"
  else
    log "$h: ssh root@$addr ok"
  fi
}

cmd_up() {
  need_root up
  need_cmds ip nsenter unshare mount umount mountpoint findmnt flock setsid sysctl ss ssh ssh-keygen sshd \
    dockerd docker containerd runc iptables iptables-restore busybox tar chroot ps timeout awk install
  check_plan
  take_lock 0
  local traces
  traces=$(lab_traces)
  [ -z "$traces" ] || die "the lab (or part of it) already exists — run: npm run lab:down
$(printf '%s\n' "$traces" | sed 's/^/  /')"
  safety_check
  local t0=$SECONDS h
  UP_DONE=0
  trap 'up_exit' EXIT
  trap 'exit 130' INT TERM HUP

  mkdir -p "$LAB_RUN_DIR" "$PID_DIR"
  printf '%s\n' "$LAB_DIR" >"$LAB_RUN_DIR/lab-dir"
  : >"$CREATED_LIST"
  mkdir -m 700 "$LAB_DIR"
  # `ip netns add` turns /run/netns into a mount point; down undoes that if it was not one before
  ensure_dir /run/netns
  mountpoint -q /run/netns || record_created "mount:/run/netns"

  build_switch
  build_root_link
  for h in $LAB_HOSTS; do build_host_net "$h"; done
  check_built

  for h in $LAB_HOSTS; do mkdir -p "$(host_dir "$h")"; done
  make_keys
  for d in $HOST_BIND_DIRS; do ensure_dir "$d"; done
  [ -z "$(docker_hosts)" ] || for d in $DOCKER_BIND_DIRS; do ensure_dir "$d"; done
  make_ns_dir
  for h in $LAB_HOSTS; do
    write_host_files "$h"
    build_host_mnt "$h"
    init_iptables "$h"
  done
  log "mounts: each host has its own /run (tmpfs), /sys, ${HOST_BIND_DIRS// /, } (+ /etc/docker on docker hosts)"

  for h in $LAB_HOSTS; do
    start_sshd "$h"
    [ "$(host_role "$h")" != docker ] || start_dockerd "$h"
  done
  build_busybox_tar
  wait_daemons
  for h in $(docker_hosts); do import_busybox "$h"; done
  log "busybox:latest imported offline into $(docker_hosts | tr '\n' ' ')"
  verify_ssh
  check_built
  UP_DONE=1
  printf 'up completed in %s s\n' "$((SECONDS - t0))" >"$LAB_DIR/ready"
  log "lab is up in $((SECONDS - t0)) s (vlan mode: $VLAN_MODE)"
  log "try: ssh -F .lab/ssh_config root@$(host_addr "${LAB_HOSTS%% *}")"
  log "     PATH=\"\$PWD/.lab/bin:\$PATH\" DOCKER_HOST=ssh://root@$(host_addr "${LAB_HOSTS%% *}") docker ps"
}

up_exit() {
  local rc=$?
  [ "${UP_DONE:-0}" = 1 ] && return 0
  trap - EXIT INT TERM HUP
  warn "up failed (exit $rc): tearing down the half-built lab"
  teardown || true
  exit "$((rc == 0 ? 1 : rc))"
}

# --- down -------------------------------------------------------------------------------------
lab_traces() {
  local ns d pids
  while IFS= read -r ns; do [ ! -e "/run/netns/$ns" ] || printf 'netns %s\n' "$ns"; done < <(all_netns)
  ! ip link show dev "$LAB_ROOT_LINK" >/dev/null 2>&1 || printf 'link %s\n' "$LAB_ROOT_LINK"
  [ ! -e "$LAB_RUN_DIR" ] || printf 'dir %s\n' "$LAB_RUN_DIR"
  while IFS= read -r d; do [ ! -e "$d" ] || printf 'dir %s\n' "$d"; done < <(lab_dirs)
  while IFS= read -r d; do printf 'cgroup %s\n' "$d"; done < <(lab_cgroup_dirs)
  pids=$(lab_pids | tr '\n' ' ')
  [ -z "$pids" ] || printf 'processes %s\n' "$pids"
  findmnt -rn -o TARGET | while IFS= read -r d; do
    case $d in "$LAB_RUN_DIR" | "$LAB_RUN_DIR"/* | "$LAB_DIR" | "$LAB_DIR"/*) printf 'mount %s\n' "$d" ;; esac
  done
}

stop_containers() {
  local h ids
  for h in $(docker_hosts); do
    if [ ! -e "/run/netns/$(host_ns "$h")" ] || ! mountpoint -q "$(mnt_ns_file "$h")" 2>/dev/null; then continue; fi
    ids=$(timeout 10 nsenter --net="/run/netns/$(host_ns "$h")" --mount="$(mnt_ns_file "$h")" -- \
      docker -H "$DOCKER_SOCK" ps -aq 2>/dev/null) || continue
    [ -n "$ids" ] || continue
    log "$h: removing containers $(printf '%s' "$ids" | tr '\n' ' ')"
    # shellcheck disable=SC2086 # one id per word
    timeout 60 nsenter --net="/run/netns/$(host_ns "$h")" --mount="$(mnt_ns_file "$h")" -- \
      docker -H "$DOCKER_SOCK" rm -f $ids >/dev/null 2>&1 || warn "$h: docker rm -f failed"
  done
}

# Waits up to $1 tenths of a second for the lab's processes to end; prints the pids still there.
wait_processes_gone() {
  local i left
  for ((i = 0; i < $1; i++)); do
    left=$(lab_pids | tr '\n' ' ')
    [ -n "${left// /}" ] || return 0
    sleep 0.1
  done
  printf '%s' "$left"
  return 1
}

stop_processes() {
  local pids left
  pids=$(lab_pids | tr '\n' ' ')
  [ -n "${pids// /}" ] || return 0
  log "stopping processes: $pids"
  # shellcheck disable=SC2086 # pids are words
  kill -TERM $pids 2>/dev/null || true
  left=$(wait_processes_gone 150) && return 0
  warn "still running after SIGTERM, killing: $left"
  # shellcheck disable=SC2086
  kill -KILL $left 2>/dev/null || true
  left=$(wait_processes_gone 50) && return 0
  warn "processes survive SIGKILL: $left"
  return 1
}

unmount_lab() {
  local d t
  # deepest first; lazily if busy
  while IFS= read -r d; do
    findmnt -rn -o TARGET | while IFS= read -r t; do
      case $t in "$d" | "$d"/*) printf '%s\n' "$t" ;; esac
    done
  done < <(printf '%s\n' "$LAB_RUN_DIR"; lab_dirs) | sort -ru | while IFS= read -r t; do
    umount "$t" 2>/dev/null || umount -l "$t" || warn "cannot unmount $t"
  done
}

remove_links_and_netns() {
  local ns
  if ip link show dev "$LAB_ROOT_LINK" >/dev/null 2>&1; then ip link del "$LAB_ROOT_LINK" || warn "cannot delete $LAB_ROOT_LINK"; fi
  while IFS= read -r ns; do
    [ ! -e "/run/netns/$ns" ] || ip netns del "$ns" || warn "cannot delete netns $ns"
  done < <(all_netns)
}

remove_created_paths() {
  [ -f "$CREATED_LIST" ] || return 0
  local p
  while IFS= read -r p; do
    case $p in
      mount:*)
        p=${p#mount:}
        if [ -z "$(ls -A "$p" 2>/dev/null)" ]; then
          while mountpoint -q "$p"; do umount "$p" || umount -l "$p" || break; done
        fi
        ;;
      *) [ ! -d "$p" ] || rmdir "$p" 2>/dev/null || warn "left $p in place: not empty" ;;
    esac
  done < <(tac "$CREATED_LIST")
}

remove_cgroups() {
  local d
  while IFS= read -r d; do
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [ ! -d "$d" ] || warn "cgroup $d still in use"
  done < <(lab_cgroup_dirs)
}

teardown() {
  local d rc=0
  stop_containers
  stop_processes || rc=1
  unmount_lab
  remove_links_and_netns
  remove_cgroups
  while IFS= read -r d; do
    [ -e "$d" ] || continue
    rm -rf --one-file-system "$d" || { warn "cannot remove $d completely"; rc=1; }
  done < <(lab_dirs)
  remove_created_paths
  rm -rf --one-file-system "$LAB_RUN_DIR" || rc=1
  return "$rc"
}

cmd_down() {
  need_root down
  need_cmds ip nsenter umount mountpoint findmnt flock ps timeout awk tac
  take_lock 120
  if [ -z "$(lab_traces)" ]; then
    log "no lab here: nothing to do"
    return 0
  fi
  local t0=$SECONDS
  teardown || die "teardown incomplete (see warnings); run: npm run lab:status"
  local left
  left=$(lab_traces)
  [ -z "$left" ] || die "teardown incomplete; still present:
$left"
  log "lab is down in $((SECONDS - t0)) s: no lab netns, links, processes, mounts or files remain"
}

# --- status -----------------------------------------------------------------------------------
cmd_status() {
  need_root status
  need_cmds ip nsenter mountpoint findmnt ps awk
  local have=0 miss=0 h ns addr id pid mode=unknown line
  if [ -z "$(lab_traces)" ]; then
    printf '[lab] absent: no lab netns, links, processes, mounts or files\n'
    return 3
  fi
  item() { # item OK TEXT
    if [ "$1" = 1 ]; then have=$((have + 1)); printf '  [ok]      %s\n' "$2"; else miss=$((miss + 1)); printf '  [missing] %s\n' "$2"; fi
  }
  yes_if() { if "$@" >/dev/null 2>&1; then printf 1; else printf 0; fi; }
  [ -f "$LAB_DIR/vlan-mode" ] && mode=$(cat "$LAB_DIR/vlan-mode")
  printf '[lab] status (vlan mode: %s)\n' "$mode"
  item "$(yes_if test -e "/run/netns/$SW")" "netns $SW"
  item "$(yes_if ip -n "$SW" link show dev "$BR_TRUNK")" "bridge $BR_TRUNK in $SW"
  if [ "$mode" = emulated ]; then
    for id in $VLAN_IDS; do item "$(yes_if ip -n "$SW" link show dev "br-vlan$id")" "bridge br-vlan$id in $SW"; done
  fi
  line=$(ip -o -4 addr show dev "$LAB_ROOT_LINK" 2>/dev/null | awk '{print $4}' || true)
  item "$([ "$line" = "$LAB_MGMT_ROOT_ADDR" ] && printf 1 || printf 0)" "link $LAB_ROOT_LINK ${line:-(no address)} in the root netns"
  item "$(yes_if mountpoint -q "$NS_DIR")" "private bind mount $NS_DIR"
  for h in $LAB_HOSTS; do
    ns=$(host_ns "$h")
    addr=$(host_addr "$h")
    item "$(yes_if test -e "/run/netns/$ns")" "$h: netns $ns"
    line=$(ip -n "$ns" -o -4 addr show dev "$TRUNK" 2>/dev/null | awk '{print $4}' || true)
    item "$([ "$line" = "$addr/$MGMT_PREFIX_LEN" ] && printf 1 || printf 0)" "$h: $TRUNK ${line:-(no address)}"
    if [ "$mode" = emulated ]; then
      for id in $VLAN_IDS; do
        line=$(ip -n "$ns" -o link show dev "$TRUNK.$id" 2>/dev/null | grep -o 'state [A-Z]*' || true)
        item "$([ -n "$line" ] && printf 1 || printf 0)" "$h: $TRUNK.$id ${line:-absent}"
      done
    fi
    item "$(yes_if mountpoint -q "$(mnt_ns_file "$h")")" "$h: mount ns $(mnt_ns_file "$h")"
    pid=$(pid_of "$h" sshd || true)
    item "$([ -n "$pid" ] && proc_alive "$pid" && printf 1 || printf 0)" "$h: sshd pid ${pid:-?} on $addr:22"
    if [ "$(host_role "$h")" = docker ]; then
      pid=$(pid_of "$h" dockerd || true)
      item "$([ -n "$pid" ] && proc_alive "$pid" && printf 1 || printf 0)" "$h: dockerd pid ${pid:-?}"
      item "$(yes_if timeout 10 nsenter --net="/run/netns/$ns" --mount="$(mnt_ns_file "$h")" -- \
        docker -H "$DOCKER_SOCK" image inspect busybox:latest)" "$h: dockerd answers on /run/docker.sock, has busybox:latest"
    fi
  done
  local d
  for d in id_ed25519 known_hosts ssh_config vlan-mode ready; do item "$(yes_if test -f "$LAB_DIR/$d")" ".lab/$d"; done
  local pids
  pids=$(lab_pids | tr '\n' ',')
  if [ -n "$pids" ]; then
    printf '[lab] processes:\n'
    ps -o pid=,ppid=,args= -p "${pids%,}" | cut -c1-150 | sed 's/^/  /'
  fi
  printf '[lab] mounts in the root mount ns:\n'
  findmnt -rn -o TARGET,FSTYPE | while read -r d line; do
    case $d in "$LAB_RUN_DIR" | "$LAB_RUN_DIR"/* | "$LAB_DIR" | "$LAB_DIR"/*) printf '  %s %s\n' "$d" "$line" ;; esac
    while IFS= read -r ns; do [ "$d" != "/run/netns/$ns" ] || printf '  %s %s\n' "$d" "$line"; done < <(all_netns)
  done
  if [ "$miss" = 0 ]; then
    printf '[lab] complete\n'
    return 0
  fi
  printf '[lab] partial: %d of %d parts missing (run: npm run lab:down)\n' "$miss" "$((have + miss))"
  return 1
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  _host-mounts) host_mounts "$2" "$3" "$4" "$5" ;;
  *)
    printf 'usage: %s up|down|status\n' "$0" >&2
    exit 2
    ;;
esac
