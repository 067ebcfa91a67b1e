#!/usr/bin/env bash
# Stops the collections case service (SIGTERM: in-flight commands finish) and then the broker.
# Safe to re-run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ "${1:-}" = "--help" ] && { sed -n '2,3p' "$0" | sed 's/^# //'; exit 0; }
# COLLECTIONS_STATE_DIR and KAFKA_PORT as given to deploy/up.sh.
state=${COLLECTIONS_STATE_DIR:-$repo/.local}
pid_file=$state/service.pid
if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  pid=$(cat "$pid_file")
  echo "[down] stopping service (pid $pid)" >&2
  kill -TERM "$pid"
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && { echo "[down] service did not stop; killing" >&2; kill -KILL "$pid"; }
fi
rm -f "$pid_file"
# up.sh runs the secured broker (KAFKA_SECURITY=scram); stop whichever runs.
if [ -n "${COLLECTIONS_STATE_DIR:-}" ]; then
  export KAFKA_STATE_DIR=${KAFKA_STATE_DIR:-$state/kafka-${KAFKA_PORT:-19092}-scram}
fi
KAFKA_SECURITY=${KAFKA_SECURITY:-scram} "$repo/deploy/kafka/kafka.sh" stop
