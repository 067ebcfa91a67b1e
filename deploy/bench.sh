#!/usr/bin/env bash
# Benchmark: the service's command throughput, latency and CPU cost, and in the same run the
# ceilings Kafka itself gives on this machine, with the ratios between them.
#
#   deploy/bench.sh [--quick | --smoke] [--duration SECONDS] [--payments-per-case N]
#                   [--server PATH] [--report FILE] [--bootstrap HOST:PORT] [--no-build]
#                   [--no-java]
#
# The service (OpenCase + N x PostPayment per account, collections-bench):
#   closed loop, 1 call in flight            p50 at one call in flight
#   closed loop, 64 calls in flight          the closed-loop ceiling C
#   open loop at 0.5, 0.8, 1.0, 1.2 x C      fixed arrival rates; the saturation point S is the
#                                            highest rate served (>= 95% of offered, no errors)
#   open loop at 0.5 x S                     p99 at half of saturation
#   projection lag at saturation             the largest collections_projection_lag_seconds
#                                            sampled every 0.5 s during the saturation point
#   service CPU seconds per 1,000 commands   utime+stime of the server (/proc/<pid>/stat) over
#                                            the closed-loop ceiling's window
# Kafka alone, same broker, same run:
#   ProducerPerformance                      acks=all, idempotent, the events' mean record size
#   collections-txn-baseline                 a bare librdkafka transactional producer with the
#                                            service's settings (two transactional ids in turn)
#                                            committing transactions of the size the service's
#                                            reached (events, and the partitions they span); and
#                                            one record per transaction (the bare round trip)
#   EndToEndLatency                          produce + consume of one record at a time, p99
# --quick: shorter points and fewer rates (about 3 minutes). --smoke: 2 s points, no Kafka tools
# (the CI check that every figure is produced; its numbers mean little). --server: measure another build of
# collections-server (e.g. an older one, for a before/after pair). --no-java: skip the two
# Kafka tools (no JVM start). Starts the broker if it is not running (KAFKA_PORT, default
# 19094; --bootstrap: use that plaintext broker as it is) and a service of its own on a fresh
# topic on port BENCH_PORT (default 50061; its metrics on the next port).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
quick=false smoke=false duration=20 payments=4 server="" report="" build=true java=true bootstrap=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=true; shift ;;
    --smoke) smoke=true quick=true java=false; shift ;;
    --duration) duration=$2; shift 2 ;;
    --payments-per-case) payments=$2; shift 2 ;;
    --server) server=$2; shift 2 ;;
    --report) report=$2; shift 2 ;;
    --no-build) build=false; shift ;;
    --bootstrap) bootstrap=$2; shift 2 ;;
    --no-java) java=false; shift ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
if $smoke; then point=2 single=2 rates="1.0"
elif $quick; then point=8 single=8 rates="0.5 1.0"; else point=$duration single=$duration rates="0.5 0.8 1.0 1.2"; fi
build_dir=${BUILD_DIR:-$repo/build}
bench=$build_dir/services/bench/collections-bench
baseline=$build_dir/services/bench/collections-txn-baseline
server=${server:-$build_dir/services/server/collections-server}

# Its own plaintext broker (the one deploy/up.sh runs on 19092 is secured with ACLs for the
# service's topic only): the benchmark compares the service with Kafka's raw producer.
export KAFKA_PORT=${KAFKA_PORT:-19094} KAFKA_SECURITY=none
port=${BENCH_PORT:-50061}
if $build; then
  deploy/install-deps.sh
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" --target collections-server collections-bench \
    collections-txn-baseline >&2
fi
$java && deploy/kafka/kafka.sh fetch-tools

broker_was_running=true
if [ -z "$bootstrap" ]; then
  deploy/kafka/kafka.sh status >/dev/null 2>&1 || broker_was_running=false
  deploy/kafka/kafka.sh start >&2
  bootstrap=$(deploy/kafka/kafka.sh bootstrap)
fi
lib=${KAFKA_LIB_DIR:-$repo/.local/kafka-lib}
run=$(date +%s)
topic=bench.case-events.$run
work=$repo/.local/bench-$run
mkdir -p "$work"
report=${report:-$work/report.md}

