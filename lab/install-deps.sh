#!/usr/bin/env bash
# Install every Debian package the lab and the tests need (idempotent, non-interactive).
# Services are not started by the install: the lab runs its own sshd and dockerd per lab host.
set -euo pipefail

PACKAGES=(docker.io iptables iproute2 openssh-server openssh-client busybox-static iputils-ping procps
  shellcheck util-linux)

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

# Keep the packages' postinst scripts from starting a system dockerd (docker0, iptables rules) or
# sshd on this machine: a policy-rc.d that denies service starts, only for this install.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# written by lab/install-deps.sh for the duration of an install\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${PACKAGES[@]}"
printf '[deps] done\n'
