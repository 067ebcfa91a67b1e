# Shared by deploy/up.sh (one process) and deploy/cluster.sh (several processes of one
# deployment): building, the local certificates and signing key, the single-node secured
# broker, and the flags every local collections-server runs with. Sourced, not run.
#
# The caller sets: repo (the checkout), build (build directory), state (absolute state
# directory: certs/, keys/, bin/, broker data).

# Installs what is missing, builds the service, collectionsctl, the descriptor set and the
# Python client package (installed into .local/venv as collections_client), and installs
# collectionsctl into $state/bin.
collections_build() {
  "$repo/deploy/install-deps.sh"
  echo "[up] building ($build/)" >&2
  # An existing build directory keeps its configuration (tests/readme runs this on CI's build).
  [ -f "$build/CMakeCache.txt" ] ||
    cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" --target collections-server collectionsctl collections_descriptor_set \
    collections_python_pb2 >&2
  # The compliance officer's tool, installed where the README's examples find it
  # (export PATH="$PWD/.local/bin:$PATH"); it finds .local/certs next to its own directory.
  mkdir -p "$state/bin"
  install -m 0755 "$build/services/ctl/collectionsctl" "$state/bin/collectionsctl"
  echo "[up] building the Python client package ($build/clients/python/dist)" >&2
  "$repo/clients/python/build.sh" "$build/clients/python" >"$build/clients-python-build.log" 2>&1 ||
    { cat "$build/clients-python-build.log" >&2; return 1; }
  "$repo/.local/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    --force-reinstall "$build"/clients/python/dist/collections_client-*.whl >&2
}

# The local CA, the server's and the example principals' certificates ($state/certs) and the
# writer's signing key ($state/keys), made once by deploy/certs.sh.
collections_pki() {
  COLLECTIONS_KEYS_DIR=$state/keys "$repo/deploy/certs.sh" "$state/certs"
}

# Starts (or finds running) the single-node broker with SASL/SCRAM and ACLs on KAFKA_PORT
# [19092] for topic $1, and sets kafka_config to the service principal's client settings.
collections_secured_broker() {
  export KAFKA_SECURITY=scram KAFKA_TOPIC="$1"
  if [ -n "${COLLECTIONS_STATE_DIR:-}" ]; then
    export KAFKA_STATE_DIR=${KAFKA_STATE_DIR:-$state/kafka-${KAFKA_PORT:-19092}-scram}
  fi
  "$repo/deploy/kafka/kafka.sh" start
  kafka_config=$("$repo/deploy/kafka/kafka.sh" client-properties collections-service)
}

# The flags every local collections-server runs with, into the array server_flags: the shipped
# compliance and access policies, mutual TLS with the local CA's certificates, the signing key.
collections_server_flags() {
  server_flags=(--policy "$repo/deploy/policy/federal-2025.textproto"
    --access-policy "$repo/deploy/policy/access-2025.textproto"
    --tls-ca "$state/certs/ca.pem" --tls-cert "$state/certs/server.pem"
    --tls-key "$state/certs/server.key" --signing-key "$state/keys/writer-signing.key")
}

# Waits until log file $1 says the service listens, while pid $2 lives, at most $3 seconds.
# On failure prints why (with the log's last lines) and returns 1.
collections_wait_listening() {
  local log=$1 pid=$2 seconds=$3 tag=${4:-up}
  local i
  for i in $(seq 1 $((seconds * 2))); do
    grep -q "listening on" "$log" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "[$tag] the service exited during start-up:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.5
  done
  grep -q "listening on" "$log" && return 0
  echo "[$tag] service not ready after $seconds s" >&2
  return 1
}
