#!/usr/bin/env bash
# Orchestration benchmarks (see BENCHMARKS.md, "Orchestration"): no-op cells/s on one silo and on three silos
# (redis-server), the overhead of a sweep of short real cells, and the scaling of sleep-cells over 1-16 slots.
# `benchmarks/run-orchestration.sh orchestration [--cells 1000,5000 …]` or `… scaling [--slots 1,2,4,8,16 …]`; no
# argument runs both with their defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build benchmarks/Farm.Benchmarks -c Release -nologo -v quiet
dll=benchmarks/Farm.Benchmarks/bin/Release/net10.0/Farm.Benchmarks.dll
if [[ $# -eq 0 ]]; then
  dotnet "$dll" orchestration
  exec dotnet "$dll" scaling
fi
exec dotnet "$dll" "$@"
