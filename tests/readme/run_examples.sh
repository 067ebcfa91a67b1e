#!/usr/bin/env bash
# Runs the README's examples as written: every fenced ```sh block that follows a line
# `<!-- runnable -->` in README.md, in order, in one bash with `set -euo pipefail` (variables
# carry over from block to block), against a service that deploy/up.sh starts on test ports
# with its own state directory. Any non-zero exit fails the run and names the README line.
#
#   tests/readme/run_examples.sh [BUILD_DIR]     BUILD_DIR defaults to build
#
# The only rewriting: the README's addresses and paths (127.0.0.1:50051, 127.0.0.1:19092,
# .local/certs, .local/keys, .local/kafka-19092-scram, build/) become the test instance's.
# Environment: README_TEST_LISTEN [127.0.0.1:50480], README_TEST_KAFKA_PORT [29480]
# (and +1 for the broker's controller), README_TEST_METRICS_PORT [50481].
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "$repo" && mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
listen=${README_TEST_LISTEN:-127.0.0.1:50480}
kafka_port=${README_TEST_KAFKA_PORT:-29480}
work=$(mktemp -d /tmp/collections-readme-test.XXXXXX)
state=$work/state
# A broker of its own: whatever broker the caller's environment names (tests/run.sh exports
# the test broker's KAFKA_STATE_DIR) is left alone, and is never stopped by the cleanup.
unset KAFKA_STATE_DIR KAFKA_SECURITY KAFKA_TOPIC KAFKA_CONTROLLER_PORT
export COLLECTIONS_STATE_DIR=$state COLLECTIONS_LISTEN=$listen KAFKA_PORT=$kafka_port
export KAFKA_STATE_DIR=$state/kafka-$kafka_port-scram
export COLLECTIONS_BUILD_DIR=$build
# The service reads COLLECTIONS_<FLAG>: its metrics endpoint off the default port 9464, which a
# service of deploy/up.sh may hold.
export COLLECTIONS_METRICS_LISTEN=127.0.0.1:${README_TEST_METRICS_PORT:-50481}
cleanup() {
  "$repo/deploy/down.sh" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
export PATH="$PATH:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"

"$repo/deploy/up.sh" --detach >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; echo "FAIL: deploy/up.sh" >&2; exit 1; }

script=$work/readme_examples.sh
"${PYTHON:-$repo/.local/venv/bin/python}" - "$repo/README.md" "$script" "$listen" "$kafka_port" \
  "$state" "$build" <<'PY'
import re, shlex, sys
readme, out, listen, kafka_port, state, build = sys.argv[1:]
lines = open(readme, encoding="utf-8").read().split("\n")
blocks, i = [], 0
while i < len(lines):
    if lines[i].strip() == "<!-- runnable -->":
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j >= len(lines) or lines[j].strip() != "```sh":
            sys.exit(f"README.md:{i + 1}: <!-- runnable --> must be followed by a ```sh block")
        k = j + 1
        while k < len(lines) and lines[k].strip() != "```":
            k += 1
        blocks.append((j + 2, lines[j + 1:k]))
        i = k
    i += 1
if not blocks:
    sys.exit("README.md has no <!-- runnable --> block")
def localize(text):
    text = text.replace("127.0.0.1:50051", listen)
    text = text.replace(".local/kafka-19092-scram", f"{state}/kafka-{kafka_port}-scram")
    text = text.replace("127.0.0.1:19092", f"127.0.0.1:{kafka_port}")
    text = re.sub(r"(?<![\w/.-])\.local/(certs|keys)\b", lambda m: f"{state}/{m.group(1)}", text)
    return re.sub(r"(?<![\w/.-])build/", build + "/", text)
with open(out, "w") as f:
    f.write("set -euo pipefail\n")
    for line, body in blocks:
        f.write(f"echo {shlex.quote(f'== README.md:{line}')}\n")
        f.write(f"trap 'echo \"FAIL: the README block at line {line} exited non-zero\" >&2' ERR\n")
        f.write(localize("\n".join(body)) + "\n")
print(f"{len(blocks)} runnable README blocks", file=sys.stderr)
PY
# The blocks run where a user runs them, a checkout's root, but in a scratch copy of its shape
# so the files they write (acc-1.csv, recent.jsonl ...) stay out of the repository: the
# repository's folders are linked in, .local/ is the test instance's (its bin/ holds the
# collectionsctl up.sh installed, certs/ and keys/ its certificates and key) plus the venv.
run=$work/checkout
mkdir -p "$run/.local"
for d in deploy examples clients proto tests services; do ln -s "$repo/$d" "$run/$d"; done
ln -s "$repo/README.md" "$run/README.md"
for d in bin certs keys; do ln -s "$state/$d" "$run/.local/$d"; done
ln -s "$repo/.local/venv" "$run/.local/venv"
cd "$run"
# The example programs read their target and certificates from these (defaults: the README's);
# collectionsctl reads COLLECTIONSCTL_TARGET. python3 is the venv's (protobuf, cryptography),
# as the examiner's block asks.
export COLLECTIONS_TARGET=$listen COLLECTIONS_CERTS=$state/certs COLLECTIONSCTL_TARGET=$listen
export PATH="$repo/.local/venv/bin:$PATH"
bash "$script"
echo "all runnable README examples passed"
