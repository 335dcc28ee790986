#!/usr/bin/env bash
# Install every Debian package the lab and the tests need (idempotent, non-interactive).
# No service of these packages starts during the install, and none is left enabled for the
# machine's next boot: the lab runs its own sshd, uml_switch and dockerd inside its guests.
set -euo pipefail

PACKAGES=(user-mode-linux uml-utilities e2fsprogs iptables iproute2 openssh-server openssh-client busybox-static
  iputils-ping procps shellcheck util-linux debian-archive-keyring sudo gcc libc6-dev)

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
boot_links() {
  find /etc/systemd/system /etc/rc0.d /etc/rc1.d /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d /etc/rcS.d \
    -type l \( -path '*.wants/*' -o -path '*.requires/*' -o -name 'S*' \) 2>/dev/null | sort
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
printf '[deps] done\n'
