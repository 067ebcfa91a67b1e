#!/usr/bin/env bash
# Projection rebuild speed against a bare consumer of the same topic, in the same run.
#
#   deploy/rebuild-bench.sh [--accounts N] [--events N] [--partitions N] [--live-accounts N]
#                           [--bootstrap HOST:PORT] [--topic NAME] [--no-build]
#
# Fills a fresh topic with --accounts accounts of --events events each (contact attempts,
# payments, letters, promises; genuine hash chains), then times a bare librdkafka consumer and
# kcat (when installed) reading the whole topic, and a rebuild of every projection from offset 0
# as collections-server wires them (one consumer, the account store with its audit copy, and
# reporting), and prints events/s and the ratio. --live-accounts N then appends N more accounts
# while the projections run and prints their lag. --topic with --accounts 0 measures a topic
# loaded by something else. The broker: --bootstrap, else $COLLECTIONS_TEST_BOOTSTRAP, else a
# local plaintext broker on port 19095 started here.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
accounts=2000 events=50 partitions=4 live=0 bootstrap=${COLLECTIONS_TEST_BOOTSTRAP:-} topic="" build=true
build_dir=${BUILD_DIR:-build}
while [ $# -gt 0 ]; do
  case "$1" in
    --accounts) accounts=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --live-accounts) live=$2; shift 2 ;;
    --bootstrap) bootstrap=$2; shift 2 ;;
    --topic) topic=$2; shift 2 ;;
    --no-build) build=false; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
if $build; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" --target collections-rebuild-bench >&2
fi
if [ -z "$bootstrap" ]; then
  export KAFKA_PORT=${KAFKA_PORT:-19095} KAFKA_SECURITY=none
  deploy/kafka/kafka.sh start
  bootstrap=$(deploy/kafka/kafka.sh bootstrap)
fi
args=(--bootstrap "$bootstrap" --accounts "$accounts" --events "$events"
  --partitions "$partitions" --live-accounts "$live")
[ -n "$topic" ] && args+=(--topic "$topic")
kcat_bin=$(command -v kcat || command -v kafkacat || true)
[ -n "$kcat_bin" ] && args+=(--kcat "$kcat_bin")
exec "$build_dir/services/bench/collections-rebuild-bench" "${args[@]}"
