# Sourced by the run-*.sh scripts: build_benchmarks ARGS... builds Farm.Benchmarks in Release and prints the path of
# its dll. With --device cuda[:N] among ARGS it builds the CUDA backend (-p:TorchBackend=cuda: TorchSharp-cuda-linux,
# from the public NuGet gallery) into its own folder, so the CPU build's natives never mix with the CUDA ones.
build_benchmarks() {
  local previous="" backend=cpu
  for arg in "$@"; do
    if [[ "$previous" == "--device" && "$arg" == cuda* ]]; then backend=cuda; fi
    previous="$arg"
  done
  if [[ "$backend" == cuda ]]; then
    local out=benchmarks/Farm.Benchmarks/bin/Release-cuda
    dotnet build benchmarks/Farm.Benchmarks -c Release -nologo -v quiet -p:TorchBackend=cuda -o "$out" >&2 || {
      echo "the CUDA build failed: it needs TorchSharp-cuda-linux from the public NuGet gallery (nuget.org)" >&2
      return 1
    }
    echo "$out/Farm.Benchmarks.dll"
  else
    dotnet build benchmarks/Farm.Benchmarks -c Release -nologo -v quiet >&2
    echo benchmarks/Farm.Benchmarks/bin/Release/net10.0/Farm.Benchmarks.dll
  fi
}
