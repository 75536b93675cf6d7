#!/usr/bin/env bash
# make cluster-down: stop the local control plane started by cluster-up.sh and
# delete its state (.cluster/). Only the processes recorded in .cluster/*.pid
# (and still running the expected binary) are stopped.
#   BELAY_CLUSTER_KEEP_STATE=1  keep .cluster/ (certificates, db, logs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${BELAY_CLUSTER_DIR:-$root/.cluster}

stop() { # NAME: pid file and expected binary
  local name=$1 pidfile="$state/$1.pid" pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      [ -e "/proc/$pid" ] || break
      sleep 0.1
    done
    if [ -e "/proc/$pid" ]; then
      echo "cluster-down: $name ($pid) did not stop in 10s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "cluster-down: stopped $name ($pid)" >&2
  fi
  rm -f "$pidfile"
}

# The API server first, so it never runs without its storage.
stop kube-apiserver
stop kine

if [ "${BELAY_CLUSTER_KEEP_STATE:-}" != 1 ] && [ -d "$state" ]; then
  rm -rf "$state"
  echo "cluster-down: removed $state" >&2
fi
