#!/usr/bin/env bash
# One broker of three killed under load loses nothing acknowledged. Starts a three-broker
# cluster of its own (deploy/kafka/cluster.sh) and one collections-server on it with mutual
# TLS (topic created with replication factor 3, min.insync.replicas=2), drives OpenCase +
# PostPayment with clients that retry by command id, kill -9s the leader of partition 0 mid-load,
# keeps loading, restarts it and loads a while longer. Then: every acknowledged command is on
# the log exactly once with the events it was told (nothing lost, nothing doubled),
# `collectionsctl verify --all` is clean, and it prints how long commands were refused.
#
#   tests/deploy/broker_failure_test.sh SERVER CTL DESCRIPTOR_SET [PYTHON]
#   Ports: COLLECTIONS_TEST_CLUSTER_BASE_PORT [29400]: brokers BASE, +2, +4 (controllers +1,
#   +3, +5), the service's gRPC port BASE + 10. About 2 minutes. BROKER_FAILURE_KEEP=1 keeps
#   the work directory (broker, service and client logs) for a look afterwards.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
server=${1:?collections-server binary}
ctl=${2:?collectionsctl binary}
descriptors=${3:?descriptor set (build/collections.desc)}
python=${4:-$repo/.local/venv/bin/python}
base=${COLLECTIONS_TEST_CLUSTER_BASE_PORT:-29400}
grpc_port=$((base + 10))
load_before=${BROKER_FAILURE_LOAD_BEFORE:-12}  # seconds of load before the kill
down=${BROKER_FAILURE_DOWN:-20}                # seconds with one broker dead
load_after=${BROKER_FAILURE_LOAD_AFTER:-12}    # seconds of load after it answers again
work=$(mktemp -d /tmp/collections-broker-failure.XXXXXX)
export KAFKA_CLUSTER_BASE_PORT=$base KAFKA_CLUSTER_DIR=$work/cluster
export KAFKA_LIB_DIR=${KAFKA_LIB_DIR:-$repo/.local/kafka-lib}
cluster=$repo/deploy/kafka/cluster.sh
topic=collections.broker-failure.$(date +%s)
server_pid= load_pid=
started=$SECONDS
cleanup() {
  local rc=$?
  [ -n "$load_pid" ] && kill -TERM "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
  touch "$work/stopping"
  [ -f "$work/server.pid" ] && kill -TERM "$(cat "$work/server.pid")" 2>/dev/null
  [ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null
  "$cluster" stop >/dev/null 2>&1 || true
  if [ "$rc" -ne 0 ]; then
    echo "--- service log (last 30 lines)" >&2
    tail -n 30 "$work/server.log" >&2 2>/dev/null || true
  fi
  if [ -n "${BROKER_FAILURE_KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
say() { echo "[$((SECONDS - started))s] $*"; }
now() { date +%s.%N; }

bootstrap=$("$cluster" start)
say "cluster up: $bootstrap"

COLLECTIONS_KEYS_DIR=$work/keys "$repo/deploy/certs.sh" "$work/certs" >/dev/null 2>&1
# Supervised as the systemd unit (deploy/systemd) runs it: a process that dies is started again.
# The service must not die here: each death is counted and printed with its last words (the
# service no longer lets librdkafka 2.0.2's admin requests time out, which aborted it in about
# half of these runs). Should one die anyway, crash safety must hold through it; more than two
# deaths fail the test.
supervise() {
  while :; do
    "$server" --listen "127.0.0.1:$grpc_port" --bootstrap "$bootstrap" --topic "$topic" \
      --partitions 3 --replication-factor 3 --deployment-id "broker-failure-$base" \
      --db "$work/projection" --access-policy "$repo/deploy/policy/access-2025.textproto" \
      --tls-ca "$work/certs/ca.pem" --tls-cert "$work/certs/server.pem" \
      --tls-key "$work/certs/server.key" --signing-key "$work/keys/writer-signing.key" \
      --metrics-listen "" >>"$work/server.log" 2>&1 &
    echo $! >"$work/server.pid"
    wait "$(cat "$work/server.pid")" && rc=0 || rc=$?
    [ -f "$work/stopping" ] && return 0
    echo "exit status $rc: $(grep -v '^{' "$work/server.log" | tail -n 1)" >>"$work/crashes"
    [ "$(wc -l <"$work/crashes")" -ge 3 ] && return 1
    sleep 1
  done
}
supervise &
server_pid=$!
for _ in $(seq 1 240); do
  grep -q "listening on" "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || fail "the service did not start on the cluster"
  sleep 0.5
done
grep -q "listening on" "$work/server.log" || fail "the service was not ready in 120 s"
say "collections-server serves on 127.0.0.1:$grpc_port"

"$python" "$repo/tests/deploy/broker_failure_load.py" load --target "127.0.0.1:$grpc_port" \
  --certs "$work/certs" --descriptor-set "$descriptors" --journal "$work/journal.jsonl" \
  --stop-file "$work/stop" --run-id "$base-$(date +%s)" >"$work/load.log" 2>&1 &
load_pid=$!
sleep "$load_before"
acked() { grep -c '"acked"' "$work/journal.jsonl" || true; }
[ "$(acked)" -gt 0 ] || { cat "$work/load.log" >&2; fail "no command acknowledged before the kill"; }

# The leader of partition 0: its writer must move to another leader to go on.
leader=$(kcat -b "$bootstrap" -L -t "$topic" 2>/dev/null |
         sed -n 's/^ *partition 0, leader \([0-9]*\),.*/\1/p')
[ -n "$leader" ] || fail "no leader for partition 0 of $topic"
say "$(acked) commands acknowledged; kill -9 broker $leader (leader of partition 0)"
kill_time=$(now)
"$cluster" kill "$leader"
sleep "$down"
say "$(acked) commands acknowledged; restarting broker $leader"
"$cluster" restart "$leader"
restart_time=$(now)
say "broker $leader answers again"
sleep "$load_after"
touch "$work/stop"
load_ok=true
wait "$load_pid" || load_ok=false
load_pid=
say "load stopped: $(acked) commands acknowledged"

# The log against the acknowledgements, also when the load failed: was anything lost?
check_ok=true
"$python" "$repo/tests/deploy/broker_failure_load.py" check --bootstrap "$bootstrap" \
  --topic "$topic" --descriptor-set "$descriptors" --journal "$work/journal.jsonl" \
  --kill-time "$kill_time" --restart-time "$restart_time" || check_ok=false
if ! $load_ok; then
  cat "$work/load.log" >&2
  # A writer that stops for good after a broker loss would be a false alarm here: this
  # service is the topic's only writer.
  grep -h "ALERT" "$work/server.log" >&2 || true
  fail "a command was refused for good (the service did not recover from the broker's loss)"
fi
$check_ok || fail "the log does not hold every acknowledged command exactly once"
if [ -f "$work/crashes" ]; then
  say "the service process died $(wc -l <"$work/crashes") time(s) and was started again:"
  sed 's/^/  /' "$work/crashes"
fi

"$ctl" verify --all --target "127.0.0.1:$grpc_port" --certs-dir "$work/certs" \
  --timeout-seconds 120 >"$work/verify.out" 2>"$work/verify.err" \
  || { cat "$work/verify.out" "$work/verify.err" >&2; fail "collectionsctl verify --all is not clean"; }
say "collectionsctl verify --all: $(cat "$work/verify.out")"
say "PASS"
