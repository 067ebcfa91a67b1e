#!/usr/bin/env bash
# Validates what deploy/ ships, offline:
#  - deploy/systemd/collections-server.service with `systemd-analyze verify` (ExecStart pointed
#    at the built binary, since verify checks that it exists); any warning fails;
#  - deploy/kubernetes/*.yaml with kubeconform -strict against the Kubernetes JSON schemas
#    that the kubernetes-validate package (PyPI, in .local/venv) ships;
#  - the example settings files (systemd's and the ConfigMap's) are accepted by the server;
#  - deploy/grafana/*.json is JSON with panels.
# Each check is also run on a broken copy, which must fail: the checks bite.
# Usage: validate_deploy.sh REPO SERVER_BINARY PYTHON WORK_DIR
set -uo pipefail
repo=$1 server=$(realpath "$2") python=$3 work=$4
k8s_version=1.33.0
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
rm -rf "$work" && mkdir -p "$work"

# ---- systemd ----
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze is not installed; the systemd unit was not verified"
else
  unit="$work/collections-server.service"
  sed "s#/usr/local/bin/collections-server#$server#" \
    "$repo/deploy/systemd/collections-server.service" > "$unit"
  out=$(systemd-analyze verify --man=no "$unit" 2>&1); rc=$?
  if [ $rc -ne 0 ] || [ -n "$out" ]; then fail "systemd-analyze verify: rc=$rc $out"; else
    echo "ok: systemd-analyze verify deploy/systemd/collections-server.service"; fi
  mkdir -p "$work/broken" && sed 's/^Restart=on-failure/Restart=sometimes/' "$unit" \
    > "$work/broken/collections-server.service"
  out=$(systemd-analyze verify --man=no "$work/broken/collections-server.service" 2>&1)
  if [ -z "$out" ]; then fail "systemd-analyze verify accepted a broken unit"; fi
fi

# ---- Kubernetes ----
kubeconform=$(command -v kubeconform || echo "$(go env GOPATH 2>/dev/null || echo ~/go)/bin/kubeconform")
if [ ! -x "$kubeconform" ]; then
  fail "kubeconform not found (deploy/install-deps.sh installs it with go install)"
else
  location=$("$python" "$repo/tests/deploy/k8s_schemas.py" "$work/schemas" "$k8s_version") ||
    fail "could not lay out the Kubernetes schemas from kubernetes-validate"
  if "$kubeconform" -strict -summary -kubernetes-version "$k8s_version" \
      -schema-location "$location" "$repo/deploy/kubernetes/"; then
    echo "ok: kubeconform -strict deploy/kubernetes (Kubernetes $k8s_version)"
  else
    fail "kubeconform rejected deploy/kubernetes"
  fi
  # The kinds an operator needs are all there (and kubeconform fails on a kind it has no
  # schema for, so none was skipped).
  for kind in StatefulSet Service PodDisruptionBudget ConfigMap Secret; do
    grep -qh "^kind: $kind\$" "$repo"/deploy/kubernetes/*.yaml || fail "deploy/kubernetes has no $kind"
  done
  sed 's/tcpSocket:/tcpSockett:/' "$repo/deploy/kubernetes/statefulset.yaml" > "$work/broken.yaml"
  if "$kubeconform" -strict -kubernetes-version "$k8s_version" -schema-location "$location" \
      "$work/broken.yaml" >/dev/null 2>&1; then
    fail "kubeconform accepted a broken StatefulSet"
  fi
fi

# ---- settings files ----
"$server" --config="$repo/deploy/systemd/collections.conf" --print-config >/dev/null ||
  fail "collections-server refuses deploy/systemd/collections.conf"
"$python" - "$repo/deploy/kubernetes/configmap.yaml" "$work/configmap.conf" <<'PY' ||
import sys
lines = open(sys.argv[1]).read().split("\n")
start = next(i for i, l in enumerate(lines) if l.strip() == "collections.conf: |") + 1
body = [l[4:] for l in lines[start:] if l.startswith("    ") or not l.strip()]
open(sys.argv[2], "w").write("\n".join(body) + "\n")
PY
  fail "could not extract collections.conf from the ConfigMap"
"$server" --config="$work/configmap.conf" --print-config >/dev/null ||
  fail "collections-server refuses the ConfigMap's collections.conf"
{ echo "nonsense-setting = 1"; cat "$work/configmap.conf"; } > "$work/configmap-broken.conf"
"$server" --config="$work/configmap-broken.conf" --print-config >/dev/null 2>&1 &&
  fail "collections-server accepted an unknown setting"

# ---- Grafana ----
for dashboard in "$repo"/deploy/grafana/*.json; do
  "$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"], "no panels"' \
    "$dashboard" || fail "$dashboard is not a dashboard"
done

if [ $failures -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "deploy/ validated"
