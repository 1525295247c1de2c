#!/usr/bin/env bash
# Trained models (every one the registry ships, per backbone where the model has one): seconds per training epoch,
# predict images/s and peak memory, Farm vs plain PyTorch (Debian's python3-torch; the tests' references for fastflow,
# rd4ad, vae, draem and simplenet) in the same run, same inputs, initial weights and threads. Arguments go to the `trained` command, e.g.
# --models fastflow,vae --backbones resnet18 --epochs 3 --size 256; --device cuda is the GPU variant. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/build-benchmarks.sh
dll=$(build_benchmarks "$@")
exec dotnet "$dll" trained "$@"
