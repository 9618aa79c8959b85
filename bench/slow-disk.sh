#!/usr/bin/env bash
# Slow disk: a 3-node RaftKv cluster whose processes run with the LD_PRELOAD shim
# chaos/slowdisk/slowfsync.c, which delays every fsync/fdatasync of a process by the milliseconds
# written in that process's control file. For each scenario (none, one follower slowed, the leader
# slowed) in alternating order: a fresh cluster, a warm-up, then one raftkv-bench cell measured
# while the chosen node's fsyncs take SLOW_MS longer; reports throughput, p50/p99/max and whether
# leadership moved (leader id and term before and after the cell).
# Usage: bench/slow-disk.sh [repetitions]     Env: SLOW_MS (default 100), CLIENTS (16), DUR (10), WARM (6), WORKLOAD (put)
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-3}; SLOW=${SLOW_MS:-100}; C=${CLIENTS:-16}; W=${WORKLOAD:-put}
. bench/lib.sh
bench_build
SHIM=$(mktemp -d /tmp/slowfsync-XXXX)/libslowfsync.so
gcc -shared -fPIC -O2 -o "$SHIM" chaos/slowdisk/slowfsync.c -ldl
trap stop_all EXIT INT TERM
leader() { # "<leader id> <term>" as node 1..3 sees it (first that answers)
  for i in 1 2 3; do
    curl -sf "localhost:$(http_port $i)/cluster" 2>/dev/null | python3 -c 'import json,sys; c=json.load(sys.stdin); print(c["leader_id"], c["term"])' && return
  done
  echo "? ?"
}
printf "%-10s %6s %9s %8s %8s %8s  %-14s %-14s\n" slowed node ops/s p50_ms p99_ms max_ms "leader,term@0" "leader,term@end"
for r in $(seq 1 "$R"); do
  for scenario in none follower leader; do
    D=$(mktemp -d /tmp/raftkv-slow-XXXX)
    for i in 1 2 3; do : > "$D/slow$i"; done
    raftkv_ports 3 # fresh ports per cluster: the last one's may still be in TIME_WAIT
    start_raftkv_cluster "$D" LD_PRELOAD="$SHIM" SLOW_FSYNC_CONTROL="$D/slow{i}"
    READY_TRIES=120 wait_ready "http://127.0.0.1:$(http_port 1)/health/ready" || true
    $BENCH "$W" --target raftkv --endpoints $RKV_EPS --clients "$C" --duration "${WARM:-6}" --warmup 1 >/dev/null 2>&1 || true
    read -r lid term <<< "$(leader)"
    node=-
    case $scenario in
      follower) node=$(( lid % 3 + 1 )) ;;
      leader) node=$lid ;;
    esac
    [ "$node" != - ] && echo "$SLOW" > "$D/slow$node"
    line=$($BENCH "$W" --target raftkv --endpoints $RKV_EPS --clients "$C" --duration "${DUR:-10}" --warmup 0 --json 2>/dev/null | tail -1)
    read -r lid2 term2 <<< "$(leader)"
    stop_all; rm -rf "$D"
    python3 - "$line" "$scenario" "$node" "$lid,$term" "$lid2,$term2" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"{sys.argv[2]:<10} {sys.argv[3]:>6} {r['ops_per_sec']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['max_ms']:8.2f}  {sys.argv[4]:<14} {sys.argv[5]:<14}")
PY
  done
done
