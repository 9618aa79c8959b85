#!/usr/bin/env bash
# Makes a CA, node certificates and a client certificate for RaftKv's TLS (PEM files, ECDSA P-256).
#
#   scripts/gen-certs.sh [OUT_DIR] [NODE ...]
#
# OUT_DIR (default ./certs) receives:
#   ca.pem, ca-key.pem                 the cluster CA (keep ca-key.pem offline in production)
#   <node>.pem, <node>-key.pem         one per NODE: serverAuth + clientAuth (it serves clients and
#                                      dials peers), SANs = the node name, localhost, 127.0.0.1 and
#                                      $EXTRA_SANS (comma-separated, e.g. "DNS:*.raftkv-peers.default.svc.cluster.local")
#   client.pem, client-key.pem         a client certificate, CN=$CLIENT_CN (default root): with
#                                      CLIENT_CERT_AUTH=true the CN is the user name
# NODE defaults to raftkv1 raftkv2 raftkv3 (the docker-compose service names). Existing files are
# overwritten, the CA is kept if ca.pem and ca-key.pem exist (so node certificates can be re-issued
# and rotated: the server re-reads them when they change). DAYS (default 365) sets the validity.
set -euo pipefail

out=${1:-./certs}
shift || true
nodes=("$@")
[ ${#nodes[@]} -gt 0 ] || nodes=(raftkv1 raftkv2 raftkv3)
days=${DAYS:-365}
client_cn=${CLIENT_CN:-root}
mkdir -p "$out"
cd "$out"

if [ ! -f ca.pem ] || [ ! -f ca-key.pem ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out ca-key.tmp
  openssl pkcs8 -topk8 -nocrypt -in ca-key.tmp -out ca-key.pem && rm -f ca-key.tmp
  openssl req -x509 -new -key ca-key.pem -sha256 -days $((days * 5)) -subj "/CN=raftkv CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.pem
  echo "made CA: $out/ca.pem"
fi

issue() { # name, extendedKeyUsage, subjectAltName (may be empty)
  local name=$1 eku=$2 san=$3 ext
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment,keyAgreement"
    echo "extendedKeyUsage=$eku"
    echo "authorityKeyIdentifier=keyid"
    [ -z "$san" ] || echo "subjectAltName=$san"
  } > "$ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "$name-key.tmp"
  openssl pkcs8 -topk8 -nocrypt -in "$name-key.tmp" -out "$name-key.pem" && rm -f "$name-key.tmp"
  openssl req -new -key "$name-key.pem" -subj "/CN=$name" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -sha256 -days "$days" \
    -extfile "$ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$ext"
  chmod 600 "$name-key.pem"
  echo "made $out/$name.pem"
}

for n in "${nodes[@]}"; do
  san="DNS:$n,DNS:localhost,IP:127.0.0.1"
  [ -z "${EXTRA_SANS:-}" ] || san="$san,$EXTRA_SANS"
  issue "$n" "serverAuth,clientAuth" "$san"
done

issue_client() {
  local cn=$1
  issue "$cn" "clientAuth" ""
  mv "$cn.pem" client.pem && mv "$cn-key.pem" client-key.pem
  echo "  (renamed to $out/client.pem, CN=$cn)"
}
issue_client "$client_cn"
# The containers run as uid 10001 (Dockerfile): keys must be readable by it when mounted.
chmod 644 ./*.pem && chmod 600 ca-key.pem
