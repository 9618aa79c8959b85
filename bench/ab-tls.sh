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
. bench/lib.sh
bench_build
CERTS=$(mktemp -d /tmp/raftkv-ab-tls-certs-XXXX)
scripts/gen-certs.sh "$CERTS" raftkv1 raftkv2 raftkv3 >/dev/null
OUT=$(mktemp /tmp/raftkv-ab-tls-XXXX.tsv)
trap 'stop_all; rm -rf "$CERTS"' EXIT INT TERM
for r in $(seq 1 "$R"); do
  modes=(plain tls); [ $((r % 2)) -eq 0 ] && modes=(tls plain)
  for mode in "${modes[@]}"; do
    D=$(mktemp -d /tmp/raftkv-ab-XXXX)
    raftkv_ports 3 # fresh ports per cluster: the last one's may still be in TIME_WAIT
    tls_env=(); CURL_ARGS=(); scheme=http; bench_tls=()
    if [ "$mode" = tls ]; then
      tls_env=(TLS_CERT_FILE="$CERTS/raftkv{i}.pem" TLS_KEY_FILE="$CERTS/raftkv{i}-key.pem" TLS_CA_FILE="$CERTS/ca.pem" CLIENT_CERT_AUTH=true)
      CURL_ARGS=(--cacert "$CERTS/ca.pem" --cert "$CERTS/client.pem" --key "$CERTS/client-key.pem"); scheme=https
      bench_tls=(--cacert "$CERTS/ca.pem" --cert "$CERTS/client.pem" --key "$CERTS/client-key.pem")
    fi
    start_raftkv_cluster "$D" ${tls_env[@]+"${tls_env[@]}"}
    READY_TRIES=120 wait_ready "$scheme://localhost:$(http_port 1)/health/ready" || true
    for w in put get; do
      for c in 16 64; do
        $BENCH "$w" --endpoints $RKV_EPS --clients "$c" --duration "${WARM:-4}" --warmup 1 "${bench_tls[@]}" >/dev/null 2>&1 || true
        line=$($BENCH "$w" --endpoints $RKV_EPS --clients "$c" --duration "${DUR:-8}" --warmup 0 --json "${bench_tls[@]}" 2>/dev/null | tail -1) || line='{}' 
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
    stop_all; rm -rf "$D"
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
