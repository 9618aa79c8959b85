#!/usr/bin/env bash
# Side-by-side: a 3-member etcd 3.4 and a 3-node RaftKv on loopback, driven by the same client
# (raftkv-bench) in one run; writes the table with ratios to BENCHMARKS.md (section "Cluster").
# Usage: bench/compare-etcd.sh [--quick]   (quick: 8 s cells, fewer workloads)
# Env (a smoke run; the defaults are the benchmark): DUR (s per cell), CLIENTS ("1 16 64"), WARM (warm-up s, 10).
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=${1:-}; CELL=${DUR:-}
DUR=12; WORKLOADS="put get get-serializable mixed large range"
[ "$QUICK" = "--quick" ] && { DUR=8; WORKLOADS="put get"; }
DUR=${CELL:-$DUR}; CLIENTS=${CLIENTS:-"1 16 64"}; WARM=${WARM:-10}

. bench/lib.sh
ensure_etcd
bench_build

WORK=$(mktemp -d /tmp/raftkv-cmp-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM

# etcd: 3 members, fsync on (default), large backend quota. RaftKv: 3 nodes. All on free loopback ports.
raftkv_ports 3 6; EP_PORTS=("${EXTRA_PORTS[@]}") # etcd member i: client EP_PORTS[2(i-1)], peer EP_PORTS[2(i-1)+1]
start_etcd_cluster "$WORK" "${EP_PORTS[@]}"
start_raftkv_cluster "$WORK"
READY_TRIES=120 wait_ready "http://127.0.0.1:$(http_port 1)/health/ready" "http://127.0.0.1:${EP_PORTS[0]}/health" || true
# Both systems are driven at their leader (a follower would forward each write: one more hop).
ETCD_EP=$(LEADER_TRIES=60 wait_leader "$ETCD_EPS") || { echo "no etcd leader elected" >&2; exit 1; }
echo "etcd leader: $ETCD_EP"

RESULTS="$WORK/results.jsonl"
# Warm-up, not recorded: the same puts and gets against both clusters, so .NET's tiered JIT reaches its
# optimized code before measurement (etcd, compiled ahead of time, gets the same treatment for fairness).
for t in etcd raftkv; do
  ep=$ETCD_EP; [ $t = raftkv ] && ep=$RKV_EPS
  for w in put get; do $BENCH $w --target $t --endpoints $ep --clients 16 --duration "$WARM" --warmup 1 >/dev/null 2>&1 || true; done
done
for w in $WORKLOADS; do
  for c in $CLIENTS; do
    $BENCH $w --target etcd --endpoints $ETCD_EP --clients $c --duration $DUR --warmup 2 --json | tail -1 >> "$RESULTS"
    $BENCH $w --target raftkv --endpoints $RKV_EPS --clients $c --duration $DUR --warmup 2 --json | tail -1 >> "$RESULTS"
  done
done

python3 - "$RESULTS" <<'PY' > "$WORK/table.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows: by[(r["workload"], r["clients"], r["target"])] = r
print("| workload | clients | etcd ops/s | RaftKv ops/s | RaftKv/etcd | etcd p50 / p99 ms | RaftKv p50 / p99 ms |")
print("|---|---|---|---|---|---|---|")
for (w, c, t) in sorted({(w, c, "x") for (w, c, _) in by}):
    e, k = by.get((w, c, "etcd")), by.get((w, c, "raftkv"))
    if not e or not k: continue
    print(f"| {w} | {c} | {e['ops_per_sec']:.0f} | {k['ops_per_sec']:.0f} | {k['ops_per_sec']/max(e['ops_per_sec'],1e-9):.2f} | {e['p50_ms']:.2f} / {e['p99_ms']:.2f} | {k['p50_ms']:.2f} / {k['p99_ms']:.2f} |")
PY
cat "$WORK/table.md"
python3 - "$WORK/table.md" "$DUR" "$((2 * WARM))" <<'PY'
import re, sys, datetime
table = open(sys.argv[1]).read()
path = "BENCHMARKS.md"
text = open(path).read()
section = f"<!-- cluster:start -->\nRun {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC with `bench/compare-etcd.sh` ({sys.argv[2]} s per cell after a {sys.argv[3]} s unrecorded warm-up of each cluster, 2 s warm-up excluded per cell; 8 B keys, 256 B values (large: 64 KiB), 100 k key space, range = 100 keys from a random start; both clusters 3 members on loopback on the same 2-core machine, fsync on):\n\n{table}\n<!-- cluster:end -->"
text = re.sub(r"<!-- cluster:start -->.*<!-- cluster:end -->", section, text, flags=re.S)
open(path, "w").write(text)
PY
echo "BENCHMARKS.md updated"
