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
. bench/lib.sh
bench_build
trap stop_all EXIT INT TERM
cpu() { local t=0; for p in "${PIDS[@]}"; do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
TICK=$(getconf CLK_TCK)
printf "%-60s %9s %8s %8s %8s %12s %6s\n" config ops/s p50_ms p99_ms max_ms cpu_ms/op load
for r in $(seq 1 "$R"); do
  for cfg in "$@"; do
    env_args=(); [ "$cfg" != "-" ] && read -r -a env_args <<< "$cfg"
    D=$(mktemp -d /tmp/raftkv-ab-XXXX)
    raftkv_ports 3 # fresh ports per cluster: the last one's may still be in TIME_WAIT
    start_raftkv_cluster "$D" ${env_args[@]+"${env_args[@]}"}
    READY_TRIES=120 wait_ready "http://127.0.0.1:$(http_port 1)/health/ready" || true
    $BENCH "$W" --target raftkv --endpoints $RKV_EPS --clients "$C" --duration "${WARM:-6}" --warmup 1 >/dev/null 2>&1 || true
    c0=$(cpu)
    line=$($BENCH "$W" --target raftkv --endpoints $RKV_EPS --clients "$C" --duration "${DUR:-8}" --warmup 0 --json 2>/dev/null | tail -1)
    c1=$(cpu)
    stop_all; rm -rf "$D"
    python3 - "$line" "$((c1 - c0))" "$TICK" "$cfg" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); ticks, hz = int(sys.argv[2]), int(sys.argv[3])
print(f"{sys.argv[4]:<60} {r['ops_per_sec']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['max_ms']:8.2f} {ticks * 1000 / hz / max(r['requests'], 1):12.3f} {sys.argv[5]:>6}")
PY
  done
done
