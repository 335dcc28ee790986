#!/usr/bin/env bash
# Run a command inside a lab host's network + mount namespaces (its own /run, /sys, /etc/sysconfig,
# docker socket...), without ssh. Usage: lab/host-exec.sh <host> [cmd [args...]]  (default: bash)
# Example: lab/host-exec.sh host1 docker -H unix:///run/docker.sock ps
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lab.env
. "$LAB_SRC/lab.env"

usage() { printf 'usage: %s <%s> [cmd [args...]]\n' "$0" "${LAB_HOSTS// /|}" >&2; exit 2; }
[ "$#" -ge 1 ] || usage
host=$1
shift
case " $LAB_HOSTS " in *" $host "*) ;; *) usage ;; esac
[ "$(id -u)" = 0 ] || { printf '[lab] error: host-exec.sh must run as root\n' >&2; exit 1; }

net=/run/netns/$LAB_NETNS_PREFIX$host
mnt=$LAB_RUN_DIR/ns/$host.mnt
if [ ! -e "$net" ] || ! mountpoint -q "$mnt"; then
  printf '[lab] error: lab host %s is not up (run: npm run lab:up)\n' "$host" >&2
  exit 1
fi
[ "$#" -gt 0 ] || set -- bash
exec nsenter --net="$net" --mount="$mnt" --wd=/ -- "$@"
