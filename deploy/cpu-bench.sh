#!/usr/bin/env bash
# The service's CPU per command: CPU seconds (utime + stime of the server process, from
# /proc/<pid>/stat) per 1,000 commands at fixed loads, for one or more builds of
# collections-server measured one after the other on the same broker with the same load.
#
#   deploy/cpu-bench.sh [--server PATH]... [--duration 15] [--rate 100] [--concurrency 64]
#                       [--bootstrap HOST:PORT] [--perf]
#
# For each server: a fresh topic and process, a short warm-up, then
#   idle          10 s with no calls (what the process burns doing nothing)
#   closed loop   --concurrency calls in flight (OpenCase + 4 x PostPayment per account)
#   open loop     --rate commands/s, sent at fixed times whatever the answers
# and prints the CPU seconds of each window, per 1,000 commands for the two loads, and the
# process's thread count. CPU time is a fair figure on a busy machine (latency is not); compare
# builds within one run. --server defaults to build/services/server/collections-server;
# give it twice (an older build, then this one) for a before/after pair. --perf records a
# profile of the closed loop (perf record -g) next to the figures. The broker: --bootstrap,
# else the one of deploy/kafka/kafka.sh (KAFKA_PORT, default 19094), started if needed.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
servers=() duration=15 rate=100 concurrency=64 bootstrap="" perf=false
while [ $# -gt 0 ]; do
  case "$1" in
    --server) servers+=("$2"); shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --bootstrap) bootstrap=$2; shift 2 ;;
    --perf) perf=true; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
build_dir=${BUILD_DIR:-$repo/build}
bench=$build_dir/services/bench/collections-bench
[ ${#servers[@]} -gt 0 ] || servers=("$build_dir/services/server/collections-server")
if [ -z "$bootstrap" ]; then
  export KAFKA_PORT=${KAFKA_PORT:-19094} KAFKA_SECURITY=none
  deploy/kafka/kafka.sh start >&2
  bootstrap=$(deploy/kafka/kafka.sh bootstrap)
fi
port=${BENCH_PORT:-50061}
deploy/certs.sh >/dev/null  # the writer's signing key
ticks=$(getconf CLK_TCK)
run=$(date +%s)
work=$repo/.local/cpu-bench-$run
mkdir -p "$work"
echo "# deploy/cpu-bench.sh $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(uptime | sed 's/.*load average: //')"
echo "closed loop: $concurrency in flight, open loop: $rate/s, $duration s each; OpenCase + 4 x PostPayment per account"
echo
echo "| server | idle CPU s / 10 s | closed loop commands/s | CPU s / 1,000 (closed) | open loop commands/s | CPU s / 1,000 (open) | threads |"
echo "|---|---|---|---|---|---|---|"
n=0
for server in "${servers[@]}"; do
  n=$((n + 1))
  dir=$work/server-$n
  mkdir -p "$dir"
  # --transactional-id-prefix, not --deployment-id: every build reads it (newer ones as the
  # deployment id's former name), so an older build can be compared too.
  "$server" --listen "127.0.0.1:$port" --bootstrap "$bootstrap" --topic "cpu.case-events.$run.$n" \
    --transactional-id-prefix "cpu-$run-$n" --db "$dir/projection" --plaintext \
    --plaintext-principal admin --rate-limit 0 --signing-key "$repo/.local/keys/writer-signing.key" \
    --metrics-listen "127.0.0.1:$((port + 1))" --log-level warn >"$dir/service.log" 2>&1 &
  service=$!
  trap 'kill -TERM $service 2>/dev/null || true' EXIT
  for _ in $(seq 1 120); do
    "$bench" --target "127.0.0.1:$port" --duration 1 --concurrency 1 --run-id "warm-$run-$n" \
      >/dev/null 2>&1 && break
    kill -0 $service 2>/dev/null || { echo "$server did not start:" >&2; tail "$dir/service.log" >&2; exit 1; }
    sleep 0.5
  done
  "$bench" --target "127.0.0.1:$port" --duration 3 --concurrency "$concurrency" \
    --run-id "warm2-$run-$n" >/dev/null 2>&1
  cpu() { awk -v t="$ticks" '{printf "%.2f", ($14 + $15) / t}' "/proc/$service/stat"; }
  sleep 2
  c0=$(cpu); sleep 10; idle=$(echo "$(cpu) - $c0" | bc)
  # window NAME ARGS...: one collections-bench run; prints "commands/s cpu-per-1000".
  window() {
    local name=$1; shift
    local a b ok recorder=""
    a=$(cpu)
    if $perf && [ "$name" = closed ]; then
      perf record -g -p "$service" -o "$dir/$name.perf.data" -- sleep "$duration" >/dev/null 2>&1 &
      recorder=$!
    fi
    "$bench" --target "127.0.0.1:$port" --run-id "$run-$n-$name" --duration "$duration" "$@" \
      >"$dir/$name.txt" 2>/dev/null
    b=$(cpu)
    [ -z "$recorder" ] || wait "$recorder" || true
    ok=$(awk '/commands ok/ {print $3}' "$dir/$name.txt")
    echo "$(awk '/throughput/ {print $2}' "$dir/$name.txt") $(echo "scale=3; ($b - $a) * 1000 / $ok" | bc)"
  }
  read -r closed_tput closed_cpu < <(window closed --concurrency "$concurrency")
  read -r open_tput open_cpu < <(window open --rate "$rate")
  threads=$(ls "/proc/$service/task" | wc -l)
  kill -TERM $service; wait $service 2>/dev/null || true
  trap - EXIT
  echo "| $server | $idle | $closed_tput | $closed_cpu | $open_tput | $open_cpu | $threads |"
done
echo
echo "(raw output: $work)"
