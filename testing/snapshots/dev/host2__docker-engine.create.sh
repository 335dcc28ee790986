#!/bin/sh
# macvlan-overlay: Docker Engine API 1.44 or newer (changes nothing)
# Rendered by components/scripts.
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
say() { printf '%s\n' "$*"; }
MIN_MAJOR='1'
MIN_MINOR='44'
if ! found=$(docker version --format '{{.Server.APIVersion}} {{.Server.Version}}' 2>&1); then
  printf 'error: cannot ask the Docker Engine for its version: %s\n' "$found" >&2
  exit 1
fi
api=${found%% *}
engine=${found#* }
api_major=${api%%.*}
api_minor=${api#*.}
case $api_major$api_minor in
  '' | *[!0-9]*)
    printf 'error: the Docker Engine reported an API version this check cannot read: %s\n' "$found" >&2
    exit 1
    ;;
esac
if [ "$api_major" -lt "$MIN_MAJOR" ] || { [ "$api_major" -eq "$MIN_MAJOR" ] && [ "$api_minor" -lt "$MIN_MINOR" ]; }; then
  printf 'error: Docker Engine %s speaks API %s; this overlay needs API %s or newer (Engine 25+) for a MAC address per network\n' "$engine" "$api" '1.44' >&2
  exit 1
fi
say "docker engine: $engine, API $api"
