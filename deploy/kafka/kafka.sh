#!/usr/bin/env bash
# Single-node Apache Kafka 3.9 (KRaft, loopback) for development and tests.
#
#   deploy/kafka/kafka.sh fetch              download the broker jars from Maven Central (once)
#   deploy/kafka/kafka.sh fetch-tools        download kafka-tools (ProducerPerformance) too
#   deploy/kafka/kafka.sh start              format the data dir if new, start, wait until it answers
#   deploy/kafka/kafka.sh stop               stop cleanly (SIGTERM, wait for the controlled shutdown)
#   deploy/kafka/kafka.sh status             print whether it runs and where
#
# Environment (defaults in brackets):
#   KAFKA_PORT [19092]  KAFKA_CONTROLLER_PORT [KAFKA_PORT+1]
#   KAFKA_STATE_DIR [<repo>/.local/kafka-$KAFKA_PORT]  data, logs, pid file
#   KAFKA_LIB_DIR [<repo>/.local/kafka-lib]            jar cache
#
# Every sub-command is safe to repeat. Durability note: on one broker acks=all means the
# leader only and Kafka fsyncs lazily; production durability comes from replication
# (replication factor 3, min.insync.replicas=2), see README "Deploying".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
port=${KAFKA_PORT:-19092}
controller_port=${KAFKA_CONTROLLER_PORT:-$((port + 1))}
state=${KAFKA_STATE_DIR:-$repo/.local/kafka-$port}
lib=${KAFKA_LIB_DIR:-$repo/.local/kafka-lib}
bootstrap=127.0.0.1:$port

log() { echo "[kafka] $*" >&2; }

fetch() {
  local what=$1 pom=$2 dir=$3
  if [ -f "$dir/.complete" ]; then return 0; fi
  log "fetching $what jars from Maven Central into $dir"
  mkdir -p "$dir"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$dir" >&2
  touch "$dir/.complete"
}

running_pid() {
  [ -f "$state/kafka.pid" ] || return 1
  local pid
  pid=$(cat "$state/kafka.pid")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

answers() { kcat -b "$bootstrap" -L -m 3 >/dev/null 2>&1; }

start() {
  fetch broker "$here/pom-broker.xml" "$lib/broker"
  if pid=$(running_pid); then
    log "already running (pid $pid) on $bootstrap"
    return 0
  fi
  mkdir -p "$state/data"
  cat > "$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$state/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.ms=-1
PROPS
  local cp="$lib/broker/*"
  local java_opts=(-Xms512m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$here/log4j.properties" "-Dkafka.logs.dir=$state")
  if [ ! -f "$state/data/meta.properties" ]; then
    local uuid
    uuid=$(java -cp "$cp" "${java_opts[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)
    log "formatting $state/data (cluster id $uuid)"
    java -cp "$cp" "${java_opts[@]}" kafka.tools.StorageTool format -t "$uuid" \
      -c "$state/server.properties" >"$state/format.log" 2>&1 \
      || { cat "$state/format.log" >&2; exit 1; }
  fi
  log "starting broker on $bootstrap (logs: $state/server.log)"
  nohup java -cp "$cp" "${java_opts[@]}" kafka.Kafka "$state/server.properties" \
    >"$state/stdout.log" 2>&1 </dev/null &
  echo $! > "$state/kafka.pid"
  local waited=0
  until answers; do
    if ! running_pid >/dev/null; then
      log "broker exited during start-up; last lines of $state/stdout.log:"
      tail -n 30 "$state/stdout.log" >&2
      exit 1
    fi
    if [ $waited -ge 90 ]; then log "broker did not answer within 90 s"; exit 1; fi
    sleep 1; waited=$((waited + 1))
  done
  log "broker answers on $bootstrap after ${waited}s"
}

stop() {
  local pid
  if ! pid=$(running_pid); then log "not running"; rm -f "$state/kafka.pid"; return 0; fi
  log "stopping broker (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$state/kafka.pid"; log "stopped"; return 0; }
    sleep 1
  done
  log "broker did not stop in 60 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$state/kafka.pid"
}


case "${1:-}" in
  fetch) fetch broker "$here/pom-broker.xml" "$lib/broker" ;;
  fetch-tools) fetch tools "$here/pom-tools.xml" "$lib/tools" ;;
  start) start ;;
  stop) stop ;;
  status)
    if pid=$(running_pid); then echo "running pid $pid on $bootstrap"; else echo "stopped"; exit 1; fi ;;
  bootstrap) echo "$bootstrap" ;;
  -h|--help|help|"") sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
  *) echo "unknown command: $1 (try --help)" >&2; exit 2 ;;
esac
