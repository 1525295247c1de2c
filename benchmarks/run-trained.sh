#!/usr/bin/env bash
# Trained models: seconds per training epoch and predict images/s, Farm vs plain PyTorch (Debian's python3-torch) where
# a reference exists, same run, same inputs, initial weights and threads. Arguments go to the `trained` command, e.g.
# --models fastflow --epochs 3 --size 256. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build benchmarks/Farm.Benchmarks -c Release -nologo -v quiet
dotnet benchmarks/Farm.Benchmarks/bin/Release/net10.0/Farm.Benchmarks.dll trained "$@"
