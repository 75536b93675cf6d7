#!/usr/bin/env bash
# Builds the pinned oracles the tests hold belay to, from the Go module proxy,
# into .tools/bin with a version stamp (reused while the stamp matches):
#   gator       Gatekeeper's suite runner (`gator verify`), cross-checks `belay test` on Gatekeeper suites
#   pss-oracle  k8s.io/pod-security-admission at the version policy-tests/oracles/pss-oracle/go.mod pins
#   gatekeeper  Gatekeeper's manager (the webhook `make bench` races belay against), from the
#               same module and version as gator, with the module's deploy/gatekeeper.yaml
#               (its CRDs and webhook configuration) beside it in .tools/share/gatekeeper/
#
#   bash policy-tests/oracles/build.sh [gator|pss-oracle|gatekeeper]...   (no argument: gator and pss-oracle)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin="$root/.tools/bin"
mkdir -p "$bin"

GATOR_VERSION=v3.21.0

stamp_ok() { [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$2" ]; }

build_gator() {
  stamp_ok gator "$GATOR_VERSION" && return
  echo "building gator $GATOR_VERSION (first time only; takes minutes)" >&2
  local start; start=$(date +%s)
  GOBIN="$bin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "github.com/open-policy-agent/gatekeeper/v3/cmd/gator@$GATOR_VERSION"
  echo "$GATOR_VERSION" > "$bin/.gator.version"
  echo "built gator in $(( $(date +%s) - start ))s" >&2
}

build_gatekeeper() {
  local share="$root/.tools/share/gatekeeper"
  stamp_ok gatekeeper "$GATOR_VERSION" && [ -f "$share/gatekeeper.yaml" ] && return
  echo "building Gatekeeper's manager $GATOR_VERSION (first time only; takes minutes)" >&2
  local start; start=$(date +%s)
  GOBIN="$bin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "github.com/open-policy-agent/gatekeeper/v3@$GATOR_VERSION"
  local dir; dir=$(go mod download -json "github.com/open-policy-agent/gatekeeper/v3@$GATOR_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -f "$dir/deploy/gatekeeper.yaml" ] || { echo "build.sh: no deploy/gatekeeper.yaml in the Gatekeeper module ($dir)" >&2; exit 1; }
  mkdir -p "$share"
  install -m 0644 "$dir/deploy/gatekeeper.yaml" "$share/gatekeeper.yaml"
  echo "$GATOR_VERSION" > "$bin/.gatekeeper.version"
  echo "built Gatekeeper's manager in $(( $(date +%s) - start ))s" >&2
}

build_pss_oracle() {
  local version
  version=$(awk '$1 == "k8s.io/pod-security-admission" && $2 ~ /^v[0-9]/ {print $2; exit}' "$here/pss-oracle/go.mod")
  [ -n "$version" ] || { echo "build.sh: no k8s.io/pod-security-admission version in policy-tests/oracles/pss-oracle/go.mod" >&2; exit 1; }
  # The stamp covers the source too, so a change to main.go rebuilds.
  local stamp; stamp="$version $(cat "$here/pss-oracle/main.go" "$here/pss-oracle/go.sum" | sha256sum | cut -c1-12)"
  stamp_ok pss-oracle "$stamp" && return
  echo "building pss-oracle (k8s.io/pod-security-admission $version)" >&2
  (cd "$here/pss-oracle" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/pss-oracle" .)
  echo "$stamp" > "$bin/.pss-oracle.version"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gator pss-oracle)
for t in "${targets[@]}"; do
  case "$t" in
    gator) build_gator ;;
    pss-oracle) build_pss_oracle ;;
    gatekeeper) build_gatekeeper ;;
    *) echo "build.sh: unknown tool $t (gator, pss-oracle, gatekeeper)" >&2; exit 2 ;;
  esac
done
