#!/usr/bin/env bash
# Proves the breaking-change check has teeth: on a copy of proto/, a change that would break
# consumers (deleting a field of EventEnvelope, renumbering a payload) must make
# `buf breaking` against the released baseline fail with a breaking-change finding, while the
# unmodified copy passes. Fails if the check is toothless or misconfigured.
#
#   breaking_check_bites.sh BUF REPO_ROOT
set -euo pipefail
buf=$1
repo=$2
baseline="$repo/proto/baseline/collections-v1.binpb"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fresh_copy() {
  rm -rf "$work/proto"
  cp -r "$repo/proto" "$work/proto"
}

# The unmodified copy must pass, or a failure below would prove nothing.
fresh_copy
"$buf" breaking "$work/proto" --against "$baseline" >/dev/null

# expect_breaking NAME SED_SCRIPT PATTERN: apply the edit to events.proto and require
# buf breaking to fail (exit 100: findings) with a finding matching PATTERN.
expect_breaking() {
  local name=$1 edit=$2 pattern=$3 events rc out
  fresh_copy
  events="$work/proto/collections/v1/events.proto"
  sed -i "$edit" "$events"
  if cmp -s "$events" "$repo/proto/collections/v1/events.proto"; then
    echo "FAIL $name: the edit changed nothing; update this test to the current events.proto" >&2
    exit 1
  fi
  set +e
  out=$("$buf" breaking "$work/proto" --against "$baseline" 2>&1)
  rc=$?
  set -e
  if [ "$rc" -ne 100 ] || ! grep -qE "$pattern" <<<"$out"; then
    echo "FAIL $name: buf breaking exited $rc and did not report it:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "ok   $name: $(grep -E "$pattern" <<<"$out" | head -1 | sed 's/^.*events.proto:[0-9:]*//')"
}

expect_breaking "delete EventEnvelope.correlation_id" \
  '/^  string correlation_id = 6;/d' 'field "6" with name "correlation_id"'
expect_breaking "renumber payload case_opened 20 -> 120" \
  's/^\(    CaseOpened case_opened = \)20;/\1120;/' 'case_opened'
expect_breaking "change the type of EventEnvelope.sequence" \
  's/^  int64 sequence = 3;/  string sequence = 3;/' 'sequence'
expect_breaking "rename a payload field (breaks JSON consumers)" \
  's/^\(    PaymentPosted \)payment_posted = 21;/\1payment_received = 21;/' 'payment_posted|payment_received'
echo "buf breaking rejects every breaking edit"
