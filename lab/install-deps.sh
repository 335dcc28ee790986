#!/usr/bin/env bash
# Install every Debian package the lab, the tests and the benchmarks need (idempotent, non-interactive).
# No service of these packages starts during the install, and none is left enabled for the
# machine's next boot: the lab runs its own sshd, uml_switch and dockerd inside its guests, and the
# benchmarks their own iperf3 servers in their namespaces. Docker Engine is not installed here: the
# lab and `npm run bench:check` fetch Docker 26 into .lab/cache (lab/fetch-engine.sh).
set -euo pipefail

# iperf3: `npm run bench`'s data plane; busybox-static, iproute2 (ss), iputils-ping, iptables,
# util-linux (nsenter, unshare, flock), procps (sysctl): both benchmarks (bench/tools.ts lists them).
# graphviz: `npm run diagram` draws the SVG with dot (tools/diagram.test.ts needs it in CI).
PACKAGES=(user-mode-linux uml-utilities e2fsprogs iptables iproute2 openssh-server openssh-client busybox-static
  iputils-ping procps shellcheck util-linux debian-archive-keyring sudo gcc libc6-dev iperf3 graphviz)

[ "$(id -u)" = 0 ] || { printf '[deps] error: run as root: bash lab/install-deps.sh\n' >&2; exit 1; }

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -qx 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" = 0 ]; then
  printf '[deps] all installed: %s\n' "${PACKAGES[*]}"
  exit 0
fi
printf '[deps] installing: %s\n' "${missing[*]}"

# Boot-time enablement: systemd's wants/requires links and SysV rc links.
# (find fails on a folder the machine lacks; under pipefail that must not end the script.)
boot_links() {
  { find /etc/systemd/system /etc/rc0.d /etc/rc1.d /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d /etc/rcS.d \
    -type l \( -path '*.wants/*' -o -path '*.requires/*' -o -name 'S*' \) 2>/dev/null || true; } | sort
}

# Keep the packages' postinst scripts from starting a system sshd or uml_switch on this machine:
# a policy-rc.d that denies service starts, only for this install.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# written by lab/install-deps.sh for the duration of an install\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

before=$(boot_links)
export DEBIAN_FRONTEND=noninteractive
# iperf3's package asks (debconf, priority high) whether to run a system iperf3 daemon, now and at
# boot. Answer no before it asks, whatever an earlier install answered: its scripts then disable
# iperf3.service and remove the SysV links instead of starting it.
printf 'iperf3 iperf3/start_daemon boolean false\n' | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"

# Disable for boot what this install enabled, and only that.
while IFS= read -r link; do
  [ -n "$link" ] || continue
  case $link in
    /etc/systemd/system/*)
      unit=$(basename "$link")
      printf '[deps] disabling for boot: %s (enabled by this install)\n' "$unit"
      systemctl disable "$unit" >/dev/null 2>&1 || rm -f "$link"
      ;;
    *)
      script=$(basename "$link" | sed 's/^S[0-9]*//')
      printf '[deps] disabling for boot: SysV %s (enabled by this install)\n' "$script"
      update-rc.d "$script" disable >/dev/null 2>&1 || rm -f "$link"
      ;;
  esac
done < <(comm -13 <(printf '%s\n' "$before") <(boot_links))

# No iperf3 daemon: none enabled for boot, none running as the package's iperf3 user.
if dpkg-query -W -f='${Status}\n' iperf3 2>/dev/null | grep -qx 'install ok installed'; then
  links=$(boot_links | grep -E '/(S[0-9]*iperf3|iperf3\.service)$' || true)
  if [ -n "$links" ]; then
    printf '[deps] error: iperf3 is enabled for boot (%s): systemctl disable iperf3; update-rc.d iperf3 remove\n' "$(printf '%s' "$links" | tr '\n' ' ')" >&2
    exit 1
  fi
  if getent passwd iperf3 >/dev/null && pids=$(pgrep -u iperf3 -x iperf3); then
    printf '[deps] error: an iperf3 daemon runs (pid %s): stop it with: invoke-rc.d iperf3 stop (or systemctl stop iperf3)\n' "$(printf '%s' "$pids" | tr '\n' ' ')" >&2
    exit 1
  fi
fi
printf '[deps] done\n'
