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
#   KAFKA_STATE_DIR [<repo>/.local/kafka-$KAFKA_PORT, -scram when secured]  data, logs, pid file
#   KAFKA_LIB_DIR [<repo>/.local/kafka-lib]            jar cache
#   KAFKA_SECURITY [none]  none: one PLAINTEXT listener, no authorisation (tests).
#                          scram: SASL_PLAINTEXT listeners with SCRAM-SHA-256 users and
#                          Kafka's StandardAuthorizer; nothing is allowed without an ACL.
#     Users (passwords generated once into $KAFKA_STATE_DIR/secrets/<user>.password):
#       broker                super user (inter-broker and controller)
#       collections-service   the only writer of the event topic (KAFKA_TOPIC [collections.case-events.v1]);
#                             its transactional ids and consumer groups (KAFKA_SERVICE_PREFIX [collections])
#       collections-reader    reads the topic in any consumer group starting "reader"
#       collections-intruder  authenticates, has no ACL (tests: a producer that must be refused)
#     Client settings for each user: $KAFKA_STATE_DIR/clients/<user>.properties (librdkafka
#     keys, for collections-server --kafka-config, kcat -F) and <user>.java.properties.
#
# Every sub-command is safe to repeat. Durability note: on one broker acks=all means the
# leader only and Kafka fsyncs lazily; production durability comes from replication
# (replication factor 3, min.insync.replicas=2), see README "Deploying".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
port=${KAFKA_PORT:-19092}
controller_port=${KAFKA_CONTROLLER_PORT:-$((port + 1))}
security=${KAFKA_SECURITY:-none}
case "$security" in
  none) state=${KAFKA_STATE_DIR:-$repo/.local/kafka-$port} ;;
  scram) state=${KAFKA_STATE_DIR:-$repo/.local/kafka-$port-scram} ;;
  *) echo "KAFKA_SECURITY must be none or scram, not $security" >&2; exit 2 ;;
esac
topic=${KAFKA_TOPIC:-collections.case-events.v1}
service_prefix=${KAFKA_SERVICE_PREFIX:-collections}
lib=${KAFKA_LIB_DIR:-$repo/.local/kafka-lib}
bootstrap=127.0.0.1:$port

log() { echo "[kafka] $*" >&2; }

# shellcheck source=common.sh
. "$here/common.sh"

running_pid() { kafka_running_pid "$state"; }

answers() {
  if [ "$security" = scram ]; then
    kcat -F "$state/clients/broker.properties" -b "$bootstrap" -L -m 3 >/dev/null 2>&1
  else
    kcat -b "$bootstrap" -L -m 3 >/dev/null 2>&1
  fi
}

scram_users=(broker collections-service collections-reader collections-intruder)

password() { cat "$state/secrets/$1.password"; }

# Passwords and client settings for every SCRAM user, made once.
make_secrets() {
  mkdir -p "$state/secrets" "$state/clients"
  chmod 700 "$state/secrets"
  local user
  for user in "${scram_users[@]}"; do
    if [ ! -s "$state/secrets/$user.password" ]; then
      (umask 077; openssl rand -hex 24 > "$state/secrets/$user.password")
    fi
    (umask 077
     cat > "$state/clients/$user.properties" <<P
security.protocol=SASL_PLAINTEXT
sasl.mechanisms=SCRAM-SHA-256
sasl.username=$user
sasl.password=$(password "$user")
P
     cat > "$state/clients/$user.java.properties" <<P
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-256
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$user" password="$(password "$user")";
P
    )
  done
}

secure_properties() {
  local broker_password
  broker_password=$(password broker)
  cat <<PROPS
listeners=SASL_PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$broker_password";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="$broker_password" user_broker="$broker_password";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:broker
allow.everyone.if.no.acl.found=false
PROPS
}

acl() {
  java -cp "$lib/broker/*" "-Dlog4j.configuration=file:$here/log4j.properties" \
    kafka.admin.AclCommand --bootstrap-server "$bootstrap" \
    --command-config "$state/clients/broker.java.properties" "$@" >>"$state/acl.log" 2>&1 \
    || { log "kafka.admin.AclCommand $* failed:"; tail -n 20 "$state/acl.log" >&2; exit 1; }
}

# The ACLs: only collections-service writes the topic; collections-reader only reads.
apply_acls() {
  [ -f "$state/acls.applied" ] && [ "$(cat "$state/acls.applied")" = "$topic $service_prefix" ] && return 0
  log "applying ACLs (topic $topic: writer User:collections-service, reader User:collections-reader)"
  local svc=User:collections-service reader=User:collections-reader
  acl --add --allow-principal "$svc" --operation All --topic "$topic"
  acl --add --allow-principal "$svc" --operation All --transactional-id "$service_prefix" \
    --resource-pattern-type prefixed
  acl --add --allow-principal "$svc" --operation All --group "$service_prefix" \
    --resource-pattern-type prefixed
  acl --add --allow-principal "$svc" --operation IdempotentWrite --operation Describe --cluster
  acl --add --allow-principal "$reader" --operation Read --operation Describe --topic "$topic"
  acl --add --allow-principal "$reader" --operation Read --group reader \
    --resource-pattern-type prefixed
  echo "$topic $service_prefix" > "$state/acls.applied"
}

start() {
  kafka_fetch broker "$here/pom-broker.xml" "$lib/broker"
  if pid=$(running_pid); then
    log "already running (pid $pid) on $bootstrap"
    return 0
  fi
  mkdir -p "$state/data"
  local listener_properties
  if [ "$security" = scram ]; then
    make_secrets
    listener_properties=$(secure_properties)
  else
    listener_properties="listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  fi
  (umask 077; cat > "$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
$listener_properties
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
  )
  if [ ! -f "$state/data/meta.properties" ]; then
    local scram_args=()
    if [ "$security" = scram ]; then
      local user
      for user in "${scram_users[@]}"; do
        scram_args+=(--add-scram "SCRAM-SHA-256=[name=$user,password=$(password "$user")]")
      done
    fi
    kafka_format "$state" "$(kafka_random_uuid "$state")" "${scram_args[@]}" || exit 1
  fi
  log "starting broker on $bootstrap (logs: $state/server.log)"
  kafka_launch "$state"
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
  if [ "$security" = scram ]; then apply_acls; fi
}

stop() {
  local pid
  if ! pid=$(running_pid); then log "not running"; rm -f "$state/kafka.pid"; return 0; fi
  log "stopping broker (pid $pid)"
  kafka_stop "$state" 60
  log "stopped"
}

case "${1:-}" in
  fetch) kafka_fetch broker "$here/pom-broker.xml" "$lib/broker" ;;
  fetch-tools) kafka_fetch tools "$here/pom-tools.xml" "$lib/tools" ;;
  start) start ;;
  stop) stop ;;
  status)
    if pid=$(running_pid); then echo "running pid $pid on $bootstrap ($security)"; else echo "stopped"; exit 1; fi ;;
  client-properties) echo "$state/clients/${2:?user}.properties" ;;
  bootstrap) echo "$bootstrap" ;;
  -h|--help|help|"") sed -n '2,33p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
  *) echo "unknown command: $1 (try --help)" >&2; exit 2 ;;
esac
