#!/usr/bin/env bash
# Fit + predict throughput of PaDiM and PatchCore, Farm vs plain PyTorch (Debian's python3-torch), same run, same
# inputs and threads. Arguments go to the `models` command, e.g. --runs 5 --backbones resnet18. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build benchmarks/Farm.Benchmarks -c Release -nologo -v quiet
dotnet benchmarks/Farm.Benchmarks/bin/Release/net10.0/Farm.Benchmarks.dll models "$@"
