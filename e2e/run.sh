#!/usr/bin/env bash
# make e2e (and .ci/run): the end-to-end suite on a real kube-apiserver and
# kubectl. Builds the control-plane binaries on first use (cached in
# .tools/bin), brings the cluster up, runs the suite, and always stops the
# cluster it started. Prints one timing line per step.
#
#   BELAY_E2E_KEEP_CLUSTER=1   leave the cluster up afterwards
#   extra arguments go to vitest (e.g. -t 'privileged')
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
t_total=$(now)
started=0

finish() {
  local code=$?
  if [ "$started" = 1 ] && [ "${BELAY_E2E_KEEP_CLUSTER:-}" != 1 ]; then
    local t; t=$(now)
    bash e2e/cluster-down.sh || true
    echo "e2e: timing cluster-down $(since "$t")"
  fi
  local out=${BELAY_E2E_OUT:-.build/e2e}
  [ -f "$out/transcript.md" ] && echo "e2e: kubectl transcript in $out/transcript.md, gateway log in $out/gateway.log"
  echo "e2e: timing total $(since "$t_total") (exit $code)"
  exit "$code"
}
trap finish EXIT
trap 'exit 130' INT TERM

step() { # NAME COMMAND...
  local name=$1 t; shift
  t=$(now)
  "$@" || { echo "e2e: $name failed" >&2; exit 1; }
  echo "e2e: timing $name $(since "$t")"
}

# The gateway and its bundle (make e2e has built them already).
if [ -z "${MAKELEVEL:-}" ]; then
  step gateway-build make --no-print-directory deps crane bundle build haproxy
fi
step binaries bash e2e/controlplane/build.sh
step mcp-tools bash e2e/mcp/tools.sh

cluster_dir=${BELAY_CLUSTER_DIR:-.cluster}
if [ -f "$cluster_dir/kubeconfig" ] && .tools/bin/kubectl --kubeconfig "$cluster_dir/kubeconfig" get --raw /readyz >/dev/null 2>&1; then
  echo "e2e: reusing the cluster that is already up (it stays up)"
else
  started=1
  step cluster-up bash e2e/cluster-up.sh
fi

t=$(now)
BELAY_E2E_KEEP_CLUSTER=1 npx vitest run --config e2e/vitest.config.ts "$@"
code=$?
echo "e2e: timing suite $(since "$t")"
exit "$code"
