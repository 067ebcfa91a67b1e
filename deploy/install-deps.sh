#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine: the C++ toolchain and
# libraries from Debian, the CLI clients used by the scripts (kcat), a JDK and Maven for the
# broker, then fetches the Kafka 3.9 broker jars from Maven Central. Safe to re-run: it only
# installs what is missing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

packages=(build-essential cmake ninja-build pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev librdkafka-dev libboost-test-dev libabsl-dev libssl-dev
  tzdata kcat openjdk-17-jre-headless maven)

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
