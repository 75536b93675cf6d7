#!/usr/bin/env bash
# Builds the pinned oracles the tests hold belay to, from the Go module proxy,
# into .tools/bin with a version stamp (reused while the stamp matches):
#   gator       Gatekeeper's suite runner (`gator verify`), cross-checks `belay test` on Gatekeeper suites
#   pss-oracle  k8s.io/pod-security-admission at the version policy-tests/oracles/pss-oracle/go.mod pins
#
#   bash policy-tests/oracles/build.sh [gator|pss-oracle]...   (no argument: both)
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
    *) echo "build.sh: unknown tool $t (gator, pss-oracle)" >&2; exit 2 ;;
  esac
done
