#!/usr/bin/env bash
# A local three-broker Apache Kafka 3.9 cluster (KRaft, loopback) with production durability
# settings, to run the service against replicated topics and to kill brokers under load.
#
#   deploy/kafka/cluster.sh start        format new data dirs, start all three, wait until every
#                                        broker answers and sees the other two; prints the
#                                        bootstrap list (127.0.0.1:a,127.0.0.1:b,127.0.0.1:c)
#   deploy/kafka/cluster.sh stop         stop all three (SIGTERM, then SIGKILL after 30 s)
#   deploy/kafka/cluster.sh status       one line per broker; exit 0 only when all three run
#   deploy/kafka/cluster.sh kill N       kill -9 broker N (1..3): a crash, no controlled shutdown
#   deploy/kafka/cluster.sh restart N    start broker N again (if stopped) and wait until it answers;
#                                        another node must run (a lone node has no quorum)
#   deploy/kafka/cluster.sh bootstrap    print the bootstrap list
#
# Each node is broker and controller at once; the three controllers form the KRaft quorum
# (two of three are a majority, so the cluster keeps working with any one node down).
#
# Environment (defaults in brackets):
#   KAFKA_CLUSTER_BASE_PORT [19192]  node N listens for clients on BASE + 2(N-1) and as a
#                                     controller on BASE + 2(N-1) + 1 (19192..19197)
#   KAFKA_CLUSTER_DIR [<repo>/.local/kafka-cluster-<base>]  node<N>/ per node: settings, data,
#                                     logs (server.log, stdout.log), pid file
#   KAFKA_LIB_DIR [<repo>/.local/kafka-lib]  jar cache (deploy/kafka/kafka.sh fetch fills it)
#   KAFKA_HEAP_OPTS [-Xms128m -Xmx512m]      heap of each broker
#
# Durability defaults of every topic: replication factor 3, min.insync.replicas=2, no unclean
# leader election; the consumer offsets and transaction logs are replicated the same way.
# Plaintext and no authorisation: for development and tests on loopback only.
# Every sub-command is safe to repeat.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
base=${KAFKA_CLUSTER_BASE_PORT:-19192}
dir=${KAFKA_CLUSTER_DIR:-$repo/.local/kafka-cluster-$base}
lib=${KAFKA_LIB_DIR:-$repo/.local/kafka-lib}
export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
nodes=(1 2 3)

log() { echo "[kafka-cluster] $*" >&2; }

# shellcheck source=common.sh
. "$here/common.sh"

broker_port() { echo $((base + 2 * ($1 - 1))); }
controller_port() { echo $((base + 2 * ($1 - 1) + 1)); }
node_dir() { echo "$dir/node$1"; }

bootstrap() {
  local n list=()
  for n in "${nodes[@]}"; do list+=("127.0.0.1:$(broker_port "$n")"); done
  (IFS=,; echo "${list[*]}")
}

voters() {
  local n list=()
  for n in "${nodes[@]}"; do list+=("$n@127.0.0.1:$(controller_port "$n")"); done
  (IFS=,; echo "${list[*]}")
}

# Broker N answers a metadata request and knows all three brokers. A KRaft broker opens its
# client listener only once it has caught up with the metadata log and been unfenced, so an
# answer means it serves.
answers() {
  local brokers
  brokers=$(kcat -b "127.0.0.1:$(broker_port "$1")" -L -m 3 2>/dev/null | sed -n 's/^ *\([0-9]*\) brokers:$/\1/p')
  [ "${brokers:-0}" -ge 3 ]
}

write_properties() {
  local n=$1 state
  state=$(node_dir "$n")
  mkdir -p "$state/data"
  cat > "$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(voters)
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$state/data
# Durability: three copies, a write acknowledged by acks=all is on at least two of them, and
# a replica that missed acknowledged records never becomes leader.
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=4
num.partitions=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.ms=-1
PROPS
}

