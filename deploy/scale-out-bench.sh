#!/usr/bin/env bash
# Scale-out benchmark: commands/s of one deployment run as 1, 2 and 3 processes on the same
# broker (each a fresh topic, the same closed-loop load spread over every process), as a ratio
# to the 1-process figure, the CPU seconds all the processes used per 1,000 commands; then the
# failover gap: under load, one process of the largest set is killed with SIGKILL and the
# time until the survivors serve every partition again is measured.
#
#   deploy/scale-out-bench.sh [--processes "1 2 3"] [--duration 15] [--concurrency 64]
#                             [--session-timeout-ms 6000] [--bootstrap HOST:PORT] [--no-build]
#
# Its own plaintext broker (KAFKA_PORT, default 19094, as deploy/bench.sh) unless --bootstrap
# names a running one; services on ports from SCALE_OUT_PORT (default 50161). On one machine
# the processes share its cores: the ratio says what an added process costs or buys there; on
# separate machines each brings its own. Writes .local/scale-out-<run>/report.md.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
processes="1 2 3" duration=15 concurrency=64 session_ms=6000 bootstrap="" build=true
while [ $# -gt 0 ]; do
  case "$1" in
    --processes) processes=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --session-timeout-ms) session_ms=$2; shift 2 ;;
    --bootstrap) bootstrap=$2; shift 2 ;;
    --no-build) build=false; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
build_dir=${BUILD_DIR:-$repo/build}
bench=$build_dir/services/bench/collections-bench
server=$build_dir/services/server/collections-server
export KAFKA_PORT=${KAFKA_PORT:-19094} KAFKA_SECURITY=none
base=${SCALE_OUT_PORT:-50161}
if $build; then
  deploy/install-deps.sh
  [ -f "$build_dir/CMakeCache.txt" ] ||
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" --target collections-server collections-bench >&2
fi
broker_was_running=true
if [ -z "$bootstrap" ]; then
  deploy/kafka/kafka.sh status >/dev/null 2>&1 || broker_was_running=false
  deploy/kafka/kafka.sh start >&2
  bootstrap=$(deploy/kafka/kafka.sh bootstrap)
fi
deploy/certs.sh >/dev/null  # the writer's signing key
run=$(date +%s)
work=$repo/.local/scale-out-$run
mkdir -p "$work"
report=$work/report.md

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_all
  $broker_was_running || deploy/kafka/kafka.sh stop >&2
}
trap cleanup EXIT

# start_set N TOPIC: N processes of deployment TOPIC (instances s1..sN, one writer store),
# waits until each answers a command. Leaves their addresses in $targets.
start_set() {
  local n=$1 topic=$2 i port
  targets=""
  for i in $(seq 1 "$n"); do
    port=$((base + 10 * i))
    "$server" --listen "127.0.0.1:$port" --bootstrap "$bootstrap" --topic "$topic" \
      --deployment-id "$topic" --instance-id "s$i" --db "$work/$topic/s$i/projection" \
      --writer-store "$work/$topic/writer" --ownership-session-timeout-ms "$session_ms" \
      --plaintext --plaintext-principal admin --rate-limit 0 --signing-key "$repo/.local/keys/writer-signing.key" \
      --metrics-listen "127.0.0.1:$((port + 1))" --log-level info \
      >"$work/$topic-s$i.log" 2>&1 &
    pids+=($!)
    targets="${targets:+$targets,}127.0.0.1:$port"
  done
  for i in $(seq 1 "$n"); do
    port=$((base + 10 * i))
    for _ in $(seq 1 240); do
      "$bench" --target "127.0.0.1:$port" --duration 1 --concurrency 1 \
        --run-id "warmup-$topic-$i" >/dev/null 2>&1 && break
      sleep 0.5
    done
  done
}
cpu_of_set() {
  local total=0 pid
  for pid in "${pids[@]}"; do
    total=$(echo "$total + $(awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$pid/stat")" | bc)
  done
  echo "$total"
}
# serving_partitions PORT...: partitions whose writer is serving, summed over the processes.
serving_partitions() {
  local sum=0 port n
  for port in "$@"; do
    n=$(curl -s --max-time 1 "http://127.0.0.1:$((port + 1))/metrics" |
      awk '/^collections_writer_state\{/ && /state="serving"/ {s += $NF} END {printf "%d", s}')
    sum=$((sum + ${n:-0}))
  done
  echo "$sum"
}

