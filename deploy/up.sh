#!/usr/bin/env bash
# Set-up command 1: installs what is missing, builds, creates the local CA, certificates and
# the writer's signing key (deploy/certs.sh, once), starts a single-node Kafka broker (KRaft,
# loopback, SASL/SCRAM with ACLs: only the service's principal writes the topic) and the
# collections case service (mutual TLS), and prints where it listens.
#
#   deploy/up.sh            start everything and stay in the foreground (Ctrl-C stops both)
#   deploy/up.sh --detach   start everything and return; stop later with deploy/down.sh
#
# Environment: COLLECTIONS_LISTEN [127.0.0.1:50051], KAFKA_PORT [19092],
# COLLECTIONS_TOPIC [collections.case-events.v1], COLLECTIONS_STATE_DIR [.local] (certificates,
# keys, broker data, projection, logs; another directory runs a second, separate instance),
# COLLECTIONS_BUILD_DIR [build]. Safe to re-run: what runs is left running.
# Also builds the descriptor set (BUILD/collections.desc) and the Python client package
# (BUILD/clients/python/dist, installed into .local/venv as collections_client).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
detach=false
case "${1:-}" in
  --detach) detach=true ;;
  -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "unknown argument $1 (try --help)" >&2; exit 2 ;;
esac

listen=${COLLECTIONS_LISTEN:-127.0.0.1:50051}
topic=${COLLECTIONS_TOPIC:-collections.case-events.v1}
bootstrap=127.0.0.1:${KAFKA_PORT:-19092}
state=${COLLECTIONS_STATE_DIR:-$repo/.local}
build=${COLLECTIONS_BUILD_DIR:-build}
mkdir -p "$state"
state=$(cd "$state" && pwd)

# shellcheck source=service-common.sh
. "$repo/deploy/service-common.sh"
collections_build
collections_pki
collections_secured_broker "$topic"
certs=$state/certs

pid_file=$state/service.pid
if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  echo "[up] service already running (pid $(cat "$pid_file"))" >&2
else
  : > "$state/service.log"
  collections_server_flags
  nohup "$build/services/server/collections-server" --listen "$listen" --bootstrap "$bootstrap" \
    --topic "$topic" --db "$state/projection" "${server_flags[@]}" --kafka-config "$kafka_config" \
    >>"$state/service.log" 2>&1 </dev/null &
  echo $! > "$pid_file"
  collections_wait_listening "$state/service.log" "$(cat "$pid_file")" 60 || exit 1
fi

cat <<MSG
collections case service listening on $listen (gRPC, mutual TLS; reflection and health on)
  Kafka broker: $bootstrap (SASL/SCRAM, ACLs)   topic: $topic
  certificates: $certs (CA, server, one per example principal)
  signing key:  $state/keys/writer-signing.key (public: writer-signing.pub.pem)
  service log:  $state/service.log
  collectionsctl: $state/bin/collectionsctl ($($state/bin/collectionsctl --version))
                export PATH="$state/bin:\$PATH"; collectionsctl --help
  try:          grpcurl -cacert $certs/ca.pem -cert $certs/admin.pem -key $certs/admin.key $listen list
  client:       .local/venv/bin/python examples/python/open_case.py   (collections_client installed)
  descriptors:  $build/collections.desc
  stop:         deploy/down.sh
MSG

if ! $detach; then
  trap 'echo; COLLECTIONS_STATE_DIR=$state deploy/down.sh; exit 0' INT TERM
  echo "(foreground: Ctrl-C stops the service and the broker)"
  tail -n 0 -f "$state/service.log" &
  wait
fi
