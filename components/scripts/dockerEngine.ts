// Before anything changes on a docker host: its Docker Engine must speak API 1.44 or newer, the first
// version that takes a MAC address per network (Engine 25). Older engines refuse or ignore it, so
// the check fails first, naming the version it found. Changes nothing.

import { joinScript, prelude, shellQuote } from "./shell";

/** The oldest Docker Engine API this project's containers work with. */
export const MINIMUM_DOCKER_API = "1.44";

export function renderDockerEngineCheck(minimumApi: string = MINIMUM_DOCKER_API): string {
  const [major, minor] = minimumApi.split(".").map(Number);
  if (!Number.isInteger(major) || !Number.isInteger(minor)) {
    throw new Error(`minimum Docker API must look like 1.44, got ${JSON.stringify(minimumApi)}`);
  }
  return joinScript([
    ...prelude(`Docker Engine API ${minimumApi} or newer (changes nothing)`, [], false),
    `MIN_MAJOR=${shellQuote(String(major))}`,
    `MIN_MINOR=${shellQuote(String(minor))}`,
    "if ! found=$(docker version --format '{{.Server.APIVersion}} {{.Server.Version}}' 2>&1); then",
    "  printf 'error: cannot ask the Docker Engine for its version: %s\\n' \"$found\" >&2",
    "  exit 1",
    "fi",
    "api=${found%% *}",
    "engine=${found#* }",
    "api_major=${api%%.*}",
    "api_minor=${api#*.}",
    "case $api_major$api_minor in",
    "  '' | *[!0-9]*)",
    "    printf 'error: the Docker Engine reported an API version this check cannot read: %s\\n' \"$found\" >&2",
    "    exit 1",
    "    ;;",
    "esac",
    "if [ \"$api_major\" -lt \"$MIN_MAJOR\" ] || { [ \"$api_major\" -eq \"$MIN_MAJOR\" ] && [ \"$api_minor\" -lt \"$MIN_MINOR\" ]; }; then",
    `  printf 'error: Docker Engine %s speaks API %s; this overlay needs API %s or newer (Engine 25+) for a MAC address per network\\n' "$engine" "$api" ${shellQuote(minimumApi)} >&2`,
    "  exit 1",
    "fi",
    "say \"docker engine: $engine, API $api\"",
  ]);
}