echo "== scale-out: OpenCase + 4 x PostPayment per account, closed loop of $concurrency, ${duration} s per point ($(nproc) cores; load: $(uptime | sed 's/.*load average: //'))" >&2
declare -A tput cpu1k
for n in $processes; do
  start_set "$n" "scaleout.$run.$n"
  c0=$(cpu_of_set)
  "$bench" --target "$targets" --concurrency "$concurrency" --duration "$duration" \
    --run-id "$run-$n" 2>/dev/null >"$work/p$n.txt"
  c1=$(cpu_of_set)
  ok=$(awk '/commands ok/ {print $3}' "$work/p$n.txt")
  tput[$n]=$(awk '/throughput/ {print $2}' "$work/p$n.txt")
  cpu1k[$n]=$(echo "scale=3; ($c1 - $c0) * 1000 / ($ok + 1)" | bc)
  echo "-- $n process(es): ${tput[$n]} commands/s, ${cpu1k[$n]} CPU s per 1,000 commands, $(grep -h latency "$work/p$n.txt" | xargs)" >&2
  stop_all
done

# Failover: the largest set under load, its last process killed.
largest=$(echo "$processes" | tr ' ' '\n' | sort -n | tail -1)
gap="n/a (needs 2 or more processes)"
if [ "$largest" -ge 2 ]; then
  topic=scaleout.$run.failover
  start_set "$largest" "$topic"
  ports=()
  for i in $(seq 1 $((largest - 1))); do ports+=($((base + 10 * i))); done
  "$bench" --target "$targets" --concurrency "$concurrency" --duration $((duration + 15)) \
    --run-id "$run-failover" 2>/dev/null >"$work/failover.txt" &
  load=$!
  sleep 5
  victim=${pids[$((largest - 1))]}
  killed=$(date +%s.%N)
  kill -KILL "$victim"
  partitions=$(curl -s "http://127.0.0.1:$((base + 11))/metrics" | grep -c '^collections_writer_state{.*state="serving"' || true)
  back=""
  for _ in $(seq 1 600); do
    if [ "$(serving_partitions "${ports[@]}")" -ge "$partitions" ]; then back=$(date +%s.%N); break; fi
    sleep 0.1
  done
  wait "$load" || true
  if [ -n "$back" ]; then
    gap=$(printf '%.1f s' "$(echo "$back - $killed" | bc)")
  else
    gap="not back within 60 s"
  fi
  echo "-- failover: process s$largest of $largest killed under load; every partition served again after $gap (session timeout ${session_ms} ms); load: $(grep -h 'commands ok' "$work/failover.txt" | xargs), $(grep -h 'retried' "$work/failover.txt" | xargs), $(grep -h 'latency' "$work/failover.txt" | xargs)" >&2
  stop_all
fi

{
  echo "# Scale-out, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(uptime | sed 's/.*load average: //')"
  echo
  echo "Closed loop of $concurrency calls, OpenCase + 4 x PostPayment per account, ${duration} s per point, one broker ($bootstrap), 24 partitions."
  echo
  echo "| processes | commands/s | ratio to 1 process | CPU s per 1,000 commands (all processes) |"
  echo "|---|---|---|---|"
  first=$(echo "$processes" | awk '{print $1}')
  for n in $processes; do
    echo "| $n | ${tput[$n]} | $(echo "scale=2; ${tput[$n]} / (${tput[$first]} + 0.0001)" | bc) | ${cpu1k[$n]} |"
  done
  echo
  echo "Failover gap (SIGKILL of one of $largest processes under load until every partition is served again): $gap."
  [ -f "$work/failover.txt" ] && echo "The load meanwhile (clients send a command answered UNAVAILABLE again with the same command id): $(grep -h 'commands ok' "$work/failover.txt" | xargs); $(grep -h 'retried' "$work/failover.txt" | xargs); $(grep -h 'latency' "$work/failover.txt" | xargs)."
} >"$report"
cat "$report"
