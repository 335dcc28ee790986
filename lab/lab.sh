#!/usr/bin/env bash
# The local lab: the dev stack's three hosts (two Docker hosts and a router) as User-Mode Linux
# guests — real kernels with 802.1Q, each with its own disk, sshd and (Docker hosts) Docker Engine
# 26 — whose trunks meet on one uml_switch inside the lab's network namespace. The machine reaches
# the guests' management addresses over a veth into that namespace.
# Usage: lab.sh up|down|status|reboot <host>   (lab/README.md says what it builds and touches)
set -euo pipefail

PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT_DIR=$(dirname "$LAB_SRC")
# shellcheck source-path=SCRIPTDIR source=lab.env
. "$LAB_SRC/lab.env"

LAB_DIR=$PROJECT_DIR/.lab
# Kept by `down`: Docker Engine packages fetched once (lab/fetch-engine.sh).
CACHE_DIR=$LAB_DIR/cache
ENGINE_ROOT=$CACHE_DIR/engine/root
PID_DIR=$LAB_RUN_DIR/pids
UML_DIR=$LAB_DIR/uml
# UML backs each guest's memory with a deleted file here (tmpfs: no disk writes).
UML_TMP=/dev/shm/ovl-lab
SW=$LAB_SWITCH_NETNS
BR_TRUNK=br-trunk
TAP=ovl-tap0
SW_ROOT_PORT=root-mgmt0
SWITCH_CTL=$LAB_DIR/switch.ctl
MGMT_PREFIX_LEN=${LAB_MGMT_SUBNET#*/}
VLAN_MODE=802.1Q
# ipvlan: a VLAN may use the ipvlan driver (the e2e deploys one); ipt_REJECT: a router as shipped often ends FORWARD in REJECT (the e2e puts one there)
GUEST_MODULES="8021q macvlan ipvlan veth bridge br_netfilter overlay ip_tables iptable_filter iptable_nat
  xt_MASQUERADE xt_conntrack xt_addrtype xt_nat xt_comment xt_state ipt_REJECT"

T0=${EPOCHREALTIME/./}
# log lines carry the seconds since the script started
log() { local ms=$(((${EPOCHREALTIME/./} - T0) / 1000)); printf '[lab %3d.%01ds] %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*"; }
warn() { printf '[lab] warning: %s\n' "$*" >&2; }
die() { printf '[lab] error: %s\n' "$*" >&2; exit 1; }

host_addr() { local v="LAB_HOST_${1}_ADDR"; printf '%s' "${!v}"; }
host_role() { local v="LAB_HOST_${1}_ROLE"; printf '%s' "${!v}"; }
host_dir() { printf '%s/hosts/%s' "$LAB_DIR" "$1"; }
host_mem() { if [ "$(host_role "$1")" = docker ]; then printf 512M; else printf 192M; fi; }
# A stable MAC per host: locally administered, last octet = last octet of its address.
host_mac() { printf '02:0e:1a:00:00:%02x' "${1##*.}"; }
docker_hosts() { local h; for h in $LAB_HOSTS; do [ "$(host_role "$h")" != docker ] || printf '%s\n' "$h"; done; }
known_host() { case " $LAB_HOSTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

in_net() { nsenter --net="/run/netns/$SW" -- "$@"; }
mconsole() { local h=$1; shift; timeout 10 nsenter --net="/run/netns/$SW" -- uml_mconsole "$UML_DIR/$h/mconsole" "$@" 2>/dev/null; }
ssh_host() { local h=$1; shift; ssh -F "$LAB_DIR/ssh_config" "root@$(host_addr "$h")" "$@"; }

need_root() { [ "$(id -u)" = 0 ] || die "lab.sh $1 must run as root (it creates a namespace, links and UML processes)"; }
need_cmds() {
  local c missing=()
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  [ "${#missing[@]}" = 0 ] || die "missing commands: ${missing[*]} — install them with: bash lab/install-deps.sh"
}

# Serialize up/down/reboot: a lock on this script file (no lock file is left behind).
take_lock() {
  exec 9<"$LAB_SRC/lab.sh"
  flock -w "$1" 9 || die "another 'lab.sh' command is running"
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
  local h addr net n id
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
  [[ $TRUNK =~ ^[a-z][a-z0-9]{0,9}$ ]] || die "lab.env: TRUNK '$TRUNK' is not a plain interface name"
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

# After building: management traffic must go to the lab link; no default route in the lab's
# namespace or in any guest.
check_built() {
  local h addr got
  for h in $LAB_HOSTS; do
    addr=$(host_addr "$h")
    got=$(ip route get "$addr")
    [[ $got == *" dev $LAB_ROOT_LINK "* ]] || die "ip route get $addr does not say dev $LAB_ROOT_LINK: $got"
  done
  [ -z "$(ip -n "$SW" -4 route show default)$(ip -n "$SW" -6 route show default)" ] || die "netns $SW has a default route"
  for h in $LAB_HOSTS; do
    got=$(ssh_host "$h" 'ip -4 route show default; ip -6 route show default') || die "$h: ssh failed"
    [ -z "$got" ] || die "guest $h has a default route: $got"
  done
  log "safety: ${LAB_HOSTS// /, } route via $LAB_ROOT_LINK; neither netns $SW nor any guest has a default route"
}

# --- processes --------------------------------------------------------------------------------
# A process that exists and is not a zombie.
proc_alive() {
  local stat
  { IFS= read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# Every process of the lab: all run in the lab's network namespace (the UML transport's sockets are
# per namespace), found by that namespace's inode. Never this script.
lab_pids() {
  [ -e "/run/netns/$SW" ] || return 0
  local key dir link
  key="net:[$(stat -L -c %i "/run/netns/$SW")]"
  find /proc/[0-9]*/ns -maxdepth 1 -name net -printf '%h %l\n' 2>/dev/null | while read -r dir link; do
    [ "$link" = "$key" ] || continue
    dir=${dir#/proc/}
    dir=${dir%/ns}
    [ "$dir" = $$ ] || [ "$dir" = "$BASHPID" ] || ! proc_alive "$dir" || printf '%s\n' "$dir"
  done | sort -n
}

# The guest's kernel process: the one that wrote UML_DIR/<host>/pid.
guest_pid() {
  local f=$UML_DIR/$1/pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  proc_alive "$pid" || return 1
  printf '%s' "$pid"
}

# wait_until SECONDS CMD...: poll CMD every half second.
wait_until() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 2; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

# --- up ---------------------------------------------------------------------------------------
# modules.dep resolved on the machine, dependencies first: the guest has no kmod.
write_module_list() {
  local dir m line d f deps
  local -A seen=()
  dir=/usr/lib/uml/modules/$(linux.uml --version 2>/dev/null | awk '{print $NF; exit}')
  [ -f "$dir/modules.dep" ] || dir=$(find /usr/lib/uml/modules -mindepth 1 -maxdepth 1 -type d | sort -V | tail -n 1)
  [ -f "$dir/modules.dep" ] || die "no UML kernel modules under /usr/lib/uml/modules (install user-mode-linux)"
  for m in $GUEST_MODULES; do
    line=$(grep -E "(^|/)$m\.ko:" "$dir/modules.dep") || die "the UML kernel has no module $m ($dir)"
    deps=()
    for d in ${line#*:}; do deps=("$d" "${deps[@]}"); done
    for f in "${deps[@]}" "${line%%:*}"; do
      [ -n "${seen[$f]:-}" ] || { seen[$f]=1; printf '%s/%s\n' "$dir" "$f"; }
    done
  done >"$LAB_DIR/modules.list"
}

build_switch() {
  ip netns add "$SW"
  # the switch namespace is pure L2: no forwarding, no addresses (not even IPv6 link-local)
  in_net sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0
  ip -n "$SW" link set lo up
  local k
  for k in iptables ip6tables arptables; do
    [ ! -e "/proc/sys/net/bridge/bridge-nf-call-$k" ] || in_net sysctl -qw "net.bridge.bridge-nf-call-$k=0"
  done
  setsid nsenter --net="/run/netns/$SW" -- uml_switch -unix "$SWITCH_CTL" -tap "$TAP" </dev/null >"$LAB_DIR/uml_switch.log" 2>&1 9<&- &
  printf '%s\n' "$!" >"$PID_DIR/uml_switch.pid"
  wait_until 10 ip -n "$SW" link show dev "$TAP" || die "uml_switch did not create $TAP (log: $LAB_DIR/uml_switch.log)"
  ip -n "$SW" link add "$BR_TRUNK" type bridge
  ip -n "$SW" link set "$TAP" master "$BR_TRUNK" up
  ip -n "$SW" link set "$BR_TRUNK" up
  printf '%s\n' "$VLAN_MODE" >"$LAB_DIR/vlan-mode"
  log "switch: uml_switch on $SWITCH_CTL in netns $SW, its tap $TAP on bridge $BR_TRUNK"
  log "vlan mode: $VLAN_MODE (each guest's kernel tags $TRUNK.<id> frames; the program's scripts create the links)"
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
    printf '[%s]:%s %s\n' "$addr" "$LAB_ALT_SSH_PORT" "$(cut -d' ' -f1,2 "$hd/ssh_host_ed25519_key.pub")" >>"$LAB_DIR/known_hosts"
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

# The guest reads these through its read-only view of the machine's /.
write_host_files() {
  local h=$1 hd addr
  hd=$(host_dir "$h")
  addr=$(host_addr "$h")
  cat >"$hd/sshd_config" <<EOC
# sshd of lab host $h (written by lab/lab.sh): management address only, key-only root login
ListenAddress $addr:22
ListenAddress $addr:$LAB_ALT_SSH_PORT
HostKey $hd/ssh_host_ed25519_key
PidFile /run/sshd.pid
# the second: a user a test adds on the host (the lab's folder is root's alone)
AuthorizedKeysFile $LAB_DIR/authorized_keys /etc/ssh/authorized_keys.d/%u
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
EOC
  # the guest's own disk: ext4, the upper layer of its /etc and /var/lib, its /root and Docker's data
  truncate -s 4G "$hd/disk.img"
  mkfs.ext4 -q -F -L "ovl-$h" "$hd/disk.img"
}

# use_uml_preload: sets UML_PRELOAD to the LD_PRELOAD the UML kernel needs on this CPU, or "". On a CPU with AMX the
# host's XSAVE area is larger than the one Debian's UML kernel moves with ptrace, and the guest
# panics at its first process; lab/uml-xstate.c (built once into the cache) bridges the sizes.
UML_PRELOAD=""
use_uml_preload() {
  UML_PRELOAD=""
  grep -qw amx_tile /proc/cpuinfo || return 0
  local so=$CACHE_DIR/uml-xstate.so src=$LAB_SRC/uml-xstate.c
  if [ ! -f "$so" ] || [ "$src" -nt "$so" ]; then
    command -v cc >/dev/null 2>&1 || die "this CPU has AMX: the UML kernel needs lab/uml-xstate.c built, and cc is missing (bash lab/install-deps.sh installs gcc)"
    mkdir -p "$CACHE_DIR"
    cc -shared -fPIC -O2 -Wall -o "$so.partial" "$src" -ldl || die "cannot build $src"
    mv "$so.partial" "$so"
  fi
  UML_PRELOAD=$so
}

# boot_guest HOST: start the guest's kernel in the lab's namespace, detached; its console goes to a log.
boot_guest() {
  local h=$1 hd
  hd=$(host_dir "$h")
  rm -rf "${UML_DIR:?}/$h"
  mkdir -p "$UML_TMP"
  printf '\n==== boot %s\n' "$(date -u +%FT%TZ)" >>"$hd/console.log"
  setsid nsenter --net="/run/netns/$SW" -- env -i TMPDIR="$UML_TMP" ${UML_PRELOAD:+LD_PRELOAD="$UML_PRELOAD"} linux.uml \
    mem="$(host_mem "$h")" rootfstype=hostfs rootflags=/ ro \
    ubd0="$hd/disk.img" eth0="daemon,$(host_mac "$(host_addr "$h")"),unix,$SWITCH_CTL" \
    init="$LAB_SRC/guest-init.sh" umid="$h" uml_dir="$UML_DIR" \
    con=null con0=null,fd:1 ssl=null quiet \
    LAB_HOST="$h" LAB_ROLE="$(host_role "$h")" LAB_ADDR="$(host_addr "$h")/$MGMT_PREFIX_LEN" \
    LAB_DIR="$LAB_DIR" LAB_TRUNK="$TRUNK" LAB_ENGINE="$ENGINE_ROOT" \
    </dev/null >>"$hd/console.log" 2>&1 9<&- &
  printf '%s\n' "$!" >"$PID_DIR/$h.pid"
}

sshd_answers() { ssh -F "$LAB_DIR/ssh_config" -o ConnectTimeout=3 "root@$(host_addr "$1")" true; }
dockerd_answers() { ssh_host "$1" 'docker -H unix:///run/docker.sock version --format "{{.Server.Version}}"'; }

# wait_guest HOST: sshd (and dockerd on a Docker host) answer, as after a host's boot.
wait_guest() {
  local h=$1 hd
  hd=$(host_dir "$h")
  wait_until 300 sshd_answers "$h" || { tail -n 20 "$hd/console.log" >&2; die "$h: sshd did not answer within 300 s (console: $hd/console.log)"; }
  if [ "$(host_role "$h")" = docker ]; then
    wait_until 300 dockerd_answers "$h" || { ssh_host "$h" 'tail -n 20 /run/dockerd.log' >&2 || true; die "$h: dockerd did not answer within 300 s"; }
    log "$h: up (kernel $(ssh_host "$h" 'uname -r'), sshd on $(host_addr "$h"):22, Docker Engine $(dockerd_answers "$h"))"
  else
    log "$h: up (kernel $(ssh_host "$h" 'uname -r'), sshd on $(host_addr "$h"):22)"
  fi
}

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
  ssh_host "$h" "docker import -c 'CMD [\"sh\"]' - busybox:latest >/dev/null && docker image inspect --format '{{.Id}}' busybox:latest" \
    <"$LAB_DIR/busybox.tar" >/dev/null || die "$h: docker import of busybox:latest failed"
}

verify_docker_over_ssh() {
  local h addr out
  for h in $(docker_hosts); do
    addr=$(host_addr "$h")
    out=$(PATH="$LAB_DIR/bin:$PATH" DOCKER_HOST="ssh://root@$addr" docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})') ||
      die "$h: docker -H ssh://root@$addr failed"
    log "$h: docker over ssh://root@$addr: engine $out"
  done
}

cmd_up() {
  need_root up
  need_cmds ip nsenter setsid flock sysctl ssh ssh-keygen sshd linux.uml uml_switch uml_mconsole \
    mkfs.ext4 truncate busybox tar chroot timeout awk install docker apt-get dpkg-deb
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
  mkdir -p "$LAB_DIR"
  chmod 700 "$LAB_DIR"
  sh "$LAB_SRC/fetch-engine.sh" "$CACHE_DIR" >/dev/null || die "cannot fetch Docker Engine 26 (lab/fetch-engine.sh)"
  log "engine: $(tr '\n' ',' <"$CACHE_DIR/engine/VERSIONS" | sed 's/,$//; s/,/, /g') in .lab/cache/engine"
  write_module_list
  use_uml_preload
  [ -z "$UML_PRELOAD" ] || log "this CPU has AMX: the UML kernel runs with .lab/cache/uml-xstate.so (lab/uml-xstate.c)"
  build_switch
  build_root_link
  for h in $LAB_HOSTS; do mkdir -p "$(host_dir "$h")"; done
  make_keys
  for h in $LAB_HOSTS; do
    write_host_files "$h"
    boot_guest "$h"
  done
  log "booting ${LAB_HOSTS// /, } (User-Mode Linux, consoles in .lab/hosts/<host>/console.log)"
  build_busybox_tar
  for h in $LAB_HOSTS; do wait_guest "$h"; done
  for h in $(docker_hosts); do import_busybox "$h"; done
  log "busybox:latest imported offline into $(docker_hosts | tr '\n' ' ')"
  verify_docker_over_ssh
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

# --- reboot -----------------------------------------------------------------------------------
# Halts a guest as a host shuts down (its init stops the daemons, syncs and unmounts its disk, then
# powers off), and boots it again from the same disk.
cmd_reboot() {
  local h=${1:-} pid t0=$SECONDS
  need_root reboot
  known_host "$h" || die "usage: lab.sh reboot <${LAB_HOSTS// /|}>"
  take_lock 120
  pid=$(guest_pid "$h") || die "$h is not running (run: npm run lab:up)"
  log "$h: shutting down (Ctrl-Alt-Del to its init)"
  mconsole "$h" cad >/dev/null || die "$h: uml_mconsole cad failed"
  if ! wait_until 120 bash -c "! kill -0 $pid"; then
    warn "$h did not halt within 120 s: halting its kernel"
    mconsole "$h" halt >/dev/null || kill -KILL "$pid"
    wait_until 30 bash -c "! kill -0 $pid" || die "$h: its kernel (pid $pid) does not stop"
  fi
  grep -q '\] halted$' <(tail -n 5 "$(host_dir "$h")/console.log") || warn "$h: no clean halt in its console log"
  close_ssh_masters
  log "$h: halted; booting from $(host_dir "$h")/disk.img"
  use_uml_preload
  boot_guest "$h"
  wait_guest "$h"
  log "$h: rebooted in $((SECONDS - t0)) s"
}

# --- down -------------------------------------------------------------------------------------
lab_traces() {
  local pids
  [ ! -e "/run/netns/$SW" ] || printf 'netns %s\n' "$SW"
  ! ip link show dev "$LAB_ROOT_LINK" >/dev/null 2>&1 || printf 'link %s\n' "$LAB_ROOT_LINK"
  [ ! -e "$LAB_RUN_DIR" ] || printf 'dir %s\n' "$LAB_RUN_DIR"
  [ ! -e "$UML_TMP" ] || printf 'dir %s\n' "$UML_TMP"
  [ -z "$(lab_dir_entries)" ] || printf 'dir %s (%s)\n' "$LAB_DIR" "$(lab_dir_entries | tr '\n' ' ' | sed 's/ $//')"
  pids=$(lab_pids | tr '\n' ' ')
  [ -z "$pids" ] || printf 'processes %s\n' "$pids"
  pids=$(pgrep -f "uml_dir=$UML_DIR( |$)" | tr '\n' ' ' || true)
  [ -z "$pids" ] || printf 'guest processes outside %s: %s\n' "$SW" "$pids"
}
# What .lab holds besides the engine cache.
lab_dir_entries() { [ ! -d "$LAB_DIR" ] || find "$LAB_DIR" -mindepth 1 -maxdepth 1 ! -name cache -printf '%f\n'; }

stop_guests() {
  local h pids left
  for h in $LAB_HOSTS; do
    guest_pid "$h" >/dev/null || continue
    # the guests' disks are thrown away: no clean shutdown needed
    mconsole "$h" halt >/dev/null || true
  done
  pids=$( (lab_pids; pgrep -f "uml_dir=$UML_DIR( |$)" || true) | sort -u | tr '\n' ' ')
  [ -n "${pids// /}" ] || return 0
  log "stopping processes: $pids"
  # shellcheck disable=SC2086 # pids are words
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 1 50); do
    left=$( (lab_pids; pgrep -f "uml_dir=$UML_DIR( |$)" || true) | sort -u | tr '\n' ' ')
    [ -n "${left// /}" ] || return 0
    sleep 0.2
  done
  warn "still running after SIGTERM, killing: $left"
  # shellcheck disable=SC2086
  kill -KILL $left 2>/dev/null || true
  sleep 1
  left=$( (lab_pids; pgrep -f "uml_dir=$UML_DIR( |$)" || true) | sort -u | tr '\n' ' ')
  [ -z "${left// /}" ] || { warn "processes survive SIGKILL: $left"; return 1; }
}

# The e2e's shared ssh connections (e2e/labAccess.ts) end with the lab.
close_ssh_masters() {
  local socket
  for socket in "$LAB_RUN_DIR"/ssh/*; do
    [ -S "$socket" ] || continue
    ssh -o ControlPath="$socket" -O exit lab-host >/dev/null 2>&1 || true
  done
}

teardown() {
  local rc=0 d
  close_ssh_masters
  stop_guests || rc=1
  if ip link show dev "$LAB_ROOT_LINK" >/dev/null 2>&1; then ip link del "$LAB_ROOT_LINK" || rc=1; fi
  [ ! -e "/run/netns/$SW" ] || ip netns del "$SW" || rc=1
  rm -rf --one-file-system "$UML_TMP" "$LAB_RUN_DIR" || rc=1
  while IFS= read -r d; do rm -rf --one-file-system "${LAB_DIR:?}/$d" || rc=1; done < <(lab_dir_entries)
  return "$rc"
}

cmd_down() {
  need_root down
  need_cmds ip nsenter flock timeout pgrep
  take_lock 120
  if [ -z "$(lab_traces)" ]; then
    log "no lab here: nothing to do"
    return 0
  fi
  local t0=$SECONDS left
  teardown || warn "teardown reported problems"
  left=$(lab_traces)
  [ -z "$left" ] || die "teardown incomplete; still present:
$left"
  log "lab is down in $((SECONDS - t0)) s: no lab netns, link, process or file remains (the engine cache .lab/cache stays)"
}

# --- status -----------------------------------------------------------------------------------
cmd_status() {
  need_root status
  need_cmds ip nsenter timeout
  local have=0 miss=0 h addr pid mode=unknown line
  if [ -z "$(lab_traces)" ]; then
    printf '[lab] absent: no lab netns, link, process or file\n'
    return 3
  fi
  item() { # item OK TEXT
    if [ "$1" = 1 ]; then have=$((have + 1)); printf '  [ok]      %s\n' "$2"; else miss=$((miss + 1)); printf '  [missing] %s\n' "$2"; fi
  }
  yes_if() { if "$@" >/dev/null 2>&1; then printf 1; else printf 0; fi; }
  [ -f "$LAB_DIR/vlan-mode" ] && mode=$(cat "$LAB_DIR/vlan-mode")
  printf '[lab] status (vlan mode: %s)\n' "$mode"
  item "$(yes_if test -e "/run/netns/$SW")" "netns $SW"
  pid=$(cat "$PID_DIR/uml_switch.pid" 2>/dev/null || true)
  item "$([ -n "$pid" ] && proc_alive "$pid" && printf 1 || printf 0)" "uml_switch pid ${pid:-?} on $SWITCH_CTL"
  item "$(yes_if ip -n "$SW" link show dev "$TAP")" "tap $TAP in $SW"
  item "$(yes_if ip -n "$SW" link show dev "$BR_TRUNK")" "bridge $BR_TRUNK in $SW"
  line=$(ip -o -4 addr show dev "$LAB_ROOT_LINK" 2>/dev/null | awk '{print $4}' || true)
  item "$([ "$line" = "$LAB_MGMT_ROOT_ADDR" ] && printf 1 || printf 0)" "link $LAB_ROOT_LINK ${line:-(no address)} in the root netns"
  for h in $LAB_HOSTS; do
    addr=$(host_addr "$h")
    pid=$(guest_pid "$h" || true)
    item "$([ -n "$pid" ] && printf 1 || printf 0)" "$h: UML kernel pid ${pid:-?}, disk $(host_dir "$h")/disk.img"
    item "$(yes_if timeout 15 ssh -F "$LAB_DIR/ssh_config" -o ConnectTimeout=3 "root@$addr" true)" "$h: sshd on $addr:22"
    if [ "$(host_role "$h")" = docker ]; then
      item "$(yes_if timeout 30 ssh -F "$LAB_DIR/ssh_config" -o ConnectTimeout=3 "root@$addr" docker image inspect busybox:latest)" "$h: dockerd answers, has busybox:latest"
    fi
  done
  local d
  for d in id_ed25519 known_hosts ssh_config vlan-mode ready modules.list; do item "$(yes_if test -f "$LAB_DIR/$d")" ".lab/$d"; done
  pid=$(lab_pids | tr '\n' ',')
  if [ -n "$pid" ]; then
    printf '[lab] processes in netns %s:\n' "$SW"
    ps -o pid=,ppid=,args= -p "${pid%,}" | cut -c1-150 | sed 's/^/  /'
  fi
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
  reboot) cmd_reboot "${2:-}" ;;
  *)
    printf 'usage: %s up|down|status|reboot <host>\n' "$0" >&2
    exit 2
    ;;
esac
