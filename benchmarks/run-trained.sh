#!/usr/bin/env bash
# Trained models (every one the registry ships, per backbone where the model has one): seconds per training epoch,
# predict images/s and peak memory, Farm vs plain PyTorch (Debian's python3-torch; the tests' references for fastflow,
# rd4ad, vae, draem and simplenet) in the same run, same inputs, initial weights and threads. Arguments go to the `trained` command, e.g.
# --models fastflow,vae --backbones resnet18 --epochs 3 --size 256. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build benchmarks/Farm.Benchmarks -c Release -nologo -v quiet
dotnet benchmarks/Farm.Benchmarks/bin/Release/net10.0/Farm.Benchmarks.dll trained "$@"
