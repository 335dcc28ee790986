#!/usr/bin/env bash
# Run a command on a lab host (a User-Mode Linux guest) over its management ssh, as root.
# Usage: lab/host-exec.sh <host> [cmd [args...]]  (default: an interactive shell)
# Example: lab/host-exec.sh host1 docker ps
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lab.env
. "$LAB_SRC/lab.env"

usage() { printf 'usage: %s <%s> [cmd [args...]]\n' "$0" "${LAB_HOSTS// /|}" >&2; exit 2; }
[ "$#" -ge 1 ] || usage
host=$1
shift
case " $LAB_HOSTS " in *" $host "*) ;; *) usage ;; esac
addr_var="LAB_HOST_${host}_ADDR"
config=$(dirname "$LAB_SRC")/.lab/ssh_config
[ -f "$config" ] || { printf '[lab] error: the lab is not up (run: npm run lab:up)\n' >&2; exit 1; }
if [ "$#" = 0 ]; then exec ssh -t -F "$config" "root@${!addr_var}"; fi
exec ssh -F "$config" "root@${!addr_var}" "$@"
