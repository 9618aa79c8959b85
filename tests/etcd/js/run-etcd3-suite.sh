#!/usr/bin/env bash
# Opt-in compatibility run (not in CI): the npm etcd3 client's OWN integration suite (microsoft/etcd3, mocha, 157
# tests) against one RaftKv node over TLS, as the suite's CI runs it against etcd. TARGET=etcd runs it against etcd 3.4
# (/usr/bin/etcd) for the baseline. Needs node/npm (the suite's dev dependencies come from the npm registry) and a
# Release build of the server (`dotnet build -c Release src/RaftKv.Server`).
# Usage: tests/etcd/js/run-etcd3-suite.sh [ETCD3_SOURCE_DIR]
#   ETCD3_SOURCE_DIR: a checkout of https://github.com/microsoft/etcd3 (default: cloned into .etcd3-src at the
#   repository root at tag v1.1.2, the version the 2026-12-06 run used; 155 pass, 2 skipped, as on etcd 3.4.23).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
src=${1:-$root/.etcd3-src}
if [ ! -f "$src/package.json" ]; then
  git clone --quiet --depth 1 --branch v1.1.2 https://github.com/microsoft/etcd3 "$src"
fi
if [ ! -d "$src/lib" ] || [ ! -d "$src/node_modules" ]; then
  (cd "$src" && npm ci --no-audit --no-fund --silent && npx tsc)
fi

certs=$src/src/test/certs
work=$(mktemp -d /tmp/raftkv-etcd3-suite-XXXX)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM
client=$(free_port); peer=$(free_port)
if [ "${TARGET:-raftkv}" = etcd ]; then
  etcd --data-dir "$work/data" --name e0 --listen-client-urls "https://127.0.0.1:$client" \
    --advertise-client-urls "https://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" --initial-cluster "e0=http://127.0.0.1:$peer" \
    --cert-file "$certs/certs/etcd0.localhost.crt" --key-file "$certs/private/etcd0.localhost.key" > "$work/server.log" 2>&1 &
  pid=$!
  version=$(etcd --version | awk '/etcd Version/ {print $3}')
else
  GRPC_PORT=$client HTTP_PORT=$(free_port) RAFT_PORT=$peer DATA_DIR="$work/data" BIND_HOST=127.0.0.1 ADVERTISE_HOST=127.0.0.1 \
    TLS_CERT_FILE="$certs/certs/etcd0.localhost.crt" TLS_KEY_FILE="$certs/private/etcd0.localhost.key" TLS_CA_FILE="$certs/certs/ca.crt" \
    dotnet "$root/src/RaftKv.Server/bin/Release/net10.0/raftkv.dll" > "$work/server.log" 2>&1 &
  pid=$!
  version=3.4.23 # the etcd behaviour RaftKv follows (the suite skips tests by version)
fi

# Ready when the client port accepts TLS connections (at most 60 s).
for _ in $(seq 600); do
  if openssl s_client -connect "127.0.0.1:$client" -CAfile "$certs/certs/ca.crt" </dev/null >/dev/null 2>&1; then break; fi
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done

cd "$src"
ETCD_ADDR="127.0.0.1:$client" ETCD_VERSION=$version npx mocha --reporter dot
