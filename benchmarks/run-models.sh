#!/usr/bin/env bash
# Fit + predict throughput of PaDiM and PatchCore, Farm vs plain PyTorch (Debian's python3-torch), same run, same
# inputs and threads. Arguments go to the `models` command, e.g. --runs 5 --backbones resnet18; --device cuda is the
# GPU variant (CUDA build, and --python with a CUDA PyTorch). See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/build-benchmarks.sh
dll=$(build_benchmarks "$@")
exec dotnet "$dll" models "$@"
