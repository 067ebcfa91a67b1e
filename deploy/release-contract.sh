#!/usr/bin/env bash
# Records the contract being released as the baseline that `buf breaking` compares against
# (proto/baseline/collections-v1.binpb, a buf image of proto/ with source info). Run it when a
# release is cut, after the release's proto changes are merged, and commit the new baseline
# with the release. From then on CI (ctest -L contract) fails any change to proto/ that is
# not wire- and JSON-compatible with what was released.
#
#   deploy/release-contract.sh           write the baseline from the current proto/
#   deploy/release-contract.sh --check   only verify that proto/ is compatible with it
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
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
