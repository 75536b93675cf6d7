#!/usr/bin/env bash
# make cluster-down: stop the local control plane started by cluster-up.sh and
# delete its state (.cluster/). Only the processes recorded in .cluster/*.pid
# (and still running the expected binary) are stopped.
#   BELAY_CLUSTER_KEEP_STATE=1  keep .cluster/ (certificates, db, logs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${BELAY_CLUSTER_DIR:-$root/.cluster}

# stop NAME...: SIGTERM to each recorded process (pid file and expected
# binary), then wait for all of them together; SIGKILL after 10s.
stop() {
  local name pid pids=() names=()
  for name in "$@"; do
    pid=$(cat "$state/$name.pid" 2>/dev/null) || continue
    if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$name"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$name")
    fi
    rm -f "$state/$name.pid"
  done
  local i left
  for _ in $(seq 1 100); do
    left=0
    for pid in "${pids[@]}"; do [ -e "/proc/$pid" ] && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    if [ -e "/proc/${pids[$i]}" ]; then
      echo "cluster-down: ${names[$i]} (${pids[$i]}) did not stop in 10s; killing it" >&2
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
    echo "cluster-down: stopped ${names[$i]} (${pids[$i]})" >&2
  done
}

# The API server and its clients first, then its storage, so that it never
# runs without it.
stop kwok kube-scheduler kube-controller-manager kube-apiserver
stop kine

if [ "${BELAY_CLUSTER_KEEP_STATE:-}" != 1 ] && [ -d "$state" ]; then
  rm -rf "$state"
  echo "cluster-down: removed $state" >&2
fi
