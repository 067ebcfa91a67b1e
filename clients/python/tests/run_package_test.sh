#!/usr/bin/env bash
# ctest python_client_package: builds the wheel (clients/python/build.sh), installs it into a
# scratch directory (not into the venv, so the test sees exactly what a user's pip install
# gets), checks its file list, and runs test_package.py against it.
#   clients/python/tests/run_package_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out="${1:?usage: run_package_test.sh BUILD_DIR}/clients/python-test"
python=${PYTHON:-$repo/.local/venv/bin/python}
mkdir -p "$out"
"$here/../build.sh" "$out" >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
wheel=$(ls "$out"/dist/collections_client-*.whl)
site="$out/site"
rm -rf "$site"
"$python" -m pip install --quiet --disable-pip-version-check --no-deps --no-index --target "$site" "$wheel"
# Only our package at the top level: a `collections/` directory would shadow the stdlib.
tops=$(cd "$site" && ls -d */ | grep -v '\.dist-info/$' | tr -d / | tr '\n' ' ')
[ "$tops" = "collections_client " ] || { echo "unexpected top-level entries: $tops" >&2; exit 1; }
for f in v1/case_service_pb2_grpc.py v1/events_pb2.py collections.desc \
  proto/collections/v1/events.proto py.typed errors.py; do
  [ -f "$site/collections_client/$f" ] || { echo "the wheel lacks collections_client/$f" >&2; exit 1; }
done
cd "$out"  # not clients/python: its collections_client/ has no generated code
PYTHONPATH="$site" "$python" "$here/test_package.py" -v
