#!/usr/bin/env bash
# Seconds per training epoch and predict throughput of the trained reconstruction-family models (vae, draem) at 256 px,
# Farm vs plain PyTorch (Debian's python3-torch) where a reference exists, same run, same inputs and threads.
# Arguments go to the `recon` command, e.g. --models vae --epochs 3. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build benchmarks/Farm.Benchmarks -c Release -nologo -v quiet
dotnet benchmarks/Farm.Benchmarks/bin/Release/net10.0/Farm.Benchmarks.dll recon "$@"
