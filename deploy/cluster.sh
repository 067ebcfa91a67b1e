#!/usr/bin/env bash
# Several collections-server processes of one deployment on this machine: each partition is
# written by one of them (Kafka's consumer group <deployment-id>-writers decides which), every
# one projects every partition and answers every query. What deploy/up.sh does for one
# process (build, local CA and certificates, signing key, mutual TLS, the shipped policies),
# for N processes s1..sN:
#
#   deploy/cluster.sh up [--processes N] [--detach] [--no-build]
#                        [--bootstrap HOSTS [--kafka-config FILE] | --kafka-cluster] [-- FLAGS]
#       start N processes [3] and wait until each is ready (GET /ready on its metrics port).
#       The broker: the single-node dev broker with SASL/SCRAM and ACLs (deploy/kafka/kafka.sh,
#       as deploy/up.sh runs it) unless --bootstrap names one (librdkafka settings for it in
#       --kafka-config) or --kafka-cluster starts the local three-broker cluster
#       (deploy/kafka/cluster.sh; topics get replication factor 3). FLAGS after -- go to every
#       collections-server (e.g. -- --ownership-session-timeout-ms 6000 --partitions 8).
#       Without --detach it stays in the foreground, printing every process's log; Ctrl-C
#       stops everything.
#   deploy/cluster.sh down              stop every process (SIGTERM), then the broker it started
#   deploy/cluster.sh status            one line per process: pid, ports, ready, partitions owned
#   deploy/cluster.sh kill N            kill -9 process sN (a crash: no clean shutdown)
#   deploy/cluster.sh stop N            stop sN cleanly (SIGTERM; waits until it has exited)
#   deploy/cluster.sh start N           start sN again (after kill or stop); waits until ready
#   deploy/cluster.sh restart N         stop sN, then start it
#   deploy/cluster.sh add               start one more process, s<N+1>; waits until ready
#   deploy/cluster.sh logs N            the path of sN's log
#
# Process sN listens for gRPC (mutual TLS) on COLLECTIONS_BASE_PORT+N-1 [50061: s1 50061, s2
# 50062 ...] and serves metrics and /ready on COLLECTIONS_METRICS_BASE_PORT+N-1 [base + 10].
# Its instance id is sN (stable across restarts: its transactional ids are
# <deployment-id>-writers-sN), its projection COLLECTIONS_STATE_DIR/cluster/sN/projection and
# its log .../sN/service.log; all of them share the writer store .../cluster/writer-store (a
# partition moving between processes restores from its checkpoint there).
#
# Environment: COLLECTIONS_STATE_DIR [.local] (certificates, keys, bin/ as deploy/up.sh makes
# them; the processes under cluster/), COLLECTIONS_TOPIC [collections.case-events.v1],
# COLLECTIONS_DEPLOYMENT_ID [collections], COLLECTIONS_BUILD_DIR [build], KAFKA_PORT [19092]
# (the dev broker), COLLECTIONS_READY_TIMEOUT [120] (seconds a start may take). `up` records
# the settings in cluster/cluster.env; the other sub-commands use them.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

# The comment block above, without its '#'s.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
log() { echo "[cluster] $*" >&2; }
die() { echo "[cluster] $*" >&2; exit 1; }

state=${COLLECTIONS_STATE_DIR:-$repo/.local}
mkdir -p "$state"
state=$(cd "$state" && pwd)
dir=$state/cluster
env_file=$dir/cluster.env
ready_timeout=${COLLECTIONS_READY_TIMEOUT:-120}
# shellcheck source=service-common.sh
. "$repo/deploy/service-common.sh"

# ---- the settings `up` records (cluster.env) ----
load_settings() {
  [ -f "$env_file" ] || die "no cluster in $dir: start one with deploy/cluster.sh up"
  # shellcheck disable=SC1090
  . "$env_file"
}

save_settings() {
  mkdir -p "$dir"
  {
    printf 'build=%q\n' "$build"
    printf 'topic=%q\n' "$topic"
    printf 'deployment=%q\n' "$deployment"
    printf 'bootstrap=%q\n' "$bootstrap"
    printf 'kafka_config=%q\n' "$kafka_config"
    printf 'broker=%q\n' "$broker"
    printf 'kafka_port=%q\n' "$kafka_port"
    printf 'base_port=%q\n' "$base_port"
    printf 'metrics_base_port=%q\n' "$metrics_base_port"
    printf 'extra_flags=('; printf '%q ' "${extra_flags[@]+"${extra_flags[@]}"}"; printf ')\n'
  } > "$env_file"
}

# ---- one process ----
grpc_port() { echo $((base_port + $1 - 1)); }
metrics_port() { echo $((metrics_base_port + $1 - 1)); }
pid_file() { echo "$dir/s$1/service.pid"; }
log_file() { echo "$dir/s$1/service.log"; }

