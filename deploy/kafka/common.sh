# Sourced by deploy/kafka/kafka.sh (one broker) and deploy/kafka/cluster.sh (three brokers):
# the jar cache, the JVM's settings, formatting a data directory, and starting and stopping one
# broker process whose pid file lives in its state directory. Not a command of its own.
#
# Expects: $here (deploy/kafka), $lib (the jar cache, KAFKA_LIB_DIR), and log() for messages.

# Downloads a set of jars from Maven Central once (the .complete stamp marks a full download).
kafka_fetch() {
  local what=$1 pom=$2 dir=$3
  if [ -f "$dir/.complete" ]; then return 0; fi
  log "fetching $what jars from Maven Central into $dir"
  mkdir -p "$dir"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$dir" >&2
  touch "$dir/.complete"
}

# The pid of the broker whose state directory is $1, if it runs (a stale pid file is not).
kafka_running_pid() {
  local state=$1 pid
  [ -f "$state/kafka.pid" ] || return 1
  pid=$(cat "$state/kafka.pid")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# JVM options of a broker logging into $1; the heap from KAFKA_HEAP_OPTS (default 512 MiB).
kafka_java_opts() {
  local state=$1
  # shellcheck disable=SC2206  # KAFKA_HEAP_OPTS is a list of options
  kafka_java_opts_out=(${KAFKA_HEAP_OPTS:--Xms512m -Xmx512m} -XX:+UseG1GC
    -Djava.awt.headless=true "-Dlog4j.configuration=file:$here/log4j.properties"
    "-Dkafka.logs.dir=$state")
}

# A new cluster id (StorageTool logs into the state directory $1).
kafka_random_uuid() {
  kafka_java_opts "$1"
  java -cp "$lib/broker/*" "${kafka_java_opts_out[@]}" kafka.tools.StorageTool random-uuid \
    2>/dev/null | tail -n1
}

# Formats the KRaft log directory of the broker in $1 (configured by $1/server.properties)
# with cluster id $2 unless it is formatted already; further arguments go to StorageTool.
kafka_format() {
  local state=$1 cluster_id=$2
  shift 2
  [ -f "$state/data/meta.properties" ] && return 0
  log "formatting $state/data (cluster id $cluster_id)"
  mkdir -p "$state/data"
  kafka_java_opts "$state"
  java -cp "$lib/broker/*" "${kafka_java_opts_out[@]}" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$state/server.properties" "$@" >"$state/format.log" 2>&1 \
    || { cat "$state/format.log" >&2; return 1; }
}

# Starts the broker of $1/server.properties in the background; its pid goes to $1/kafka.pid.
kafka_launch() {
  local state=$1
  kafka_java_opts "$state"
  nohup java -cp "$lib/broker/*" "${kafka_java_opts_out[@]}" kafka.Kafka "$state/server.properties" \
    >"$state/stdout.log" 2>&1 </dev/null &
  echo $! > "$state/kafka.pid"
}

# Stops the broker in $1 cleanly: SIGTERM, then up to $2 seconds (default 60) for its
# controlled shutdown before SIGKILL.
kafka_stop() {
  local state=$1 patience=${2:-60} pid
  if ! pid=$(kafka_running_pid "$state"); then rm -f "$state/kafka.pid"; return 0; fi
  kill -TERM "$pid"
  for _ in $(seq 1 "$patience"); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$state/kafka.pid"; return 0; }
    sleep 1
  done
  log "broker pid $pid did not stop in $patience s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$state/kafka.pid"
}