deploy/certs.sh >/dev/null  # the writer's signing key
# Plaintext on loopback as the admin principal: the benchmark measures the write path, not TLS.
# No per-principal rate limit (--rate-limit, 1,000 calls/s by default): the load comes from one
# principal, and the limit would cap the closed loop and fill it with refused calls.
"$server" --listen "127.0.0.1:$port" --bootstrap "$bootstrap" \
  --topic "$topic" --deployment-id "bench-$run" --db "$work/projection" \
  --plaintext --plaintext-principal admin --rate-limit 0 --signing-key "$repo/.local/keys/writer-signing.key" \
  --metrics-listen "127.0.0.1:$((port + 1))" --log-level warn >"$work/service.log" 2>&1 &
service=$!
cleanup() {
  kill -TERM $service 2>/dev/null || true
  wait $service 2>/dev/null || true
  $broker_was_running || deploy/kafka/kafka.sh stop >&2
}
trap cleanup EXIT
for _ in $(seq 1 120); do
  "$bench" --target "127.0.0.1:$port" --duration 1 --concurrency 1 \
    --run-id "warmup-$run" >/dev/null 2>&1 && break
  kill -0 $service 2>/dev/null || { echo "the service did not start:" >&2; tail "$work/service.log" >&2; exit 1; }
  sleep 0.5
done

ticks=$(getconf CLK_TCK)
cpu_seconds() { awk -v t="$ticks" '{printf "%.2f", ($14 + $15) / t}' "/proc/$service/stat"; }
# Committed transactions and the events in them, from the service's metrics.
metric_sum() {
  curl -s "http://127.0.0.1:$((port + 1))/metrics" |
    awk -v name="$1" -v filter="${2:-}" 'index($0, name) == 1 && index($0, filter) {s += $NF} END {printf "%d", s}'
}
field() { awk -v k="$2" '$0 ~ k {for (i = 1; i <= NF; i++) if ($i == "'"${3:-}"'") {print $(i + 1); exit}}' "$1"; }
# point NAME ARGS...: one collections-bench run; leaves its figures in
# $work/NAME.{txt,cpu,txn,events,ktxn,lag}.
point() {
  local name=$1; shift
  local c0 t0 e0 k0
  c0=$(cpu_seconds); t0=$(metric_sum collections_writer_transactions_total 'committed')
  e0=$(metric_sum collections_writer_events_total)
  k0=$(metric_sum collections_writer_kafka_transactions_total)
  # The projections' lag (the largest of the three) every half second while the load runs.
  ( while :; do
      curl -s "http://127.0.0.1:$((port + 1))/metrics" |
        awk 'index($0, "collections_projection_lag_seconds{") == 1 && $NF > m {m = $NF} END {print m + 0}'
      sleep 0.5
    done >"$work/$name.lag" ) &
  local sampler=$!
  "$bench" --target "127.0.0.1:$port" --payments-per-case "$payments" --run-id "$run-$name" "$@" \
    2>/dev/null >"$work/$name.txt"
  kill $sampler 2>/dev/null || true; wait $sampler 2>/dev/null || true
  echo "$(cpu_seconds) - $c0" | bc >"$work/$name.cpu"
  echo "$(metric_sum collections_writer_transactions_total 'committed') - $t0" | bc >"$work/$name.txn"
  echo "$(metric_sum collections_writer_events_total) - $e0" | bc >"$work/$name.events"
  echo "$(metric_sum collections_writer_kafka_transactions_total) - $k0" | bc >"$work/$name.ktxn"
  echo "-- $name: $(grep -h 'throughput' "$work/$name.txt" | xargs) | $(grep -h 'latency' "$work/$name.txt" | xargs) | $(grep -h 'commands ok' "$work/$name.txt" | xargs) | cpu $(cat "$work/$name.cpu") s" >&2
}
ok() { awk '/commands ok/ {print $3}' "$work/$1.txt"; }
errors() { awk '/commands ok/ {gsub(/[(),]/, "", $5); print $5}' "$work/$1.txt"; }
tput() { awk '/throughput/ {print $2}' "$work/$1.txt"; }
max_lag() { awk '$1 > m {m = $1} END {printf "%.2f", m + 0}' "$work/$1.lag"; }
lat() { awk -v q="$2" '/latency ms/ {for (i = 1; i <= NF; i++) if ($i == q) print $(i + 1)}' "$work/$1.txt"; }