# Waits until broker N answers; fails early if its process is gone.
wait_for() {
  local n=$1 limit=$2 waited=0 state
  state=$(node_dir "$n")
  until answers "$n"; do
    if ! kafka_running_pid "$state" >/dev/null; then
      log "broker $n exited during start-up; last lines of $state/stdout.log:"
      tail -n 30 "$state/stdout.log" >&2
      return 1
    fi
    if [ "$waited" -ge "$limit" ]; then
      log "broker $n did not answer within $limit s (log: $state/server.log)"
      return 1
    fi
    sleep 1; waited=$((waited + 1))
  done
}

# Formats (once) and launches node N unless it runs.
launch() {
  local n=$1 state pid
  state=$(node_dir "$n")
  if pid=$(kafka_running_pid "$state"); then
    log "broker $n already running (pid $pid) on 127.0.0.1:$(broker_port "$n")"
    return 0
  fi
  write_properties "$n"
  kafka_format "$state" "$(cat "$dir/cluster.id")"
  log "starting broker $n on 127.0.0.1:$(broker_port "$n") (logs: $state/server.log)"
  kafka_launch "$state"
}

start() {
  kafka_fetch broker "$here/pom-broker.xml" "$lib/broker"
  mkdir -p "$dir"
  # One cluster id for the three data dirs, chosen when the first is formatted.
  [ -s "$dir/cluster.id" ] || kafka_random_uuid "$dir" > "$dir/cluster.id"
  local n started=$SECONDS
  # All three at once: none can finish starting before a majority of controllers is up (and
  # each format is a JVM start of its own).
  local launching=()
  for n in "${nodes[@]}"; do launch "$n" & launching+=($!); done
  for n in "${launching[@]}"; do wait "$n" || exit 1; done
  for n in "${nodes[@]}"; do wait_for "$n" 150 || exit 1; done
  log "all three brokers answer after $((SECONDS - started)) s"
  bootstrap
}

stop() {
  local n state pids=()
  for n in "${nodes[@]}"; do
    state=$(node_dir "$n")
    if pid=$(kafka_running_pid "$state"); then
      log "stopping broker $n (pid $pid)"
      pids+=("$n")
    fi
  done
  [ ${#pids[@]} -gt 0 ] || { log "not running"; return 0; }
  # In parallel: stopped one after the other, the last ones would wait for a controller
  # quorum that is already gone.
  for n in "${pids[@]}"; do kafka_stop "$(node_dir "$n")" 30 & done
  wait
  log "stopped"
}

status() {
  local n state pid all=0
  for n in "${nodes[@]}"; do
    state=$(node_dir "$n")
    if pid=$(kafka_running_pid "$state"); then
      echo "broker $n running pid $pid on 127.0.0.1:$(broker_port "$n") (controller $(controller_port "$n"))"
    else
      echo "broker $n stopped (127.0.0.1:$(broker_port "$n"))"
      all=1
    fi
  done
  return "$all"
}

check_node() {
  case "${1:-}" in
    1|2|3) ;;
    *) echo "broker number must be 1, 2 or 3, not '${1:-}' (try --help)" >&2; exit 2 ;;
  esac
}

kill_node() {
  local n=$1 state pid
  state=$(node_dir "$n")
  if ! pid=$(kafka_running_pid "$state"); then
    log "broker $n not running"
    return 0
  fi
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$state/kafka.pid"
  log "killed broker $n (pid $pid, SIGKILL)"
}

restart_node() {
  local n=$1 started=$SECONDS
  [ -s "$dir/cluster.id" ] || { log "no cluster in $dir: run start first"; exit 1; }
  launch "$n"
  wait_for "$n" 150 || exit 1
  log "broker $n answers after $((SECONDS - started)) s"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  kill) check_node "${2:-}"; kill_node "$2" ;;
  restart) check_node "${2:-}"; restart_node "$2" ;;
  bootstrap) bootstrap ;;
  -h|--help|help|"") awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" ;;
  *) echo "unknown command: $1 (try --help)" >&2; exit 2 ;;
esac