# A process that has exited (or been killed) but not yet been reaped is a zombie: not running.
alive() {
  kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# sN's pid while it runs. A pid file outlives its process, and the pid may since be another
# program's: only a process with sN's projection directory is taken for sN.
running_pid() {
  local f
  f=$(pid_file "$1")
  [ -f "$f" ] || return 1
  local pid
  pid=$(cat "$f")
  alive "$pid" && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null |
    grep -qF -- "--db $dir/s$1/projection " && echo "$pid"
}

# The process numbers with a directory (started at least once), in order.
members() {
  local d
  for d in "$dir"/s*/; do
    [ -d "$d" ] || continue
    d=${d%/}
    echo "${d##*/s}"
  done | sort -n
}

is_ready() { curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$(metrics_port "$1")/ready"; }

# Waits until sN is ready, at most ready_timeout seconds; fails if it exits meanwhile.
wait_ready() {
  local n=$1 pid i
  pid=$(cat "$(pid_file "$n")")
  for i in $(seq 1 $((ready_timeout * 2))); do
    is_ready "$n" && return 0
    if ! alive "$pid"; then
      log "s$n exited during start-up; last lines of $(log_file "$n"):"
      tail -n 20 "$(log_file "$n")" >&2
      return 1
    fi
    sleep 0.5
  done
  log "s$n not ready after $ready_timeout s (log: $(log_file "$n"))"
  return 1
}

# Starts sN unless it runs; does not wait.
launch() {
  local n=$1 pid
  if pid=$(running_pid "$n"); then
    log "s$n already running (pid $pid)"
    return 0
  fi
  mkdir -p "$dir/s$n"
  local port
  port=$(grpc_port "$n")
  collections_server_flags
  local flags=(--listen "127.0.0.1:$port" --advertise-address "127.0.0.1:$port"
    --bootstrap "$bootstrap" --topic "$topic" --deployment-id "$deployment"
    --instance-id "s$n" --db "$dir/s$n/projection" --writer-store "$dir/writer-store"
    --metrics-listen "127.0.0.1:$(metrics_port "$n")" "${server_flags[@]}")
  [ -n "$kafka_config" ] && flags+=(--kafka-config "$kafka_config")
  [ "$broker" = cluster ] && flags+=(--replication-factor 3)
  echo "=== $(date -u +%FT%TZ) deploy/cluster.sh starts s$n" >> "$(log_file "$n")"
  nohup "$build/services/server/collections-server" "${flags[@]}" \
    "${extra_flags[@]+"${extra_flags[@]}"}" >>"$(log_file "$n")" 2>&1 </dev/null &
  echo $! > "$(pid_file "$n")"
  log "s$n started (pid $!): gRPC 127.0.0.1:$port, metrics 127.0.0.1:$(metrics_port "$n")"
}

start_one() {
  launch "$1"
  wait_ready "$1" || return 1
  log "s$1 ready"
}

# Stops sN with `signal`; with TERM waits until it has exited (KILL after 30 s).
stop_one() {
  local n=$1 signal=$2 pid
  if ! pid=$(running_pid "$n"); then
    log "s$n is not running"
    return 0
  fi
  kill "-$signal" "$pid"
  local i
  if [ "$signal" = KILL ]; then
    for i in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    log "s$n killed (kill -9 $pid)"
    return 0
  fi
  for i in $(seq 1 60); do
    alive "$pid" || { log "s$n stopped (pid $pid)"; return 0; }
    sleep 0.5
  done
  log "s$n did not stop in 30 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

owned_partitions() {
  curl -sf --max-time 2 "http://127.0.0.1:$(metrics_port "$1")/metrics" 2>/dev/null |
    sed -n 's/^collections_writer_state{partition="\([0-9]*\)",state="serving"} 1$/\1/p' |
    sort -n | paste -sd, -
}

status() {
  load_settings
  echo "deployment $deployment, topic $topic at $bootstrap ($broker broker)"
  local n pid ready
  for n in $(members); do
    if pid=$(running_pid "$n"); then
      ready=$(is_ready "$n" && echo ready || echo "not ready")
      printf 's%-3s pid %-8s gRPC 127.0.0.1:%s  metrics :%s  %-9s writes partitions: %s\n' \
        "$n" "$pid" "$(grpc_port "$n")" "$(metrics_port "$n")" "$ready" \
        "$(owned_partitions "$n" || true)"
    else
      printf 's%-3s stopped                  (log: %s)\n' "$n" "$(log_file "$n")"
    fi
  done
}

number() {
  [[ "${1:-}" =~ ^[1-9][0-9]*$ ]] || die "give the process number (1 for s1), not '${1:-}'"
}

up() {
  local processes=3 detach=false no_build=false
  bootstrap="" kafka_config="" broker=dev
  extra_flags=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --processes) processes=${2:?--processes N}; shift 2 ;;
      --detach) detach=true; shift ;;
      --no-build) no_build=true; shift ;;
      --bootstrap) bootstrap=${2:?--bootstrap HOSTS}; broker=external; shift 2 ;;
      --kafka-config) kafka_config=${2:?--kafka-config FILE}; shift 2 ;;
      --kafka-cluster) broker=cluster; shift ;;
      --) shift; extra_flags=("$@"); break ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown argument $1 (try --help)" ;;
    esac
  done
  [[ "$processes" =~ ^[1-9][0-9]*$ ]] || die "--processes must be a positive number"
  if [ "$broker" = cluster ] && [ ! -x "$repo/deploy/kafka/cluster.sh" ]; then
    die "--kafka-cluster needs deploy/kafka/cluster.sh, which this checkout does not have"
  fi
  local n
  for n in $(members); do
    running_pid "$n" >/dev/null &&
      die "s$n of a cluster runs already in $dir (deploy/cluster.sh status; deploy/cluster.sh down)"
  done
  if [ -f "$state/service.pid" ] && kill -0 "$(cat "$state/service.pid")" 2>/dev/null; then
    die "deploy/up.sh's service runs in $state (stop it with deploy/down.sh, or use another COLLECTIONS_STATE_DIR)"
  fi
  build=$(cd "$repo" && mkdir -p "${COLLECTIONS_BUILD_DIR:-build}" && cd "${COLLECTIONS_BUILD_DIR:-build}" && pwd)
  topic=${COLLECTIONS_TOPIC:-collections.case-events.v1}
  deployment=${COLLECTIONS_DEPLOYMENT_ID:-collections}
  kafka_port=${KAFKA_PORT:-19092}
  base_port=${COLLECTIONS_BASE_PORT:-50061}
  metrics_base_port=${COLLECTIONS_METRICS_BASE_PORT:-$((base_port + 10))}

  if $no_build; then
    [ -x "$build/services/server/collections-server" ] ||
      die "--no-build: $build/services/server/collections-server is not built"
  else
    collections_build
  fi
  collections_pki
  case "$broker" in
    dev)
      # The broker's ACLs let the service principal use the deployment's transactional ids
      # and consumer groups (names starting with the deployment id).
      export KAFKA_PORT=$kafka_port KAFKA_SERVICE_PREFIX=$deployment
      collections_secured_broker "$topic"
      bootstrap=127.0.0.1:$kafka_port ;;
    cluster)
      "$repo/deploy/kafka/cluster.sh" start >&2
      bootstrap=$("$repo/deploy/kafka/cluster.sh" bootstrap) ;;
  esac
  save_settings

  for n in $(seq 1 "$processes"); do launch "$n"; done
  for n in $(seq 1 "$processes"); do
    wait_ready "$n" || die "s$n did not start (deploy/cluster.sh down stops the others)"
    log "s$n ready"
  done
  cat <<MSG
