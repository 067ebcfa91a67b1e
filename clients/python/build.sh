#!/usr/bin/env bash
# Builds the Python client package from proto/: generates the messages and gRPC stubs with
# protoc and grpc_python_plugin (the Debian packages the C++ build uses, so every language's
# code comes from the same protoc), moves them from collections/v1/ to collections_client/v1/
# and rewrites their imports to match (the proto package `collections` must not shadow
# Python's standard library module), adds the descriptor set and the .proto files, then builds
# a wheel and an sdist.
#
#   clients/python/build.sh [OUT]   OUT defaults to build/clients/python; writes
#                                   OUT/dist/collections_client-<version>-py3-none-any.whl,
#                                   OUT/dist/collections-client-<version>.tar.gz and
#                                   OUT/collections.desc
#
# Environment: PYTHON [.local/venv/bin/python] (needs setuptools and wheel; deploy/install-deps.sh
# installs them there).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$(mkdir -p "${1:-$repo/build/clients/python}" && cd "${1:-$repo/build/clients/python}" && pwd)
python=${PYTHON:-$repo/.local/venv/bin/python}
plugin=$(command -v grpc_python_plugin || true)
[ -n "$plugin" ] || { echo "grpc_python_plugin not found: run deploy/install-deps.sh" >&2; exit 1; }

stage="$out/src"
gen="$out/gen"
rm -rf "$stage" "$gen" "$out/dist"
mkdir -p "$stage/collections_client/v1" "$gen" "$out/dist"
cp "$here/pyproject.toml" "$here/README.md" "$stage/"
cp "$here"/collections_client/*.py "$here/collections_client/py.typed" "$stage/collections_client/"

cd "$repo/proto"
contract=(collections/v1/*.proto)
protoc -I . --python_out="$gen" --grpc_python_out="$gen" \
  --plugin=protoc-gen-grpc_python="$plugin" "${contract[@]}"
# The descriptor set has every file the contract imports, so a consumer needs nothing else.
protoc -I . --include_imports --include_source_info \
  --descriptor_set_out="$out/collections.desc" "${contract[@]}"
cp "$out/collections.desc" "$stage/collections_client/collections.desc"
mkdir -p "$stage/collections_client/proto/collections/v1"
cp "${contract[@]}" "$stage/collections_client/proto/collections/v1/"

for f in "$gen"/collections/v1/*.py; do
  # `from collections.v1 import x_pb2` is the only form protoc 3.21 and its gRPC plugin emit
  # for an import inside the contract; anything else naming the package would be missed.
  # The module name protoc passes to the builder becomes each class's __module__ (pickle, repr).
  sed -e 's/^from collections\.v1 import /from collections_client.v1 import /' \
    -e "s/BuildTopDescriptorsAndMessages(DESCRIPTOR, 'collections\.v1\./BuildTopDescriptorsAndMessages(DESCRIPTOR, 'collections_client.v1./" \
    "$f" > "$stage/collections_client/v1/$(basename "$f")"
done
if grep -nE "^(import|from) collections(\.| )|, 'collections\.v1\." "$stage"/collections_client/v1/*.py; then
  echo "generated code still imports the proto package as 'collections'" >&2
  exit 1
fi
cat > "$stage/collections_client/v1/__init__.py" <<'PY'
"""Generated from proto/collections/v1 (protoc, grpc_python_plugin): do not edit."""
PY

cd "$stage"
"$python" - "$out/dist" <<'PY'
import sys
from setuptools import build_meta
dist = sys.argv[1]
print(f"{dist}/{build_meta.build_wheel(dist)}")
print(f"{dist}/{build_meta.build_sdist(dist)}")
PY
