#!/usr/bin/env bash
# Single-client put latency, the bound of #18's "2x etcd at one client": RaftKv with 3 nodes, RaftKv with ONE node (no
# replication round at all) and a 3-member etcd 3.4, each driven by `raftkv-bench put --target etcd --clients 1` at its
# leader after a 5 s 16-client warm-up. Prints "system put/s p50_ms p99_ms" per run.
# Usage: bench/single-client.sh [DURATION_S] [RUNS]      (defaults 8 and 3); SKIP_BUILD=1 reuses the Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-8}; RUNS=${2:-3}

. bench/lib.sh
bench_binaries
ensure_etcd
WORK=$(mktemp -d /tmp/raftkv-single-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM

run() { # run NAME ENDPOINT
  $BENCH put --target etcd --endpoints "$2" --clients 16 --duration 5 --warmup 1 >/dev/null 2>&1 || true
  for _ in $(seq 1 "$RUNS"); do
    $BENCH put --target etcd --endpoints "$2" --clients 1 --duration "$DUR" --warmup 2 --json 2>/dev/null | tail -1 \
      | python3 -c "import json,sys; r=json.load(sys.stdin); print('$1', round(r['ops_per_sec']), r['p50_ms'], r['p99_ms'])"
  done
}

echo "commit $COMMIT; $(etcd --version 2>/dev/null | sed -n 1p)"
raftkv_ports 3 6
start_raftkv_cluster "$WORK"
run raftkv-3-nodes "$(wait_leader "$RKV_EPS")"
stop_all
start_raftkv "$WORK/single.log" NODE_ID=1 PEERS="1=127.0.0.1:$(raft_port 1)" RAFT_PORT="$(raft_port 1)" HTTP_PORT="$(http_port 1)" \
  GRPC_PORT="$(grpc_port 1)" DATA_DIR="$WORK/single" BIND_HOST=127.0.0.1 ADVERTISE_HOST=127.0.0.1
run raftkv-1-node "$(wait_leader "127.0.0.1:$(grpc_port 1)")"
stop_all
start_etcd_cluster "$WORK" "${EXTRA_PORTS[@]}"
run etcd-3-members "$(wait_leader "$ETCD_EPS")"
