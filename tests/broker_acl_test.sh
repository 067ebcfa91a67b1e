#!/usr/bin/env bash
# Only the service's principal may write the event topic: starts a broker secured as
# deploy/up.sh runs it (SASL/SCRAM listeners, StandardAuthorizer, ACLs from
# deploy/kafka/kafka.sh) on its own port and state directory, then checks what each principal
# can do, and that collections-server works against it with --kafka-config.
#
#   tests/broker_acl_test.sh SERVER_BINARY    (port: COLLECTIONS_TEST_SECURE_KAFKA_PORT [29550])
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
server=${1:?collections-server binary}
port=${COLLECTIONS_TEST_SECURE_KAFKA_PORT:-29550}
work=$(mktemp -d /tmp/collections-acl-test.XXXXXX)
topic=collections.acl-test.$(date +%s)
export KAFKA_SECURITY=scram KAFKA_PORT=$port KAFKA_STATE_DIR=$work/kafka KAFKA_TOPIC=$topic
export KAFKA_SERVICE_PREFIX=collections-acl
export KAFKA_LIB_DIR=${KAFKA_LIB_DIR:-$repo/.local/kafka-lib}
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  "$repo/deploy/kafka/kafka.sh" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$repo/deploy/kafka/kafka.sh" start
clients=$work/kafka/clients
b=127.0.0.1:$port

# The service's principal starts the service: it creates the topic, fences, writes, reads.
COLLECTIONS_KEYS_DIR=$work/keys "$repo/deploy/certs.sh" "$work/certs" >/dev/null 2>&1
"$server" --listen 127.0.0.1:0 --plaintext --bootstrap "$b" --topic "$topic" --partitions 2 \
  --deployment-id collections-acl --db "$work/projection" \
  --access-policy "$repo/deploy/policy/access-2025.textproto" \
  --signing-key "$work/keys/writer-signing.key" \
  --kafka-config "$clients/collections-service.properties" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 240); do
  grep -q "listening on" "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "the service did not start against the secured broker"; }
  sleep 0.5
done
grep -q "listening on" "$work/server.log" || { cat "$work/server.log" >&2; fail "the service was not ready in 120 s"; }
echo "ok: collections-server (User:collections-service) serves against the secured broker"

# The service principal may write the topic.
echo "genuine" | kcat -F "$clients/collections-service.properties" -b "$b" -P -t "$topic" -p 0 2>"$work/svc.err" \
  || { cat "$work/svc.err" >&2; fail "the service principal could not write"; }
echo "ok: User:collections-service writes $topic"

# Anyone else is refused by the broker: an authenticated intruder and the reader.
for user in collections-intruder collections-reader; do
  if echo "forged" | kcat -F "$clients/$user.properties" -b "$b" -P -t "$topic" -p 0 2>"$work/$user.err"; then
    fail "User:$user could write $topic"
  fi
  grep -q "authorization failed" "$work/$user.err" || { cat "$work/$user.err" >&2; fail "User:$user: unexpected error"; }
  echo "ok: User:$user cannot write $topic ($(grep -o 'Topic authorization failed' "$work/$user.err" | head -1))"
done
# Without credentials the broker does not even talk.
if echo "forged" | timeout 20 kcat -b "$b" -P -t "$topic" -p 0 -m 5 2>/dev/null; then
  fail "an unauthenticated client could write"
fi
echo "ok: an unauthenticated client cannot write"

# The reader reads (in its own consumer groups), and the forged records are not there.
kcat -F "$clients/collections-reader.properties" -b "$b" -C -t "$topic" -p 0 -e -q -o beginning \
  >"$work/read.txt" 2>"$work/read.err" || { cat "$work/read.err" >&2; fail "the reader could not read"; }
grep -q genuine "$work/read.txt" || fail "the reader did not see the service's record"
grep -q forged "$work/read.txt" && fail "a forged record is on the topic"
echo "ok: User:collections-reader reads $topic; no forged record on it"
echo "PASS"
