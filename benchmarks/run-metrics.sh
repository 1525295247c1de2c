#!/usr/bin/env bash
# Pixel-metric benchmark: Farm vs the Python reference on 100 and 1,000 maps of 256×256 (see BENCHMARKS.md).
# Extra arguments go to the benchmark, e.g. `benchmarks/run-metrics.sh --maps 100 --runs 3`.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build benchmarks/Farm.Benchmarks -c Release -nologo -v quiet
exec dotnet benchmarks/Farm.Benchmarks/bin/Release/net10.0/Farm.Benchmarks.dll metrics "$@"
