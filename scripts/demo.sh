#!/usr/bin/env bash
# The README demo: set up, build, run examples/quick.yaml end to end on an embedded silo, print a table, write a report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dotnet build client -c Release -v quiet -nologo
dotnet client/bin/Release/net10.0/farm.dll run examples/quick.yaml "$@"
dotnet client/bin/Release/net10.0/farm.dll table out/quick --metric image_auroc
dotnet client/bin/Release/net10.0/farm.dll report out/quick --out out/quick/report.html
echo "report: out/quick/report.html (one self-contained page: tables, anomaly maps, score histograms)"
