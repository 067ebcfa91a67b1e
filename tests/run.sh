#!/usr/bin/env bash
# Set-up command 2: installs what is missing, builds everything, starts a throw-away Kafka
# broker for the tests (port 29092, its own data dir), runs the whole suite with ctest and
# stops the broker. Ends with ctest's summary. Safe to re-run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

deploy/install-deps.sh
echo "[tests] building (build/)" >&2
# ccache (installed by install-deps.sh) makes a rebuild of an unchanged file free.
launcher=()
command -v ccache >/dev/null 2>&1 && \
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
cmake --build build -j "$(nproc)"

export KAFKA_PORT=29092
export KAFKA_STATE_DIR=$repo/.local/kafka-test
deploy/kafka/kafka.sh stop >/dev/null 2>&1 || true
rm -rf "$KAFKA_STATE_DIR"
trap 'deploy/kafka/kafka.sh stop' EXIT
deploy/kafka/kafka.sh start
export COLLECTIONS_TEST_BOOTSTRAP=127.0.0.1:$KAFKA_PORT

ctest --test-dir build --output-on-failure "$@"
