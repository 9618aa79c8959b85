#!/usr/bin/env bash
# CPU per operation of a 3-node RaftKv cluster driven through etcd's v3 API (raftkv-bench --target etcd at
# the leader): utime+stime of each server process (from /proc/PID/stat) over a fixed number of operations,
# divided by the operations completed. On a shared 2-core machine this figure is far steadier than ops/s
# (throughput ≈ 1 / total CPU per op when servers and load generator share the cores), so it is the one to
# A/B a CPU change with. Prints one line per cell: µs of CPU per op on the leader, each follower, the
# three servers together, and the load generator; the cell's ops/s, p50 and p99 (ms); and the bytes each server's GC heap allocated per op (from
# /metrics: independent of the machine's load, so small allocation cuts show where CPU figures are noise).
# Usage: bench/cpu-per-op.sh [OPS] [CLIENTS...]        (defaults 20000 and "1 16 64")
#   WORKLOADS="put get" (default) picks the workloads; SKIP_BUILD=1 reuses the Release build; WARM=S sets the
#   unrecorded warm-up (S seconds each of put and get at 16 clients; default 8); SERVER_DLL=path/raftkv.dll runs
#   another build of the server (an A/B of two builds); RKV_ENV="VAR=VALUE ..." adds server settings (e.g.
#   METRICS_HTTP_REQUESTS=on, DOTNET_gcServer=0); PERF=1 prints the servers' PIDs after the warm-up and waits for
#   Enter (attach perf record meanwhile). SYSTEM=etcd measures a 3-member etcd 3.4 the same way (the reference:
#   the same load generator and protocol; no allocation columns), so servers' CPU per op can be compared directly.
set -euo pipefail
cd "$(dirname "$0")/.."
OPS=${1:-20000}; shift || true
CLIENTS=${*:-1 16 64}; WORKLOADS=${WORKLOADS:-put get}; SYSTEM=${SYSTEM:-raftkv}

. bench/lib.sh
bench_binaries
[ "$SYSTEM" = raftkv ] || ensure_etcd
CLK=$(getconf CLK_TCK)

WORK=$(mktemp -d /tmp/raftkv-cpuop-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM

# shellcheck disable=SC2086
start_system "$WORK" ${RKV_ENV:-}
EPS_ALL=$EPS
LEADER=$(wait_leader "$EPS_ALL") || { echo "no leader" >&2; exit 1; }
IFS=, read -r -a EPA <<<"$EPS_ALL"
for i in 1 2 3; do [ "${EPA[$((i - 1))]}" = "$LEADER" ] && LI=$i; done
ORDER=("$LI"); for i in 1 2 3; do [ "$i" = "$LI" ] || ORDER+=("$i"); done
echo "leader node $LI ($LEADER); pids ${PIDS[*]}; ${RKV_ENV:-default settings}"

# Bytes node I's GC heap has allocated so far (the runtime's meter, through /metrics): load-independent.
allocated() { [ "$SYSTEM" = raftkv ] || return 0; curl -sf "http://127.0.0.1:$(http_port "$1")/metrics" | awk '$1 == "system_runtime_dotnet_gc_heap_total_allocated_total" {print $2}'; }

for w in put get; do $BENCH $w --target etcd --endpoints "$LEADER" --clients 16 --duration "${WARM:-8}" --warmup 1 >/dev/null 2>&1 || true; done
if [ -n "${PERF:-}" ]; then
  for i in "${ORDER[@]}"; do echo "node $i pid ${PIDS[$((i - 1))]}"; done
  echo "cluster up in $WORK; press Enter to stop"; read -r _
fi

printf "%-5s %7s %8s | %9s %9s %9s | %9s | %9s | %s | %s\n" work clients ops leader fol1 fol2 servers bench "alloc B/op leader fol1 fol2" "ops/s p50_ms p99_ms"
for w in $WORKLOADS; do
  for c in $CLIENTS; do
    a0=(); for i in "${ORDER[@]}"; do a0+=("$(allocated "$i")"); done
    before=(); for i in "${ORDER[@]}"; do before+=("$(cpu_ticks "${PIDS[$((i - 1))]}")"); done
    out=$( { /usr/bin/time -f "BENCHCPU %U %S" $BENCH "$w" --target etcd --endpoints "$LEADER" --clients "$c" --total "$OPS" --duration 600 --warmup 0 --no-preload --json; } 2>&1 )
    after=(); for i in "${ORDER[@]}"; do after+=("$(cpu_ticks "${PIDS[$((i - 1))]}")"); done
    a1=(); for i in "${ORDER[@]}"; do a1+=("$(allocated "$i")"); done
    ops=$(echo "$out" | grep '^{' | tail -1 | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["requests"])' 2>/dev/null || echo 0)
    lat=$(echo "$out" | grep '^{' | tail -1 | python3 -c 'import json,sys; r=json.load(sys.stdin); print("%8.0f %6.2f %6.2f" % (r["ops_per_sec"], r["p50_ms"], r["p99_ms"]))' 2>/dev/null || echo "- - -")
    bcpu=$(echo "$out" | awk '/^BENCHCPU/ {print $2 + $3}')
    python3 - "$w" "$c" "$ops" "$CLK" "$bcpu" "$lat" "${before[@]}" "${after[@]}" "${a0[@]}" "${a1[@]}" <<'PY'
import sys
w, c, ops, clk, bcpu, lat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5] or 0), sys.argv[6]
b, a = [int(x) for x in sys.argv[7:10]], [int(x) for x in sys.argv[10:13]]
m0, m1 = [float(x or 0) for x in sys.argv[13:16]], [float(x or 0) for x in sys.argv[16:19]]
us = [(y - x) / clk * 1e6 / max(ops, 1) for x, y in zip(b, a)]
alloc = " ".join(f"{(y - x) / max(ops, 1):6.0f}" for x, y in zip(m0, m1))
print(f"{w:<5} {c:>7} {ops:>8} | {us[0]:9.1f} {us[1]:9.1f} {us[2]:9.1f} | {sum(us):9.1f} | {bcpu * 1e6 / max(ops, 1):9.1f} | {alloc} | {lat}")
PY
  done
done
