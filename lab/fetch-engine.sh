#!/bin/sh
# Fetches Docker Engine 26 for the lab's guests without touching the machine's apt sources:
# Debian 13's docker.io and containerd, Debian 12's runc (trixie's needs glibc 2.38), through a
# private apt configuration, unpacked with dpkg-deb -x. Usage: lab/fetch-engine.sh <cache dir>
# Leaves <cache dir>/engine/root/usr/{sbin,bin}/... and <cache dir>/engine/VERSIONS; idempotent.
set -eu

CACHE=${1:?usage: fetch-engine.sh <cache dir>}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
MIRROR=${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
ENGINE=$CACHE/engine
ROOT=$ENGINE/root

if [ -x "$ROOT/usr/sbin/dockerd" ] && [ -x "$ROOT/usr/sbin/runc" ] && [ -f "$ENGINE/VERSIONS" ]; then
  exit 0
fi
for c in apt-get dpkg-deb; do
  command -v "$c" >/dev/null 2>&1 || { echo "[engine] error: $c is missing (a Debian machine is needed)" >&2; exit 1; }
done
[ -r "$KEYRING" ] || { echo "[engine] error: $KEYRING is missing (install debian-archive-keyring)" >&2; exit 1; }

APT=$ENGINE/apt
STAGE=$ENGINE.partial
rm -rf "$STAGE"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$STAGE/debs" "$STAGE/root"
printf 'deb [signed-by=%s] %s trixie main\ndeb [signed-by=%s] %s bookworm main\n' \
  "$KEYRING" "$MIRROR" "$KEYRING" "$MIRROR" >"$APT/sources.list"

# Every path apt reads or writes lives under $APT: the machine's sources, lists and cache stay as they are.
apt_private() {
  apt-get -q -o Dir::Etc::sourcelist="$APT/sources.list" -o Dir::Etc::sourceparts=- \
    -o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache" \
    -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1 "$@"
}
apt_private update >"$ENGINE.update.log" 2>&1 || { cat "$ENGINE.update.log" >&2; exit 1; }
(cd "$STAGE/debs" && apt_private download docker.io/trixie containerd/trixie docker-cli/trixie runc/bookworm) >&2
for deb in "$STAGE"/debs/*.deb; do dpkg-deb -x "$deb" "$STAGE/root"; done
# shellcheck disable=SC2016 # dpkg-deb expands ${Package}
for deb in "$STAGE"/debs/*.deb; do dpkg-deb --showformat='${Package} ${Version}\n' -W "$deb"; done >"$STAGE/VERSIONS"
rm -rf "$ROOT"
mv "$STAGE/root" "$ROOT"
mv "$STAGE/VERSIONS" "$ENGINE/VERSIONS"
rm -f "$ENGINE.update.log"
cat "$ENGINE/VERSIONS"
