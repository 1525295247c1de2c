#!/usr/bin/env bash
# Gives the output folder $1 a libLibTorchSharp.so that loads on hosts whose libstdc++ lacks GLIBCXX_3.4.32.
# Does nothing where the host has that version. Idempotent; never edits the NuGet cache (outputs may be hard links).
set -euo pipefail
out_dir=$1
needed_version=GLIBCXX_3.4.32
shim_name=libfarm_glibcxx_shim.so
here=$(cd "$(dirname "$0")" && pwd)

libstdcxx=$(/sbin/ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
if [[ -z "$libstdcxx" ]]; then libstdcxx=$(ls /usr/lib/x86_64-linux-gnu/libstdc++.so.6 2>/dev/null || true); fi
if [[ -n "$libstdcxx" ]] && grep -q "$needed_version" "$libstdcxx"; then exit 0; fi

mapfile -t targets < <(find "$out_dir" -maxdepth 4 -name libLibTorchSharp.so 2>/dev/null)
[[ ${#targets[@]} -eq 0 ]] && exit 0

for tool in g++ gcc patchelf; do
  command -v "$tool" >/dev/null || { echo "error FARM001: '$tool' is needed to make TorchSharp load on this host (apt-get install g++ patchelf)" >&2; exit 1; }
done

cache="$here/../../artifacts/torchsharp-native"
mkdir -p "$cache"
lock="$cache/.lock"
exec 9>"$lock"
flock 9
if [[ ! -f "$cache/$shim_name" || "$here/glibcxx_shim.cpp" -nt "$cache/$shim_name" ]]; then
  g++ -shared -fPIC -O2 -o "$cache/$shim_name.tmp" "$here/glibcxx_shim.cpp" && mv "$cache/$shim_name.tmp" "$cache/$shim_name"
fi
if [[ ! -x "$cache/elf_weaken_version" || "$here/elf_weaken_version.c" -nt "$cache/elf_weaken_version" ]]; then
  gcc -O2 -o "$cache/elf_weaken_version.tmp" "$here/elf_weaken_version.c" && mv "$cache/elf_weaken_version.tmp" "$cache/elf_weaken_version"
fi

for target in "${targets[@]}"; do
  if readelf -d "$target" | grep -q "$shim_name"; then
    cp -f "$cache/$shim_name" "$(dirname "$target")/$shim_name"
    continue
  fi
  work="$cache/libLibTorchSharp.$$.so"
  cp -f "$target" "$work"
  patchelf --add-needed "$shim_name" "$work"
  patchelf --clear-symbol-version _ZSt21ios_base_library_initv "$work"
  "$cache/elf_weaken_version" "$work" "$needed_version"
  rm -f "$target"   # break any hard link into the NuGet cache before replacing
  mv "$work" "$target"
  cp -f "$cache/$shim_name" "$(dirname "$target")/$shim_name"
done
