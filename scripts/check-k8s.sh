#!/usr/bin/env bash
# Checks the Kubernetes deployment (k8s/): renders every overlay with `kubectl kustomize` and validates every object
# against the Kubernetes API schemas, rejecting unknown fields, plus Farm's own rules (cluster-internal gateway, token
# from a Secret, what Orleans' Kubernetes hosting needs, non-root containers with limits). Then proves the check can
# fail: every fixture under k8s/validate/fixtures breaks one thing and must be rejected with exactly that problem.
# Needs kubectl (with kustomize v4 or later: kubectl 1.21+) and Node.js with npm; the validator's npm packages are
# pinned in k8s/validate/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "check-k8s: $*" >&2; exit 1; }
command -v kubectl >/dev/null || fail "kubectl is needed to render k8s/ (kubectl 1.21 or later, for kustomize v4+)"
command -v node >/dev/null && command -v npm >/dev/null || fail "Node.js and npm are needed for the manifest validator (apt-get install nodejs npm)"
kustomize_version=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p')
[[ -n "$kustomize_version" && "$kustomize_version" -ge 4 ]] ||
  fail "kubectl's built-in kustomize is too old or missing ($(kubectl version --client 2>&1 | tr '\n' ' ')); kubectl 1.21 or later is needed"

validator=k8s/validate
# npm ci only when node_modules was not installed from this very lock file (the marker lives in the ignored folder).
lock_hash=$(sha256sum "$validator/package-lock.json" | cut -d' ' -f1)
if [[ "$(cat "$validator/node_modules/.farm-lock-hash" 2>/dev/null)" != "$lock_hash" ]]; then
  npm ci --prefix "$validator" --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_hash" > "$validator/node_modules/.farm-lock-hash"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

overlays=()
for overlay in k8s/overlays/*/; do
  name=$(basename "$overlay")
  kubectl kustomize "$overlay" > "$work/$name.yaml" || fail "kubectl kustomize $overlay failed"
  overlays+=("$work/$name.yaml")
done
((${#overlays[@]} > 0)) || fail "no overlays under k8s/overlays"
node "$validator/validate.mjs" --policy "${overlays[@]}" || fail "the manifests rendered from k8s/overlays/ (named after each overlay above) are invalid"

# All fixtures in one validator run (loading the validator is the slow part); each must yield exactly its problem.
fixtures=()
for fixture in "$validator"/fixtures/*/; do
  name=$(basename "$fixture")
  kubectl kustomize "$fixture" > "$work/fixture-$name.yaml" || fail "kubectl kustomize $fixture failed"
  fixtures+=("$work/fixture-$name.yaml")
done
((${#fixtures[@]} > 0)) || fail "no broken fixtures under $validator/fixtures"
status=0
node "$validator/validate.mjs" --policy "${fixtures[@]}" > "$work/fixtures.out" 2>&1 || status=$?
[[ $status -eq 1 ]] || { cat "$work/fixtures.out" >&2; fail "the validator accepted the broken fixtures (exit status $status, expected 1)"; }
rejected=0
for fixture in "$validator"/fixtures/*/; do
  name=$(basename "$fixture")
  expected="invalid: $work/fixture-$name.yaml: $(cat "$fixture/expect")"
  problems=$(grep -c "^invalid: $work/fixture-$name.yaml: " "$work/fixtures.out" || true)
  if [[ $problems -ne 1 ]] || ! grep -qF "$expected" "$work/fixtures.out"; then
    grep "^invalid: $work/fixture-$name.yaml: " "$work/fixtures.out" >&2 || true
    fail "fixture $fixture: expected exactly one problem, '$(cat "$fixture/expect")' (got $problems)"
  fi
  rejected=$((rejected + 1))
done
# Dockerfiles: no container engine here to build them, so check what can go stale. The published project and every
# project it references (transitively) must be copied into the build stage, project file first (restore layer), and
# the final stage must switch to a non-root user.
dockerfiles=0
for dockerfile in docker/Dockerfile.*; do
  published=$(sed -n 's/^RUN dotnet publish \([^ ]*\) .*/\1/p' "$dockerfile")
  [[ -n "$published" && -d "$published" ]] || fail "$dockerfile: 'RUN dotnet publish DIR' must name a project folder (found '$published')"
  queue=("$published")
  seen=" "
  while ((${#queue[@]} > 0)); do
    dir=${queue[0]}; queue=("${queue[@]:1}")
    [[ "$seen" == *" $dir "* ]] && continue
    seen+="$dir "
    project=$(ls "$dir"/*.csproj 2>/dev/null | head -1)
    [[ -n "$project" ]] || fail "$dockerfile: $dir has no .csproj"
    grep -qxF "COPY $project $dir/" "$dockerfile" || fail "$dockerfile: needs 'COPY $project $dir/' before the restore ($published references $dir)"
    grep -qxF "COPY $dir/ $dir/" "$dockerfile" || fail "$dockerfile: needs 'COPY $dir/ $dir/' ($published references $dir)"
    while read -r reference; do
      queue+=("$(basename "$(dirname "$reference")")")
    done < <(sed -n 's/.*<ProjectReference Include="\([^"]*\)".*/\1/p' "$project" | tr '\\' '/')
  done
  awk '/^FROM /{user=""} /^USER /{user=$2} END{exit !(user != "" && user != "root" && user != "0")}' "$dockerfile" ||
    fail "$dockerfile: the final stage must end with a non-root USER"
  dockerfiles=$((dockerfiles + 1))
done
((dockerfiles > 0)) || fail "no Dockerfiles under docker/"
echo "check-k8s: overlays $(basename -a "${overlays[@]%.yaml}" | tr '\n' ' ')valid; $rejected broken fixtures rejected as expected; $dockerfiles Dockerfiles copy every project they publish"
