#!/usr/bin/env bash
# Where one put's time goes: a 3-node RaftKv with RAFTKV_ROUND_TRACE on (src/RaftKv.Replication/Diagnostics/
# RoundTrace.cs), one client putting through etcd's v3 API at the leader, then bench/round-trace.py joins the members'
# timestamps by Raft index into per-hop p50/p90 (issue #18: count the hops between request arrival and response).
# Tracing costs a little per step; trace at one client (the default) on a quiet machine.
# Usage: bench/round-trace.sh [DURATION_S] [CLIENTS]    (defaults 10 and 1); SKIP_BUILD=1 reuses the Release build;
# SLOW=1 also lists the slowest 1 % of writes hop by hop; KEEP=DIR keeps the trace files and the members' logs.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}; CLIENTS=${2:-1}

. bench/lib.sh
bench_binaries
WORK=$(mktemp -d /tmp/raftkv-roundtrace-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM

raftkv_ports 3
start_raftkv_cluster "$WORK" "RAFTKV_ROUND_TRACE=$WORK/trace-n{i}"
LEADER=$(wait_leader "$RKV_EPS") || { echo "no leader" >&2; exit 1; }
IFS=, read -r -a EPA <<<"$RKV_EPS"
for i in 1 2 3; do [ "${EPA[$((i - 1))]}" = "$LEADER" ] && LI=$i; done
echo "commit $COMMIT; leader node $LI ($LEADER); $CLIENTS client(s), $DUR s"
$BENCH put --target etcd --endpoints "$LEADER" --clients 16 --duration 5 --warmup 1 >/dev/null 2>&1 || true # JIT warm-up
FROM=$(etcdctl --endpoints="$LEADER" endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["raftIndex"])')
$BENCH put --target etcd --endpoints "$LEADER" --clients "$CLIENTS" --duration "$DUR" --warmup 0 --json 2>/dev/null | tail -1
sleep 1 # the members write their trace every 500 ms
files=("$WORK/trace-n$LI".*); for i in 1 2 3; do [ "$i" = "$LI" ] || files+=("$WORK/trace-n$i".*); done
FROM_INDEX=$FROM python3 bench/round-trace.py "${files[@]}" # only the measured run's writes
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP"; cp "${files[@]}" "$WORK"/n*.log "$KEEP"/; echo "FROM_INDEX=$FROM; trace files and logs kept in $KEEP"; fi
