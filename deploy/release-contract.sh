#!/usr/bin/env bash
# Records the contract being released as the baseline that `buf breaking` compares against
# (proto/baseline/collections-v1.binpb, a buf image of proto/ with source info). Run it when a
# release is cut, after the release's proto changes are merged, and commit the new baseline
# with the release. From then on CI (ctest -L contract) fails any change to proto/ that is
# not wire- and JSON-compatible with what was released.
#
#
# It also publishes the contract's artefacts for client teams into dist/contract/ (or DIR):
#   collections.desc                       descriptor set: every .proto, imports, comments
#   collections-proto-<version>.tar.gz     proto/collections/v1/*.proto (and buf.yaml)
#   collections_client-<version>-py3-none-any.whl, collections-client-<version>.tar.gz
#                                          the Python package (clients/python)
#   SHA256SUMS
# Attach them to the release.
#
#   deploy/release-contract.sh                  write the baseline and the artefacts
#   deploy/release-contract.sh --check          only verify that proto/ is compatible with it
#   deploy/release-contract.sh --artefacts DIR  only build the artefacts into DIR (no baseline)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Builds the artefacts into $1 from the current proto/ and clients/python.
publish_artefacts() {
  local out scratch version
  out=$(mkdir -p "$1" && cd "$1" && pwd)
  scratch=$(mktemp -d)
  "$repo/clients/python/build.sh" "$scratch/python" >"$scratch/build.log" 2>&1 ||
    { cat "$scratch/build.log" >&2; rm -rf "$scratch"; return 1; }
  version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/clients/python/pyproject.toml")
  rm -f "$out"/collections.desc "$out"/collections-proto-*.tar.gz "$out"/collections_client-*.whl \
    "$out"/collections-client-*.tar.gz "$out"/SHA256SUMS
  cp "$scratch/python/collections.desc" "$out/"
  cp "$scratch"/python/dist/* "$out/"
  tar -C "$repo/proto" -czf "$out/collections-proto-$version.tar.gz" buf.yaml collections
  rm -rf "$scratch"
  (cd "$out" && sha256sum -- * > SHA256SUMS)
  echo "release artefacts in $out:" && ls -1 "$out"
}
if [ "${1:-}" = "--artefacts" ]; then
  publish_artefacts "${2:?usage: release-contract.sh --artefacts DIR}"
  exit 0
fi
buf="$repo/.local/node/node_modules/.bin/buf"
baseline="$repo/proto/baseline/collections-v1.binpb"
if [ ! -x "$buf" ]; then
  echo "buf is not installed in .local/node: run deploy/install-deps.sh" >&2
  exit 1
fi
cd "$repo/proto"
"$buf" lint
if [ -f "$baseline" ]; then
  # A release may only add to the previous one.
  "$buf" breaking . --against "$baseline"
fi
if [ "${1:-}" = "--check" ]; then
  echo "proto/ is lint-clean and compatible with $baseline"
  exit 0
fi
mkdir -p "$(dirname "$baseline")"
"$buf" build -o "$baseline"
echo "wrote $baseline ($(stat -c %s "$baseline") bytes): commit it with the release"
publish_artefacts "$repo/dist/contract"
