#!/usr/bin/env bash
# Builds the pinned control-plane binaries from the Go module proxy into
# .tools/bin: kube-apiserver, kube-controller-manager, kube-scheduler and
# kubectl (one k8s.io/kubernetes release, go.mod), kine (etcd API on sqlite)
# and kwok (simulated nodes and pod lifecycles). Reuses binaries whose version
# stamp matches, so repeated runs cost nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin="$root/.tools/bin"
mkdir -p "$bin"

# The pinned release is the k8s.io/kubernetes requirement in go.mod (inside the
# require block, so match the module path, not the `require` keyword).
k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v[0-9]/ {print $2; exit}' "$here/go.mod")
if [ -z "$k8s_version" ]; then
  echo "build.sh: cannot read the k8s.io/kubernetes version from $here/go.mod" >&2
  exit 1
fi
kine_version=v0.16.4
kwok_version=v0.8.0
minor=$(echo "$k8s_version" | cut -d. -f2)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

stamp_ok() { [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$2" ]; }

build_k8s() {
  local name=$1 pkg=$2 start
  if stamp_ok "$name" "$k8s_version"; then return; fi
  echo "building $name $k8s_version (first time only; takes minutes)" >&2
  start=$(date +%s)
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin/$name" "$pkg")
  echo "$k8s_version" > "$bin/.$name.version"
  echo "built $name in $(( $(date +%s) - start ))s" >&2
}

build_k8s kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build_k8s kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build_k8s kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler
build_k8s kubectl k8s.io/kubernetes/cmd/kubectl

# install_module NAME MODULE@VERSION CGO: `go install` of a module at a version
# (its own go.mod and go.sum), stamped with the version.
install_module() {
  local name=$1 ref=$2 cgo=$3 start
  if stamp_ok "$name" "${ref##*@}"; then return; fi
  echo "building $name ${ref##*@}" >&2
  start=$(date +%s)
  GOBIN="$bin" CGO_ENABLED="$cgo" go install -trimpath -ldflags "-s -w" "$ref"
  echo "${ref##*@}" > "$bin/.$name.version"
  echo "built $name in $(( $(date +%s) - start ))s" >&2
}

# kine: cgo, for sqlite.
install_module kine "github.com/k3s-io/kine@$kine_version" 1
# kwok: pure Go; its k8s.io libraries are v0.36.1 (it is only an API client).
install_module kwok "sigs.k8s.io/kwok/cmd/kwok@$kwok_version" 0
