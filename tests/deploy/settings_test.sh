#!/usr/bin/env bash
# Every binary answers --version and --help, and takes its settings from a config file, the
# environment and flags, in that order of precedence (file < environment < flag).
# Usage: settings_test.sh SERVER CTL BENCH WORK_DIR
set -uo pipefail
server=$1 ctl=$2 bench=$3 work=$4
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
rm -rf "$work" && mkdir -p "$work"
unset COLLECTIONS_CONFIG COLLECTIONS_TOPIC COLLECTIONS_MAX_BATCH COLLECTIONS_KAFKA_SASL_USERNAME \
  COLLECTIONS_KAFKA_CLIENT_RACK COLLECTIONSCTL_TARGET COLLECTIONS_BENCH_CONCURRENCY

for bin in "$server" "$ctl" "$bench"; do
  name=$(basename "$bin")
  out=$("$bin" --version); rc=$?
  [[ $rc -eq 0 && "$out" =~ ^$name\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "$name --version: rc=$rc '$out'"
  help=$("$bin" --help)
  grep -q -- '--config' <<< "$help" || fail "$name --help does not describe --config"
  "$bin" --no-such-flag >/dev/null 2>&1; rc=$?
  [ $rc -eq 2 ] || fail "$name accepted an unknown flag (rc=$rc)"
done

setting() { grep "^$1 = " | head -1 | cut -d' ' -f3-; }

# The server: three sources for three settings, and Kafka properties from each.
cat > "$work/server.conf" <<'CONF'
topic = from-file
max-batch = 11
tick-interval-ms = 111
[kafka]
sasl.username = file-user
client.rack = file-rack
socket.keepalive.enable = true
CONF
out=$(COLLECTIONS_TOPIC=from-env COLLECTIONS_MAX_BATCH=22 COLLECTIONS_KAFKA_SASL_USERNAME=env-user \
  COLLECTIONS_KAFKA_CLIENT_RACK=env-rack \
  "$server" --config "$work/server.conf" --max-batch=33 --kafka-property client.rack=flag-rack \
  --print-config) || fail "collections-server --print-config failed"
[ "$(setting tick-interval-ms <<< "$out")" = 111 ] || fail "server: file setting lost"
[ "$(setting topic <<< "$out")" = from-env ] || fail "server: environment does not beat the file"
[ "$(setting max-batch <<< "$out")" = 33 ] || fail "server: flag does not beat the environment"
[ "$(setting socket.keepalive.enable <<< "$out")" = true ] || fail "server: [kafka] file property lost"
[ "$(setting sasl.username <<< "$out")" = env-user ] || fail "server: env property does not beat the file"
[ "$(setting client.rack <<< "$out")" = flag-rack ] || fail "server: --kafka-property does not beat env"
# The config file named by the environment.
out=$(COLLECTIONS_CONFIG="$work/server.conf" "$server" --print-config)
[ "$(setting topic <<< "$out")" = from-file ] || fail "server: COLLECTIONS_CONFIG not read"
# Secrets are not printed.
out=$(COLLECTIONS_KAFKA_SASL_PASSWORD=hunter2 "$server" --print-config)
grep -q hunter2 <<< "$out" && fail "server: --print-config shows sasl.password"
grep -q '^sasl.password = \*\*\*\*' <<< "$out" || fail "server: sasl.password from env not applied"
# A bad value names its source's setting.
COLLECTIONS_MAX_BATCH=lots "$server" --print-config >/dev/null 2>&1 && fail "server: accepted max-batch=lots"

# collectionsctl and collections-bench: the same three sources.
echo "target = file:1" > "$work/ctl.conf"
out=$("$ctl" --config "$work/ctl.conf" --print-config)
[ "$(setting target <<< "$out")" = file:1 ] || fail "ctl: file setting lost"
out=$(COLLECTIONSCTL_TARGET=env:2 "$ctl" --config "$work/ctl.conf" --print-config)
[ "$(setting target <<< "$out")" = env:2 ] || fail "ctl: environment does not beat the file"
out=$(COLLECTIONSCTL_TARGET=env:2 "$ctl" --config "$work/ctl.conf" --target flag:3 --print-config)
[ "$(setting target <<< "$out")" = flag:3 ] || fail "ctl: flag does not beat the environment"
echo "concurrency = 5" > "$work/bench.conf"
out=$(COLLECTIONS_BENCH_CONCURRENCY=6 "$bench" --config "$work/bench.conf" --print-config)
[ "$(setting concurrency <<< "$out")" = 6 ] || fail "bench: environment does not beat the file"
out=$(COLLECTIONS_BENCH_CONCURRENCY=6 "$bench" --config "$work/bench.conf" --concurrency 7 --print-config)
[ "$(setting concurrency <<< "$out")" = 7 ] || fail "bench: flag does not beat the environment"

if [ $failures -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "settings: --version on every binary, file < environment < flag"
