#!/usr/bin/env bash
# Installs what Farm needs beyond the .NET SDK, on Debian/Ubuntu, only where it is missing (idempotent):
#   g++ and patchelf  - the build makes TorchSharp's native library load on hosts with GCC 12's libstdc++
#   python3-torch, python3-torchvision, python3-sklearn - independent references for the numerical tests
#   libopenblas0-pthread - an optimised BLAS/LAPACK for that reference (Debian defaults to the slow netlib one), so
#                     benchmark ratios against PyTorch are fair
#   redis-server      - cluster-state tests (Orleans' Redis providers)
#   postgresql        - the PostgreSQL alternative (Farm:Cluster:Provider=postgres): its tests start a throwaway
#                       server (initdb, pg_ctl) and apply scripts/postgres-schema.sh with psql (postgresql-client)
#   prometheus        - for its promtool: the metrics test lints the silo's /metrics with `promtool check metrics`
#   chromium          - the `farm report` tests render the HTML report headless and check every image loads
#   nodejs, npm       - scripts/check-k8s.sh's manifest validator; only where no node/npm is on PATH (a NodeSource
#                       nodejs package bundles npm and conflicts with Debian's npm package)
set -euo pipefail
packages=(g++ patchelf python3 python3-numpy python3-torch python3-torchvision python3-sklearn libopenblas0-pthread redis-server postgresql postgresql-client prometheus chromium)
command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK is required (https://dot.net)"; exit 1; }