echo "== service: OpenCase + $payments x PostPayment per account ($(nproc) cores; load: $(uptime | sed 's/.*load average: //'))" >&2
point c1 --concurrency 1 --duration "$single"
point c64 --concurrency 64 --duration "$point"
closed=$(tput c64)
saturation=0 saturation_point=c64
for f in $rates; do
  rate=$(echo "$closed * $f / 1" | bc)
  [ "$rate" -ge 1 ] || rate=1
  point "open-$rate" --rate "$rate" --duration "$point"
  got=$(tput "open-$rate")
  if [ "$(errors "open-$rate")" = 0 ] && [ "$(echo "$got >= 0.95 * $rate" | bc)" = 1 ] &&
     [ "$got" -gt "$saturation" ]; then
    saturation=$got saturation_point=open-$rate
  fi
done
if [ "$saturation" = 0 ]; then saturation=$closed; fi
half=$(( saturation / 2 > 1 ? saturation / 2 : 1 ))
point half --rate "$half" --duration "$point"
cpu_per_k=$(echo "scale=3; $(cat "$work/c64.cpu") * 1000 / $(ok c64)" | bc)
# Group commit: a Kafka transaction holds the appends of every partition with work (an older
# build without the Kafka transaction count: one partition's append stands for a transaction).
kafka_txn=$(cat "$work/c64.ktxn"); [ "$kafka_txn" -gt 0 ] || kafka_txn=$(cat "$work/c64.txn")
events_per_append=$(echo "scale=1; $(cat "$work/c64.events") / $(cat "$work/c64.txn")" | bc)
events_per_txn=$(echo "scale=1; $(cat "$work/c64.events") / $kafka_txn" | bc)
parts_per_txn=$(echo "scale=1; $(cat "$work/c64.txn") / $kafka_txn" | bc)
batch=$(printf '%.0f' "$events_per_txn"); [ "$batch" -ge 1 ] || batch=1
parts=$(printf '%.0f' "$parts_per_txn"); [ "$parts" -ge 1 ] || parts=1; [ "$parts" -le "$batch" ] || parts=$batch
kill -TERM $service; wait $service 2>/dev/null || true

record_size=$(kcat -b "$bootstrap" -C -t "$topic" -e -q -X isolation.level=read_committed -f '%S\n' 2>/dev/null |
  awk '{s+=$1; n++} END {if (n) printf "%d", s/n; else print 256}')
echo "== Kafka alone: records of $record_size bytes (the events' mean size), acks=all, idempotent" >&2
tdur=$($smoke && echo 2 || ($quick && echo 5 || echo 10))
# Two transactional ids in turn, as the service's writers: one producer back to back meets the
# broker's CONCURRENT_TRANSACTIONS (its previous commit's markers still being written) and
# librdkafka's fixed 20 ms retry, a handicap the service does not have.
"$baseline" --bootstrap "$bootstrap" --topic "bench.raw.$run" --transactional-id "bench-raw-$run-1" \
  --alternate --records-per-txn 1 --record-size "$record_size" --duration "$tdur" >"$work/txn1.txt"
"$baseline" --bootstrap "$bootstrap" --topic "bench.raw.$run" --transactional-id "bench-raw-$run-b" \
  --alternate --records-per-txn "$batch" --partitions "$parts" --record-size "$record_size" \
  --duration "$tdur" >"$work/txnb.txt"
