#!/bin/sh
# PID 1 of a lab host: a User-Mode Linux guest whose root is the machine's / read-only (hostfs).
# It plays a host's boot: modules, its own disk under /etc, /var/lib and /root (so what is written
# there survives a reboot), the trunk renamed to ens33 with the management address, the enabled
# systemd units ordered before docker.service (the program's boot unit), then sshd and, on a Docker
# host, dockerd. Ctrl-Alt-Del (lab.sh sends it with uml_mconsole) shuts down cleanly.
# The kernel passes unknown command-line words as the environment: LAB_HOST, LAB_ROLE, LAB_ADDR
# (address/prefix), LAB_DIR (the lab's folder on the machine), LAB_TRUNK, LAB_ENGINE.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C
HOST_DIR=$LAB_DIR/hosts/$LAB_HOST
DISK=/run/lab-disk

say() {
  read -r up _ </proc/uptime
  echo "[guest $LAB_HOST ${up}s] $*"
}

# The modules a lab host needs, dependencies first (lab.sh resolves modules.dep on the machine:
# the guest has no kmod, and every extra process is slow under UML).
load_modules() {
  while IFS= read -r ko; do
    busybox insmod "$ko" || say "insmod $ko failed"
  done <"$LAB_DIR/modules.list"
}

mount_system() {
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev 2>/dev/null
  mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
  mount -t tmpfs -o mode=755 tmpfs /run
  mount -t tmpfs -o mode=1777 tmpfs /tmp
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
  echo 0 >/proc/sys/kernel/ctrl-alt-del
}

# The guest's own disk (ubd0, ext4) as the upper layer over the machine's read-only dirs.
mount_disk() {
  mkdir -p "$DISK"
  mount -t ext4 /dev/ubda "$DISK" || { say "cannot mount /dev/ubda"; return 1; }
  for dir in /etc /var/lib; do
    layer=$DISK/layers/${dir#/}
    mkdir -p "$layer/upper" "$layer/work"
    mount -t overlay overlay -o "lowerdir=$dir,upperdir=$layer/upper,workdir=$layer/work" "$dir"
  done
  # root's home is the host's own, not the machine's (whose shell start-up files are not a host's)
  [ -d "$DISK/root" ] || mkdir -m 700 "$DISK/root"
  mount --bind "$DISK/root" /root
  # overlay2 cannot stack on overlayfs: Docker's data lives on the disk itself
  mkdir -p "$DISK/docker" /var/lib/docker
  mount --bind "$DISK/docker" /var/lib/docker
  # a RHEL 7 host has this folder
  mkdir -p /etc/sysconfig/network-scripts
  hostname "$LAB_HOST"
}

# The UML kernel has no nf_tables for IPv4: every `iptables` (also from scripts with their own
# PATH) runs the legacy backend, inside this guest only.
legacy_iptables() {
  mount --bind /usr/sbin/xtables-legacy-multi /usr/sbin/xtables-nft-multi
  iptables -w -S >/dev/null && iptables -w -t nat -S >/dev/null
}

network() {
  ip link set lo up
  ip link set eth0 name "$LAB_TRUNK"
  ip addr add "$LAB_ADDR" dev "$LAB_TRUNK"
  ip link set "$LAB_TRUNK" up
  sysctl -qw net.ipv4.ip_forward=0
  # /etc/sysctl.d is read at boot, as systemd-sysctl does
  for f in /etc/sysctl.d/*.conf; do [ ! -f "$f" ] || sysctl -q -p "$f"; done
}

# No systemd here: what it would run before docker.service, this does — the ExecStart of each unit
# enabled in an /etc/systemd/system/*.wants folder whose [Unit] says Before=docker.service, in name
# order (the program installs one such unit; the machine's own /etc has none).
run_boot_units() {
  for link in /etc/systemd/system/*.wants/*.service; do
    [ -e "$link" ] || continue
    unit=$(readlink -f "$link")
    grep -q '^Before=.*docker\.service' "$unit" || continue
    exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
    say "unit ${link##*/}: $exec_start"
    if sh -c "$exec_start" >>/run/boot-units.log 2>&1; then
      say "unit ${link##*/}: done"
    else
      say "unit ${link##*/}: failed (see /run/boot-units.log)"
    fi
  done
}

start_sshd() {
  mkdir -p /run/sshd
  /usr/sbin/sshd -f "$HOST_DIR/sshd_config" -E /run/sshd.log
}

# containerd first, as its own service: dockerd gives up on a containerd it starts itself after a
# fixed wait, which a loaded machine can exceed.
start_dockerd() {
  [ "$LAB_ROLE" = docker ] || return 0
  PATH=$LAB_ENGINE/usr/sbin:$LAB_ENGINE/usr/bin:$PATH
  setsid containerd </dev/null >/run/containerd.log 2>&1 &
  echo "$!" >/run/lab-containerd.pid
  setsid dockerd --containerd /run/containerd/containerd.sock \
    --data-root /var/lib/docker --exec-root /run/docker -H unix:///run/docker.sock --pidfile /run/docker.pid \
    --bridge none --iptables=false --ip-forward=false --ip-masq=false --userland-proxy=false \
    </dev/null >/run/dockerd.log 2>&1 &
  echo "$!" >/run/lab-dockerd.pid
}

stop_pid() {
  [ -f "$1" ] || return 0
  pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || return 0
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null || true
}

# Clean halt: daemons stop, the disk is synced and unmounted, then the kernel powers off.
shutdown_guest() {
  say "shutting down"
  stop_pid /run/lab-dockerd.pid
  stop_pid /run/lab-containerd.pid
  stop_pid /run/sshd.pid
  kill -TERM -1 2>/dev/null
  sleep 0.5
  kill -KILL -1 2>/dev/null
  sync
  for m in /var/lib/docker /root /var/lib /etc; do umount "$m" 2>/dev/null || umount -l "$m"; done
  umount "$DISK" 2>/dev/null || mount -o remount,ro "$DISK"
  sync
  say "halted"
  exec busybox poweroff -f
}

mount_system
say "booting: disk /dev/ubda, trunk $LAB_TRUNK $LAB_ADDR"
load_modules
say "modules loaded"
mount_disk || exec busybox poweroff -f
say "disk mounted"
legacy_iptables
say "iptables legacy"
network
say "network"
run_boot_units
start_sshd
start_dockerd
trap shutdown_guest INT TERM
say "up"
while :; do
  sleep 1 &
  wait $!
done
