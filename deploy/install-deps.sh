#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine: the C++ toolchain and
# libraries from Debian, the CLI clients used by the scripts (kcat, jq; grpcurl below), headless
# Chromium for the timeline test, a JDK and Maven for the broker, then fetches the Kafka 3.9
# broker jars from Maven Central. Safe to re-run: it only installs what is missing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

packages=(build-essential cmake ninja-build pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev librdkafka-dev libboost-test-dev libabsl-dev libssl-dev libsodium-dev
  libspdlog-dev libcli11-dev libcpp-httplib-dev nlohmann-json3-dev
  tzdata kcat ccache jq openjdk-17-jre-headless maven
  chromium fonts-dejavu-core)  # headless Chromium renders collectionsctl's timeline in a test

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A JDK from elsewhere (e.g. a Temurin install) is fine: keep it instead of Debian's.
if command -v java >/dev/null 2>&1; then
  missing=("${missing[@]/openjdk-17-jre-headless}")
fi
if command -v mvn >/dev/null 2>&1; then
  missing=("${missing[@]/maven}")
fi
read -r -a missing <<< "${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
  echo "[deps] installing Debian packages: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  echo "[deps] Debian packages present" >&2
fi
"$here/kafka/kafka.sh" fetch

# ---- Contract tooling: buf (proto lint and breaking-change check) and the Python event
# consumer's virtualenv (tests/python). Both live under .local/, pinned; re-runs only repair
# what is missing or out of date.
repo=$(cd "$here/.." && pwd)
buf_version=1.50.0  # pinned: lint rules and breaking-change rules change between releases
apt_install() {
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}
if ! command -v npm >/dev/null 2>&1; then
  echo "[deps] installing Debian packages: nodejs npm (for buf)" >&2
  apt_install nodejs npm
fi
buf="$repo/.local/node/node_modules/.bin/buf"
if [ "$("$buf" --version 2>/dev/null)" != "$buf_version" ]; then
  echo "[deps] installing buf $buf_version from npm into .local/node" >&2
  mkdir -p "$repo/.local/node"
  npm install --prefix "$repo/.local/node" --no-audit --no-fund --save-exact --loglevel=error \
    "@bufbuild/buf@$buf_version" >&2
  "$buf" --version >/dev/null
else
  echo "[deps] buf $buf_version present" >&2
fi

venv="$repo/.local/venv"
requirements="$repo/tests/python/requirements.txt"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || \
   ! "$venv/bin/python" -c 'import confluent_kafka, google.protobuf, prometheus_client, kubernetes_validate, grpc, google.rpc.status_pb2, wheel' >/dev/null 2>&1; then
  echo "[deps] creating the Python venv .local/venv from tests/python/requirements.txt" >&2
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt_install python3 python3-venv
  fi
  rm -rf "$venv"  # (a symbolic link to another checkout's venv is replaced, not followed)
  python3 -m venv "$venv" || { apt_install python3-venv; rm -rf "$venv"; python3 -m venv "$venv"; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  echo "$want" > "$stamp"
else
  echo "[deps] Python venv .local/venv present" >&2
fi

# ---- Deployment checks (tests/deploy): systemd-analyze verifies the unit, kubeconform the
# Kubernetes manifests. kubeconform comes from the Go module proxy (`go install`); its schemas
# come from the kubernetes-validate package in the venv above (tests/deploy/k8s_schemas.py), so
# the check needs no network at test time.
kubeconform_version=v0.8.0  # pinned: strict-mode rules change between releases (needs Go 1.26)
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "[deps] installing Debian package: systemd (for systemd-analyze verify)" >&2
  apt_install systemd || echo "[deps] could not install systemd: the unit check will be skipped" >&2
fi
if ! command -v go >/dev/null 2>&1; then
  echo "[deps] installing Debian package: golang-go (for kubeconform)" >&2
  apt_install golang-go
fi
gobin=$(go env GOPATH)/bin
if ! go version -m "$gobin/kubeconform" 2>/dev/null | grep -q "kubeconform[[:space:]]*$kubeconform_version"; then
  echo "[deps] installing kubeconform $kubeconform_version with go install" >&2
  # An older Go (Debian's golang-go) fetches the toolchain go.mod asks for from the module proxy.
  GOTOOLCHAIN=auto go install "github.com/yannh/kubeconform/cmd/kubeconform@$kubeconform_version" >&2
else
  echo "[deps] kubeconform $kubeconform_version present" >&2
fi

# ---- grpcurl: the README's examples and tests/readme/run_examples.sh call the service with it
# (server reflection is on, so it needs no proto files).
grpcurl_version=v1.9.3  # pinned: its JSON output format is what the README shows
if ! go version -m "$gobin/grpcurl" 2>/dev/null | grep -q "fullstorydev/grpcurl[[:space:]]*$grpcurl_version"; then
  echo "[deps] installing grpcurl $grpcurl_version with go install" >&2
  GOTOOLCHAIN=auto go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$grpcurl_version" >&2
else
  echo "[deps] grpcurl $grpcurl_version present" >&2
fi
if ! command -v grpcurl >/dev/null 2>&1; then
  echo "[deps] note: grpcurl is in $gobin; add it to PATH (export PATH=\"\$PATH:$gobin\")" >&2
fi
