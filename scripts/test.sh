#!/usr/bin/env bash
# The whole test suite (what CI runs): set up, build with warnings as errors, run every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/check-k8s.sh   # Kubernetes manifests (k8s/) and Dockerfiles, before the .NET build and tests
dotnet build Farm.sln -c Release -nologo -v quiet
log=$(mktemp)
status=0
dotnet test Farm.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log" || status=$?
# One closing line over all test projects, in the plain "N passed, N failed" form.
awk '/^(Passed|Failed)! +- Failed:/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
