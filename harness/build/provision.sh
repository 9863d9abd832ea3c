#!/usr/bin/env bash
# Provisions the Debian tools the test suite runs for real: `prometheus` and `promtool` (Debian package
# "prometheus") and `skopeo` (package "skopeo", the OCI image checks); with --bench also `wrk` (the
# overhead bench's load generator, which falls back to an undici pool without it; the suite's
# SIGKILL test of that bench needs it). `npm test` runs this with --bench first (package.json
# "pretest"), and so does .ci/run.
#
#   - everything present (PROMETHEUS_BIN / PROMTOOL_BIN / SKOPEO_BIN, default /usr/bin/…): exit 0,
#     prints nothing;
#   - missing, root and apt-get available: installs the packages with a policy-rc.d that forbids
#     starting services (the prometheus package would otherwise start a system Prometheus), removes
#     that policy-rc.d again, and checks the binaries are there now;
#   - otherwise: stops at once (exit 1) with the exact command to run. Never a silent skip.
#
# Environment: PROMETHEUS_BIN, PROMTOOL_BIN, SKOPEO_BIN (where the tests look for the binaries),
# EDGEWATCH_POLICY_RC_D (policy file path, default /usr/sbin/policy-rc.d; tests point it elsewhere).
set -euo pipefail

prometheus_bin=${PROMETHEUS_BIN:-/usr/bin/prometheus}
promtool_bin=${PROMTOOL_BIN:-/usr/bin/promtool}
skopeo_bin=${SKOPEO_BIN:-/usr/bin/skopeo}
policy=${EDGEWATCH_POLICY_RC_D:-/usr/sbin/policy-rc.d}
self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

packages=(prometheus skopeo)
bench=0
for arg in "$@"; do
  case "$arg" in
    --bench) bench=1; packages+=(wrk) ;;
    -h|--help)
      sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0 ;;
    *) echo "provision.sh: unknown argument '$arg' (use --bench or --help)" >&2; exit 2 ;;
  esac
done

missing() {
  local out=()
  [ -x "$prometheus_bin" ] || out+=("$prometheus_bin")
  [ -x "$promtool_bin" ] || out+=("$promtool_bin")
  [ -x "$skopeo_bin" ] || out+=("$skopeo_bin")
  if [ "$bench" = 1 ] && ! command -v wrk >/dev/null 2>&1; then out+=("wrk"); fi
  echo "${out[*]:-}"
}

need=$(missing)
[ -z "$need" ] && exit 0
tools="Prometheus, promtool and skopeo"
[ "$bench" = 1 ] && tools="Prometheus, promtool, skopeo and wrk"

say() { echo "[edgewatch provision] $*" >&2; }

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  say "missing: $need — installing Debian package(s): ${packages[*]}"
  created_policy=0
  if [ ! -e "$policy" ]; then
    # Debian's invoke-rc.d asks policy-rc.d; exit 101 = "action forbidden": the package installs
    # without starting its service.
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    created_policy=1
  fi
  cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi; }
  trap cleanup EXIT
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get update -qq; then
    say "apt-get update failed (see above); fix the package sources, then run: bash $self"
    exit 1
  fi
  if ! apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; then
    say "apt-get install ${packages[*]} failed (see above); then run: bash $self"
    exit 1
  fi
  need=$(missing)
  if [ -n "$need" ]; then
    say "still missing after installing ${packages[*]}: $need"
    say "if PROMETHEUS_BIN / PROMTOOL_BIN / SKOPEO_BIN point elsewhere, unset them or install the binaries there"
    exit 1
  fi
  say "installed: ${packages[*]}"
  exit 0
fi

say "missing: $need"
say "the test suite runs the real ${tools} (Debian packages: ${packages[*]}); it does not skip those tests."
cmd="bash $self"
[ "$bench" = 1 ] && cmd="$cmd --bench"
if command -v apt-get >/dev/null 2>&1; then
  if command -v sudo >/dev/null 2>&1; then
    say "install them, then run npm test again:  sudo $cmd"
  else
    say "install them as root, then run npm test again:  su -c '$cmd'"
  fi
else
  say "no apt-get here: install Prometheus 2.x and skopeo$([ "$bench" = 1 ] && echo ' (and wrk on the PATH)') so that $prometheus_bin, $promtool_bin and $skopeo_bin exist (or set PROMETHEUS_BIN, PROMTOOL_BIN and SKOPEO_BIN to where they are), then run npm test again"
fi
exit 1
