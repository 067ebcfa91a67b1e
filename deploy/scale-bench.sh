#!/usr/bin/env bash
# The writer at scale: loads a realistic history (opens, contacts, promises, payments and the
# time-driven events they cause) through the writer's own command pipeline into a topic, then
# measures, each in a process of its own: a restore from offset 0 (the baseline), a restart from
# the writers' store checkpoint, memory once serving, and PostPayment/RecordContactAttempt latency
# on a 10-event account against a 5,000-event one; then builds the account and reporting
# projections of the topic in one pass and times the audit reads of one account (GetAuditTrail,
# ReplayAccount, VerifyAuditTrail) against a scan of its partition and the monthly aging, CEI and
# roll-rate reports against a scan of every fact.
#
#   deploy/scale-bench.sh [--size tiny|small|2m|5m|10m|20m] [--bootstrap HOST:PORT] [--topic NAME]
#                         [--skip-load] [--cache-size N] [--baseline] [--no-build]
#
# Sizes (accounts x commands each): tiny 50 x 8 (seconds; run by ctest, in one process, and it
# fails unless both restarts reach the same state), small 10,000 x 20, 2m 100,000 x 20,
# 5m 250,000 x 20, 10m 500,000 x 20, 20m 1,000,000 x 20 (20 commands make about 25 events);
# from small up the accounts open over 12 months (one in twelve each month, from January 2020)
# and the reports are those of July 2020.
# The load runs the commands on every core and appends from several transactional producers at
# once, printing progress (events, rate, ETA) every 10 s; --baseline then times a bare
# librdkafka producer writing as many records of the same size, the machine's ceiling in the
# same run. The machine's load average is printed before each phase (the figures depend on it).
# --topic with --skip-load measures an already loaded topic again (the key layout is in
# services/bench/scale_bench_main.cc). The broker: --bootstrap, else $COLLECTIONS_TEST_BOOTSTRAP,
# else a local plaintext broker on port 19094 started here.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
size=small bootstrap=${COLLECTIONS_TEST_BOOTSTRAP:-} topic="" skip_load=false build=true cache=1000
baseline=()
build_dir=${BUILD_DIR:-build}
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --bootstrap) bootstrap=$2; shift 2 ;;
    --topic) topic=$2; shift 2 ;;
    --skip-load) skip_load=true; shift ;;
    --cache-size) cache=$2; shift 2 ;;
    --baseline) baseline=(--baseline); shift ;;
    --no-build) build=false; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
case "$size" in
  tiny) accounts=50 per=8 big=60 samples=20 months=1 ;;
  small) accounts=10000 per=20 big=5000 samples=200 ;;
  2m) accounts=100000 per=20 big=5000 samples=200 ;;
  5m) accounts=250000 per=20 big=5000 samples=200 ;;
  10m) accounts=500000 per=20 big=5000 samples=200 scan=1 report_scan=false ;;
  20m) accounts=1000000 per=20 big=5000 samples=200 scan=1 report_scan=false ;;
  *) echo "--size must be tiny, small, 2m, 5m, 10m or 20m" >&2; exit 2 ;;
esac
months=${months:-12}
# From 10m up a scan of one partition takes minutes (one account is scanned for the baseline),
# and the reports' full-scan baseline, which holds every fact in memory, would not fit.
scan=${scan:-3} report_scan=${report_scan:-true}
if $build; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" --target collections-scale-bench collections-read-bench >&2
fi
if [ -z "$bootstrap" ]; then
  export KAFKA_PORT=${KAFKA_PORT:-19094} KAFKA_SECURITY=none
  deploy/kafka/kafka.sh start
  bootstrap=$(deploy/kafka/kafka.sh bootstrap)
fi
run=$(date +%s)-$$
topic=${topic:-collections.scale-bench.$size.$run}
work=$repo/.local/scale-bench/$size-$run
mkdir -p "$work"
bench=("$build_dir/services/bench/collections-scale-bench" --bootstrap "$bootstrap" --topic "$topic"
  --prefix "SB-$size" --accounts "$accounts" --events-per-account "$per" --big-events "$big"
  --samples "$samples" --account-cache-size "$cache" --store "$work/writer-store"
  --history-months "$months"
  --signing-key "$repo/.local/scale-bench/signing.key")
trap 'rm -rf "$work/writer-store" "$work/read" "$work/read-reporting"' EXIT
echo "== topic $topic at $bootstrap: $accounts accounts x $per commands, one of $big"
if [ "$size" = tiny ]; then
  "${bench[@]}" --phase all
  exit 0
fi
load() { echo "== $1 (machine: $(uptime | sed 's/.*load average/load average/'))"; }
$skip_load || { load "load"; "${bench[@]}" --phase load "${baseline[@]}"; }
load "restart from offset 0"
"${bench[@]}" --phase restart-zero
load "restart from the checkpoint, latency"
"${bench[@]}" --phase restart
# The compliance officer's reads of one account and the monthly reports on the same topic: the
# account and reporting projections are built in one pass over it (as a server rebuilding them
# would), then GetAuditTrail / ReplayAccount / VerifyAuditTrail of random accounts are timed
# against a scan of their partition, and the aging, CEI and roll-rate reports of a month in the
# middle of the history against a scan of every fact.
load "audit reads and monthly reports"
"$build_dir/services/bench/collections-read-bench" --bootstrap "$bootstrap" --topic "$topic" \
  --sizes 0 --samples "$samples" --scan-samples "$scan" --db "$work/read" --run-id "rb-$run" \
  --reports "$( [ "$months" -ge 7 ] && echo 2020-07 || echo 2020-01 )" --report-samples 5 --report-scan="$report_scan"