$processes collections-server processes of deployment $deployment (instance ids s1..s$processes)
  topic:        $topic at $bootstrap
  gRPC:         127.0.0.1:$(grpc_port 1) .. 127.0.0.1:$(grpc_port "$processes") (mutual TLS; any of them takes any command)
  metrics:      http://127.0.0.1:$(metrics_port 1)/metrics .. :$(metrics_port "$processes")
  certificates: $state/certs    signing key: $state/keys/writer-signing.key
  state, logs:  $dir/s<N>/ (projection, service.log), shared writer store $dir/writer-store
  status:       deploy/cluster.sh status
  crash one:    deploy/cluster.sh kill 2; deploy/cluster.sh start 2
  stop:         deploy/cluster.sh down
MSG
  if ! $detach; then
    trap 'echo; "$0" down; exit 0' INT TERM
    echo "(foreground: Ctrl-C stops every process and the broker)"
    local logs=()
    for n in $(members); do logs+=("$(log_file "$n")"); done
    tail -n 0 -F "${logs[@]}" &
    wait
  fi
}

down() {
  if [ ! -f "$env_file" ]; then
    log "no cluster in $dir"
    return 0
  fi
  load_settings
  local n pids=()
  for n in $(members); do
    if running_pid "$n" >/dev/null; then
      stop_one "$n" TERM &
      pids+=($!)
    fi
  done
  for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" || true; done
  case "$broker" in
    dev)
      if [ -n "${COLLECTIONS_STATE_DIR:-}" ]; then
        export KAFKA_STATE_DIR=${KAFKA_STATE_DIR:-$state/kafka-$kafka_port-scram}
      fi
      KAFKA_PORT=$kafka_port KAFKA_SECURITY=scram "$repo/deploy/kafka/kafka.sh" stop ;;
    cluster) "$repo/deploy/kafka/cluster.sh" stop >&2 ;;
    external) ;;
  esac
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  up) up "$@" ;;
  down) down ;;
  status) status ;;
  kill) number "${1:-}"; load_settings; stop_one "$1" KILL ;;
  stop) number "${1:-}"; load_settings; stop_one "$1" TERM ;;
  start) number "${1:-}"; load_settings; start_one "$1" ;;
  restart) number "${1:-}"; load_settings; stop_one "$1" TERM; start_one "$1" ;;
  add)
    load_settings
    last=$(members | tail -n 1)
    start_one $(( ${last:-0} + 1 )) ;;
  logs) number "${1:-}"; load_settings; log_file "$1" ;;
  -h|--help|help) usage ;;
  "") usage; exit 2 ;;
  *) die "unknown command $command (try --help)" ;;
esac
