#!/usr/bin/env bash
# A local certificate authority and the certificates of the service and the example callers,
# for mutual TLS on the gRPC port, plus the writer's Ed25519 signing key. Made once; re-running
# keeps what exists (delete a file to have it made again).
#
#   deploy/certs.sh [DIR]      default DIR: <repo>/.local/certs   (keys: <repo>/.local/keys)
#
# DIR/ca.pem, ca.key             the local CA (valid 10 years); callers and the server trust it
# DIR/server.pem, server.key     the service: SAN DNS:localhost, IP:127.0.0.1; also its identity
#                                when its processes forward commands to each other (clientAuth)
# DIR/<principal>.pem, .key      one client certificate per example principal (CN = principal;
#                                the access policy deploy/policy/access-2025.textproto gives
#                                each its role): dialer-1 collector-1 collector-2
#                                collector-desktop supervisor-1 supervisor-2
#                                compliance-officer-1 compliance-officer-2 reporting-reader admin
# KEYS/writer-signing.key        the writer's Ed25519 private key (collections-server --signing-key)
# KEYS/writer-signing.pub.pem    its public key: all an examiner needs to verify the log
#
# Rotation: replace the files (or delete them and re-run) and restart the service.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-$repo/.local/certs}
keys=${COLLECTIONS_KEYS_DIR:-$repo/.local/keys}
principals=(dialer-1 collector-1 collector-2 collector-desktop supervisor-1 supervisor-2
  compliance-officer-1 compliance-officer-2 reporting-reader admin)
mkdir -p "$dir" "$keys"
chmod 700 "$keys"

log() { echo "[certs] $*" >&2; }

key() { (umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null); }

if [ ! -s "$dir/ca.pem" ] || [ ! -s "$dir/ca.key" ]; then
  log "creating the local CA in $dir"
  key "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 -subj "/O=Collections local/CN=Collections local CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.pem" 2>/dev/null
fi

# issue NAME CN EXTENSIONS [NEEDS]: a certificate for CN signed by the CA, valid 825 days. An
# existing one is kept while the CA verifies it (and its text shows NEEDS, when given).
issue() {
  local name=$1 cn=$2 ext=$3 needs=${4:-}
  if [ -s "$dir/$name.pem" ] && [ -s "$dir/$name.key" ] &&
     openssl verify -CAfile "$dir/ca.pem" "$dir/$name.pem" >/dev/null 2>&1 &&
     { [ -z "$needs" ] || openssl x509 -in "$dir/$name.pem" -noout -text | grep -q "$needs"; }; then
    return 0
  fi
  key "$dir/$name.key"
  local extfile
  extfile=$(mktemp)
  printf '%s\n' "$ext" > "$extfile"
  openssl req -new -key "$dir/$name.key" -subj "/O=Collections local/CN=$cn" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -sha256 -days 825 -extfile "$extfile" -out "$dir/$name.pem" 2>/dev/null
  rm -f "$dir/$name.csr" "$extfile"
  log "issued $dir/$name.pem (CN=$cn)"
}

issue server localhost "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,IP:127.0.0.1" "TLS Web Client Authentication"
for p in "${principals[@]}"; do
  issue "$p" "$p" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
done

if [ ! -s "$keys/writer-signing.key" ]; then
  log "creating the writer's Ed25519 signing key in $keys"
  (umask 077; openssl genpkey -algorithm ed25519 -out "$keys/writer-signing.key")
  rm -f "$keys/writer-signing.pub.pem"
fi
if [ ! -s "$keys/writer-signing.pub.pem" ]; then
  openssl pkey -in "$keys/writer-signing.key" -pubout -out "$keys/writer-signing.pub.pem"
fi
