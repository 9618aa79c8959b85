#!/usr/bin/env bash
# TLS cost on a 3-node RaftKv cluster: for each repetition, in alternating order, a fresh plaintext
# cluster and a fresh TLS cluster (HTTPS/gRPC TLS with CLIENT_CERT_AUTH, mutual TLS between Raft
# peers; certificates from scripts/gen-certs.sh), each driven by raftkv-bench with put and
# linearizable get at 16 and 64 clients (over TLS with --cacert/--cert/--key for the TLS cluster).
# Prints one line per cell and the medians per (mode, workload, clients).
# Usage: bench/ab-tls.sh [repetitions (default 3)]   Env: DUR (measured s, default 8), WARM (default 4).
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-3}
dotnet build -c Release src/RaftKv.Server -v q >/dev/null
dotnet build -c Release src/RaftKv.Bench -v q >/dev/null
dotnet build-server shutdown >/dev/null 2>&1 || true
SERVER=src/RaftKv.Server/bin/Release/net10.0/raftkv.dll
BENCH="dotnet src/RaftKv.Bench/bin/Release/net10.0/raftkv-bench.dll"
EP=127.0.0.1:50401,127.0.0.1:50402,127.0.0.1:50403
CERTS=$(mktemp -d /tmp/raftkv-ab-tls-certs-XXXX)
scripts/gen-certs.sh "$CERTS" raftkv1 raftkv2 raftkv3 >/dev/null
OUT=$(mktemp /tmp/raftkv-ab-tls-XXXX.tsv)
PIDS=()
stop() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=(); }
trap 'stop; rm -rf "$CERTS"' EXIT INT TERM
for r in $(seq 1 "$R"); do
  modes=(plain tls); [ $((r % 2)) -eq 0 ] && modes=(tls plain)
  for mode in "${modes[@]}"; do
    D=$(mktemp -d /tmp/raftkv-ab-XXXX)
    for i in 1 2 3; do
      tls_env=()
      [ "$mode" = tls ] && tls_env=(TLS_CERT_FILE="$CERTS/raftkv$i.pem" TLS_KEY_FILE="$CERTS/raftkv$i-key.pem" TLS_CA_FILE="$CERTS/ca.pem" CLIENT_CERT_AUTH=true)
      env "${tls_env[@]}" NODE_ID=$i PEERS="1=127.0.0.1:7401,2=127.0.0.1:7402,3=127.0.0.1:7403" RAFT_PORT=740$i HTTP_PORT=840$i GRPC_PORT=5040$i \
        DATA_DIR="$D/n$i" BIND_HOST=127.0.0.1 ADVERTISE_HOST=127.0.0.1 dotnet "$SERVER" > "$D/n$i.log" 2>&1 &
      PIDS+=($!)
    done
    curl_args=(-sf http://localhost:8401/health/ready); bench_tls=()
    if [ "$mode" = tls ]; then
      curl_args=(-sf --cacert "$CERTS/ca.pem" --cert "$CERTS/client.pem" --key "$CERTS/client-key.pem" https://localhost:8401/health/ready)
      bench_tls=(--cacert "$CERTS/ca.pem" --cert "$CERTS/client.pem" --key "$CERTS/client-key.pem")
    fi
    for _ in $(seq 1 120); do curl "${curl_args[@]}" >/dev/null && break; sleep 0.5; done
    for w in put get; do
      for c in 16 64; do
        $BENCH "$w" --endpoints $EP --clients "$c" --duration "${WARM:-4}" --warmup 1 "${bench_tls[@]}" >/dev/null 2>&1 || true
        line=$($BENCH "$w" --endpoints $EP --clients "$c" --duration "${DUR:-8}" --warmup 0 --json "${bench_tls[@]}" 2>/dev/null | tail -1) || line='{}' 
        python3 - "$line" "$mode" "$r" "$(cut -d' ' -f1 /proc/loadavg)" >> "$OUT" <<'PY'
import json, sys
try:
    d = json.loads(sys.argv[1]); d["ops_per_sec"]
except (ValueError, KeyError):
    sys.exit(0)  # the bench process failed (e.g. aborted on an overloaded machine): no sample for this cell
print(f"{sys.argv[2]}\t{d['workload']}\t{d['clients']}\t{sys.argv[3]}\t{d['ops_per_sec']:.0f}\t{d['p50_ms']:.2f}\t{d['p99_ms']:.2f}\t{d['errors']}\t{sys.argv[4]}")
PY
        tail -1 "$OUT"
      done
    done
    stop; rm -rf "$D"
  done
done
python3 - "$OUT" <<'PY'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
cells = {}
for mode, w, c, r, ops, p50, p99, err, load in rows:
    cells.setdefault((w, int(c)), {}).setdefault(mode, []).append((float(ops), float(p50), float(p99)))
print("\n| workload | clients | plaintext ops/s | TLS ops/s | TLS/plain | plaintext p50 / p99 ms | TLS p50 / p99 ms |")
print("|---|---|---|---|---|---|---|")
for (w, c), m in sorted(cells.items()):
    med = {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in m.items()}
    p, t = med.get("plain", [0, 0, 0]), med.get("tls", [0, 0, 0])
    print(f"| {w} | {c} | {p[0]:.0f} | {t[0]:.0f} | {t[0] / p[0] if p[0] else 0:.2f} | {p[1]:.2f} / {p[2]:.2f} | {t[1]:.2f} / {t[2]:.2f} |")
PY
echo "raw: $OUT"
