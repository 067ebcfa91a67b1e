#!/usr/bin/env bash
# ctest python_client_examples: runs every program in examples/python against a real
# collections-server started here with mutual TLS (a fresh local CA from deploy/certs.sh, the
# shipped compliance and access policies) on the test broker, with the Python client package
# built from proto/ by clients/python/build.sh. Fails if any example exits non-zero.
#
#   tests/clients/python_examples_test.sh SERVER_BINARY BUILD_DIR
#   (broker: COLLECTIONS_TEST_BOOTSTRAP [127.0.0.1:29092])
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
server=${1:?collections-server binary}
build=${2:?build directory}
bootstrap=${COLLECTIONS_TEST_BOOTSTRAP:-127.0.0.1:29092}
python=${PYTHON:-$repo/.local/venv/bin/python}
work=$(mktemp -d /tmp/collections-examples-test.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null; then wait "$server_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

out="$build/clients/python-examples"
mkdir -p "$out"
"$repo/clients/python/build.sh" "$out" >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
"$python" -m pip install --quiet --disable-pip-version-check --no-deps --no-index \
  --target "$work/site" "$out"/dist/collections_client-*.whl

COLLECTIONS_KEYS_DIR=$work/keys "$repo/deploy/certs.sh" "$work/certs" >/dev/null 2>&1
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stamp=$(date +%s%N)
"$server" --listen "127.0.0.1:$port" --bootstrap "$bootstrap" \
  --topic "collections.examples-test.$stamp" --deployment-id "examples-$stamp" \
  --db "$work/projection" --policy "$repo/deploy/policy/federal-2025.textproto" \
  --access-policy "$repo/deploy/policy/access-2025.textproto" \
  --tls-ca "$work/certs/ca.pem" --tls-cert "$work/certs/server.pem" --tls-key "$work/certs/server.key" \
  --signing-key "$work/keys/writer-signing.key" --metrics-listen "" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 240); do
  grep -q "listening on" "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "FAIL: the service did not start" >&2; exit 1; }
  sleep 0.5
done
grep -q "listening on" "$work/server.log" || { cat "$work/server.log" >&2; echo "FAIL: not ready in 120 s" >&2; exit 1; }

export COLLECTIONS_TARGET=127.0.0.1:$port COLLECTIONS_CERTS=$work/certs
export PYTHONPATH="$work/site"
cd "$work"  # not the repository: the examples must work from the installed package alone
failed=0
for example in "$repo"/examples/python/*.py; do
  [ "$(basename "$example")" = example_common.py ] && continue
  echo "== $(basename "$example")"
  if ! "$python" "$example"; then
    echo "FAIL: $(basename "$example") exited non-zero" >&2
    failed=1
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "--- service log (last 40 lines)" >&2
  tail -n 40 "$work/server.log" >&2
fi
exit "$failed"