cat "$work/txn1.txt" "$work/txnb.txt" >&2
txn1_p50=$(awk '/round trip/ {print $5}' "$work/txn1.txt")
txn1_p99=$(awk '/round trip/ {print $7}' "$work/txn1.txt")
txnb_rps=$(awk '/records\/s/ {print $2}' "$work/txnb.txt")
pp_rps=n/a e2e_p99=n/a
if $java; then
  records=$($quick && echo 30000 || echo 100000)
  cp=("$lib/tools/*")
  log4j=-Dlog4j.configuration="file:$repo/deploy/kafka/log4j-tools.properties"
  java -cp "${cp[*]}" "$log4j" org.apache.kafka.tools.ProducerPerformance --topic "bench.raw.$run" \
    --num-records "$records" --record-size "$record_size" --throughput -1 \
    --producer-props bootstrap.servers="$bootstrap" acks=all enable.idempotence=true linger.ms=0 \
    2>/dev/null | tail -n 1 >"$work/pp.txt"
  cat "$work/pp.txt" >&2
  pp_rps=$(awk '{print $4}' "$work/pp.txt" | sed 's/[^0-9.]//g'); pp_rps=$(printf '%.0f' "$pp_rps")
  java -cp "${cp[*]}" "$log4j" org.apache.kafka.tools.EndToEndLatency "$bootstrap" "bench.e2e.$run" \
    "$($quick && echo 2000 || echo 5000)" all "$record_size" 2>/dev/null >"$work/e2e.txt" || true
  grep -E "Avg latency|Percentiles" "$work/e2e.txt" >&2 || true
  e2e_p99=$(sed -n 's/.*99th = \([0-9.]*\).*/\1/p' "$work/e2e.txt" | head -n 1)
  e2e_p99=${e2e_p99:-n/a}
fi
ratio() { if [ "$2" = n/a ] || [ "$1" = n/a ]; then echo n/a; else echo "scale=2; $1 / $2" | bc; fi; }

{
  echo "# deploy/bench.sh $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, load average at the end $(uptime | sed 's/.*load average: //'); server $server"
  echo "Load: OpenCase + $payments x PostPayment per account; events of $record_size bytes on average; $point s per point"
  echo
  echo "| figure | value |"
  echo "|---|---|"
  echo "| p50 at 1 call in flight (closed loop) | $(lat c1 p50) ms |"
  echo "| closed loop, 64 in flight | $closed commands/s, p50 $(lat c64 p50) ms, p99 $(lat c64 p99) ms, errors $(errors c64) |"
  for f in $rates; do
    rate=$(echo "$closed * $f / 1" | bc); [ "$rate" -ge 1 ] || rate=1
    echo "| open loop at $rate/s | $(tput "open-$rate") commands/s, p50 $(lat "open-$rate" p50) ms, p99 $(lat "open-$rate" p99) ms, errors $(errors "open-$rate") |"
  done
  echo "| saturation (sustained) | $saturation commands/s ($saturation_point) |"
  echo "| projection lag at saturation (largest, sampled every 0.5 s) | $(max_lag "$saturation_point") s |"
  echo "| p99 at 50% of saturation ($half/s, open loop) | $(lat half p99) ms (p50 $(lat half p50) ms) |"
  echo "| service CPU per 1,000 commands | $cpu_per_k s (closed loop, 64 in flight) |"
  echo "| group commit (per Kafka transaction, closed loop of 64) | $events_per_txn events over $parts_per_txn partitions ($events_per_append per partition) |"
  echo "| bare txn round trip, 1 record/txn, p50 | $txn1_p50 ms (p99 $txn1_p99 ms) |"
  echo "| bare txn producer, $batch records/txn over $parts partitions | $txnb_rps records/s |"
  echo "| ProducerPerformance (idempotent, no txn) | $pp_rps records/s |"
  echo "| EndToEndLatency p99 | $e2e_p99 ms |"
  echo
  echo "| ratio | value | goal |"
  echo "|---|---|---|"
  echo "| sustained commands/s / bare txn producer | $(ratio "$saturation" "$txnb_rps") | >= 0.5 |"
  echo "| sustained commands/s / ProducerPerformance | $(ratio "$saturation" "$pp_rps") | >= 0.25 |"
  echo "| p50 at 1 in flight / bare txn round trip | $(ratio "$(lat c1 p50)" "$txn1_p50") | <= 1.5 |"
  echo "| p99 at 50% of saturation / EndToEndLatency p99 | $(ratio "$(lat half p99)" "$e2e_p99") | <= 3 |"
  echo "| projection lag at saturation | $(max_lag "$saturation_point") s | < 1 s |"
} >"$report"
cat "$report"
