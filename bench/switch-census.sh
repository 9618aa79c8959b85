#!/usr/bin/env bash
# Thread switches per put: a 3-node RaftKv on loopback (ReadyToRun build), 8 s of unrecorded puts at 16 clients, then
# puts through etcd's v3 API at the leader with CLIENTS clients for 20 s, and `perf stat --per-thread` of the three
# servers over 10 s in the middle of it. Prints, per thread kind (thread-pool workers, the log flusher, the sockets
# event thread, the tiered-compilation (JIT) thread, GC, timers) and in total, CPU ms, context switches and futex calls,
# and each per put — counts that a busy machine disturbs far less than throughput (BENCHMARKS.md, "Where the
# single-client tail goes"). Needs perf (linux-perf) and root.
# Usage: bench/switch-census.sh [CLIENTS]   (default 1); WARM=S sets the warm-up (default 8 s); SKIP_BUILD=1 reuses the last build; RKV_ENV="VAR=VALUE ..."
# adds server settings; SYSTEM=etcd measures a 3-member etcd 3.4 the same way (its threads are Go's, one row).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-1}; SYSTEM=${SYSTEM:-raftkv}
. bench/lib.sh
command -v perf >/dev/null || { echo "perf is missing (apt-get install linux-perf)" >&2; exit 2; }
bench_binaries
WORK=$(mktemp -d /tmp/raftkv-census-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM
raftkv_ports 3 6
if [ "$SYSTEM" = etcd ]; then
  ensure_etcd; start_etcd_cluster "$WORK" "${EXTRA_PORTS[@]}"; EP=$(wait_leader "$ETCD_EPS")
else
  # shellcheck disable=SC2086 # RKV_ENV is a list of VAR=VALUE words
  start_raftkv_cluster "$WORK" ${RKV_ENV:-}; EP=$(wait_leader "$RKV_EPS")
fi
$BENCH put --target etcd --endpoints "$EP" --clients 16 --duration "${WARM:-8}" --warmup 1 >/dev/null 2>&1
$BENCH put --target etcd --endpoints "$EP" --clients "$CLIENTS" --duration 20 --warmup 0 --json > "$WORK/bench.json" 2>/dev/null &
B=$!
sleep 5
perf stat -e task-clock,context-switches,syscalls:sys_enter_futex --per-thread -p "$(IFS=,; echo "${PIDS[*]}")" -o "$WORK/stat.txt" -- sleep 10 >/dev/null 2>&1
wait $B
python3 - "$WORK/stat.txt" "$WORK/bench.json" "$SYSTEM" "$CLIENTS" <<'PY'
import collections, json, re, sys
rows = collections.defaultdict(lambda: collections.defaultdict(float))
for line in open(sys.argv[1]):
    m = re.match(r'\s*(.+?)-(\d+)\s+([\d,.]+)\s+(?:msec\s+)?(\S+)', line)
    if m:
        name = re.sub(r'\d+$', '', m.group(1).strip()) or 'main'
        rows[name][m.group(4)] += float(m.group(3).replace(',', ''))
bench = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
puts = bench["ops_per_sec"] * 10  # the 10 s perf watched, at the run's mean rate
total = collections.defaultdict(float)
for r in rows.values():
    for k, v in r.items():
        total[k] += v
print(f"{sys.argv[3]}, {sys.argv[4]} client(s): {bench['ops_per_sec']:.0f} put/s, p50 {bench['p50_ms']} ms, p99 {bench['p99_ms']} ms; three servers over 10 s:")
print("| threads | CPU ms | context switches | futex calls | CPU µs per put | switches per put | futex per put |")
print("|---|---|---|---|---|---|---|")
for name, r in sorted(rows.items(), key=lambda x: -x[1]['task-clock'])[:8] + [('all', total)]:
    print(f"| {name} | {r['task-clock']:.0f} | {r['context-switches']:.0f} | {r['syscalls:sys_enter_futex']:.0f} | "
          f"{r['task-clock'] * 1000 / puts:.0f} | {r['context-switches'] / puts:.1f} | {r['syscalls:sys_enter_futex'] / puts:.1f} |")
PY
