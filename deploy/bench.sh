#!/usr/bin/env bash
# Benchmark: the service's command throughput and latency, and in the same run the raw Kafka
# ceiling (Kafka's ProducerPerformance with the same acks=all, idempotence and record size).
#
#   deploy/bench.sh [--concurrency N] [--duration SECONDS] [--payments-per-case N]
#
# Starts the local broker if it is not running (port KAFKA_PORT, default 19092) and a service
# of its own on a fresh topic and port 50061; stops that service at the end (the broker keeps
# running if it was already up).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
concurrency=32 duration=20 payments=4
while [ $# -gt 0 ]; do
  case "$1" in
    --concurrency) concurrency=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --payments-per-case) payments=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

deploy/install-deps.sh
# Its own plaintext broker (the one deploy/up.sh runs on 19092 is secured with ACLs for the
# service's topic only): the benchmark compares the service with Kafka's raw producer.
export KAFKA_PORT=${KAFKA_PORT:-19094} KAFKA_SECURITY=none
deploy/kafka/kafka.sh fetch-tools
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target collections-server collections-bench >&2

broker_was_running=true
deploy/kafka/kafka.sh status >/dev/null 2>&1 || broker_was_running=false
deploy/kafka/kafka.sh start
bootstrap=$(deploy/kafka/kafka.sh bootstrap)
lib=${KAFKA_LIB_DIR:-$repo/.local/kafka-lib}
run=$(date +%s)
topic=bench.case-events.$run
work=$repo/.local/bench-$run
mkdir -p "$work"

deploy/certs.sh  # the writer's signing key
# Plaintext on loopback as the admin principal: the benchmark measures the write path, not TLS.
build/services/server/collections-server --listen 127.0.0.1:50061 --bootstrap "$bootstrap" \
  --topic "$topic" --transactional-id-prefix "bench-$run" --db "$work/projection" \
  --plaintext --plaintext-principal admin --signing-key "$repo/.local/keys/writer-signing.key" \
  --log-level warn >"$work/service.log" 2>&1 &
service=$!
cleanup() {
  kill -TERM $service 2>/dev/null || true
  wait $service 2>/dev/null || true
  $broker_was_running || deploy/kafka/kafka.sh stop
}
trap cleanup EXIT
for _ in $(seq 1 120); do
  build/services/bench/collections-bench --target 127.0.0.1:50061 --duration 1 --concurrency 1 \
    --run-id "warmup-$run" >/dev/null 2>&1 && break
  sleep 0.5
done

echo "== service: OpenCase + $payments x PostPayment, concurrency $concurrency, ${duration}s"
build/services/bench/collections-bench --target 127.0.0.1:50061 --concurrency "$concurrency" \
  --duration "$duration" --payments-per-case "$payments" --run-id "$run" | tee "$work/bench.txt"

commands=$(awk '/commands ok/ {print $3}' "$work/bench.txt")
record_size=$(kcat -b "$bootstrap" -C -t "$topic" -e -q -X isolation.level=read_committed -f '%S\n' 2>/dev/null |
  awk '{s+=$1; n++} END {if (n) printf "%d", s/n; else print 256}')
records=$(( commands > 50000 ? commands : 50000 ))
echo "== raw ceiling: Kafka ProducerPerformance, $records records of $record_size bytes (the events' mean size), acks=all, enable.idempotence=true"
java -cp "$lib/tools/*" -Dlog4j.configuration="file:$repo/deploy/kafka/log4j-tools.properties" \
  org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create \
  --topic "bench.raw.$run" --partitions 4 --replication-factor 1 >/dev/null
props=(bootstrap.servers="$bootstrap" acks=all enable.idempotence=true linger.ms=0)
echo "-- idempotent producer, no transactions:"
java -cp "$lib/tools/*" -Dlog4j.configuration="file:$repo/deploy/kafka/log4j-tools.properties" \
  org.apache.kafka.tools.ProducerPerformance --topic "bench.raw.$run" --num-records "$records" \
  --record-size "$record_size" --throughput -1 --producer-props "${props[@]}" | tail -n 1
echo "-- transactional producer, a commit every 10 ms (like a group commit):"
java -cp "$lib/tools/*" -Dlog4j.configuration="file:$repo/deploy/kafka/log4j-tools.properties" \
  org.apache.kafka.tools.ProducerPerformance --topic "bench.raw.$run" --num-records "$records" \
  --record-size "$record_size" --throughput -1 --transactional-id "bench-raw-$run" \
  --transaction-duration-ms 10 --producer-props "${props[@]}" | tail -n 1
