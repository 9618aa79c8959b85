#!/usr/bin/env bash
# A/B of server settings on a 3-node RaftKv cluster: for each configuration (a set of environment
# assignments for the server processes, "-" for none), in alternating order, start a fresh cluster,
# warm it up, run one raftkv-bench cell and report throughput, latency and the servers' CPU time per
# operation (user+system of the 3 processes ÷ requests: less sensitive to a noisy machine than ops/s).
# Usage: bench/ab-cluster.sh <workload> <clients> <repetitions> <config>...
#   e.g. bench/ab-cluster.sh put 16 3 - "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=70"
# Env: DUR (measured seconds, default 8), WARM (warm-up seconds, default 6).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 4 ] || { sed -n 2,8p "$0"; exit 2; }
W=$1; C=$2; R=$3; shift 3
dotnet build -c Release src/RaftKv.Server -v q >/dev/null
dotnet build -c Release src/RaftKv.Bench -v q >/dev/null
dotnet build-server shutdown >/dev/null 2>&1 || true
SERVER=src/RaftKv.Server/bin/Release/net10.0/raftkv.dll
BENCH="dotnet src/RaftKv.Bench/bin/Release/net10.0/raftkv-bench.dll"
EP=127.0.0.1:50401,127.0.0.1:50402,127.0.0.1:50403
PIDS=()
stop() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=(); }
trap stop EXIT INT TERM
cpu() { local t=0; for p in "${PIDS[@]}"; do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
TICK=$(getconf CLK_TCK)
printf "%-60s %9s %8s %8s %8s %12s %6s\n" config ops/s p50_ms p99_ms max_ms cpu_ms/op load
for r in $(seq 1 "$R"); do
  for cfg in "$@"; do
    env_args=(); [ "$cfg" != "-" ] && read -r -a env_args <<< "$cfg"
    D=$(mktemp -d /tmp/raftkv-ab-XXXX)
    for i in 1 2 3; do
      env "${env_args[@]}" NODE_ID=$i PEERS="1=127.0.0.1:7401,2=127.0.0.1:7402,3=127.0.0.1:7403" RAFT_PORT=740$i HTTP_PORT=840$i GRPC_PORT=5040$i \
        DATA_DIR="$D/n$i" BIND_HOST=127.0.0.1 ADVERTISE_HOST=127.0.0.1 dotnet "$SERVER" > "$D/n$i.log" 2>&1 &
      PIDS+=($!)
    done
    for _ in $(seq 1 120); do curl -sf localhost:8401/health/ready >/dev/null && break; sleep 0.5; done
    $BENCH "$W" --target raftkv --endpoints $EP --clients "$C" --duration "${WARM:-6}" --warmup 1 >/dev/null 2>&1 || true
    c0=$(cpu)
    line=$($BENCH "$W" --target raftkv --endpoints $EP --clients "$C" --duration "${DUR:-8}" --warmup 0 --json 2>/dev/null | tail -1)
    c1=$(cpu)
    stop; rm -rf "$D"
    python3 - "$line" "$((c1 - c0))" "$TICK" "$cfg" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); ticks, hz = int(sys.argv[2]), int(sys.argv[3])
print(f"{sys.argv[4]:<60} {r['ops_per_sec']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['max_ms']:8.2f} {ticks * 1000 / hz / max(r['requests'], 1):12.3f} {sys.argv[5]:>6}")
PY
  done
done
