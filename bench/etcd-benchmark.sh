#!/usr/bin/env bash
# RaftKv vs etcd 3.4, both driven by etcd's OWN load generator, `benchmark` (etcd's tools/benchmark, the tool of etcd's
# performance docs; it uses raw etcdserverpb gRPC clients). 3-member etcd and 3-node RaftKv on loopback, fsync on, each
# driven at its leader. Cells: put (8 B keys over a 100 k key space, 256 B values), linearizable range and serializable
# range of one key, at 1, 16 and 64 clients; RUNS runs per cell (default 3), interleaved etcd/RaftKv; the table gives
# medians of requests/s, p50 and p99 and the ratio RaftKv/etcd of the median requests/s. Prints the table; it writes
# nothing.
#
# etcd does not ship `benchmark` in any package here, and this repository does not build other projects' code: give the
# binary in ETCD_BENCHMARK (BENCHMARKS.md, "etcd's own benchmark tool", says how it was built for the recorded runs).
# Usage: ETCD_BENCHMARK=/path/to/benchmark bench/etcd-benchmark.sh [SECONDS_PER_CELL] [RUNS]   (defaults 8 and 3)
# CONNS=N: the clients of a cell share N gRPC connections (the tool's --conns; default: one per client).
# WARM=S: unrecorded warm-up per workload of each system first (default 60; a fresh .NET server JIT-compiles for ~1 min).
# SKIP_BUILD=1 / SERVER_DLL=PATH as in bench/lib.sh; RKV_ENV="VAR=VALUE ..." adds RaftKv server settings;
# CLIENTS="1 16 64" and WORKLOADS="put range-l range-s" (the defaults) choose the cells.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-8}; RUNS=${2:-3}; WARM=${WARM:-60}; CLIENTS=${CLIENTS:-1 16 64}; WORKLOADS=${WORKLOADS:-put range-l range-s}
[ -x "${ETCD_BENCHMARK:-}" ] || { echo "ETCD_BENCHMARK must name etcd's benchmark binary (see the header)" >&2; exit 2; }

. bench/lib.sh
ensure_etcd
bench_binaries

WORK=$(mktemp -d /tmp/raftkv-etcdbench-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM
raftkv_ports 3 6
start_etcd_cluster "$WORK" "${EXTRA_PORTS[@]}"
# shellcheck disable=SC2086 # RKV_ENV is a list of VAR=VALUE words
start_raftkv_cluster "$WORK" ${RKV_ENV:-}
ETCD_EP=$(wait_leader "$ETCD_EPS") || true
RKV_EP=$(wait_leader "$RKV_EPS") || true
[ -n "$ETCD_EP" ] && [ -n "$RKV_EP" ] || { echo "no leader (etcd '$ETCD_EP', RaftKv '$RKV_EP')" >&2; exit 1; }
echo "etcd leader $ETCD_EP, RaftKv leader $RKV_EP; $("$ETCD" --version | head -1); benchmark $ETCD_BENCHMARK"

for ep in $ETCD_EP $RKV_EP; do
  etcdctl --endpoints "$ep" put bench-key "$(head -c 256 /dev/zero | tr '\0' v)" >/dev/null
  for w in put get; do $BENCH $w --target etcd --endpoints "$ep" --clients 16 --duration "$WARM" --warmup 1 >/dev/null 2>&1 || true; done
done

# run_cell EP WORKLOAD CLIENTS TOTAL: one benchmark run; prints "requests/s p50_ms p99_ms" (or nothing if it failed).
run_cell() {
  local ep=$1 w=$2 c=$3 total=$4 conns=${CONNS:-$3} out
  local common=(--endpoints "$ep" --clients "$c" --conns "$conns" --precise)
  case $w in
    put) out=$("$ETCD_BENCHMARK" "${common[@]}" put --key-size 8 --key-space-size 100000 --val-size 256 --total "$total" 2>&1) ;;
    range-l) out=$("$ETCD_BENCHMARK" "${common[@]}" range bench-key --consistency l --total "$total" 2>&1) ;;
    range-s) out=$("$ETCD_BENCHMARK" "${common[@]}" range bench-key --consistency s --total "$total" 2>&1) ;;
  esac || return 0
  python3 bench/etcd-benchmark-result.py <<<"$out" \
    | python3 -c 'import json, sys; [print("%.1f %.3f %.3f" % (d["ops_per_sec"], d["p50_ms"], d["p99_ms"])) for d in map(json.loads, sys.stdin)]'
}

# The tool runs a fixed number of requests: size each cell from a 2 s probe so it lasts about SECS seconds.
RESULTS="$WORK/results.txt"
for run in $(seq 1 "$RUNS"); do
  for w in $WORKLOADS; do
    for c in $CLIENTS; do
      for side in etcd raftkv; do
        ep=$ETCD_EP; [ $side = raftkv ] && ep=$RKV_EP
        probe=$(run_cell "$ep" "$w" "$c" $((c * 200)))
        rate=${probe%% *}; rate=${rate%.*}; [ -n "$rate" ] || rate=100
        r=$(run_cell "$ep" "$w" "$c" $((rate * SECS > c ? rate * SECS : c)))
        [ -n "$r" ] && echo "$w $c $side $run $r" >> "$RESULTS"
      done
    done
  done
done

python3 - "$RESULTS" <<'PY'
import sys, statistics as st
cells = {}
for line in open(sys.argv[1]):
    w, c, side, run, rps, p50, p99 = line.split()
    cells.setdefault((w, int(c), side), []).append((float(rps), float(p50), float(p99)))
print("| workload | clients | etcd req/s | RaftKv req/s | RaftKv/etcd | etcd p50 / p99 ms | RaftKv p50 / p99 ms | RaftKv req/s per run |")
print("|---|---|---|---|---|---|---|---|")
names = {"put": "put", "range-l": "range (linearizable)", "range-s": "range (serializable)"}
for w in ["put", "range-l", "range-s"]:
    for c in [1, 16, 64]:
        e, k = cells.get((w, c, "etcd")), cells.get((w, c, "raftkv"))
        if not e or not k: continue
        m = lambda xs, i: st.median(x[i] for x in xs)
        print(f"| {names[w]} | {c} | {m(e,0):.0f} | {m(k,0):.0f} | {m(k,0)/m(e,0):.2f} | {m(e,1):.2f} / {m(e,2):.2f} | {m(k,1):.2f} / {m(k,2):.2f} | "
              + " ".join(f"{x[0]:.0f}" for x in k) + " |")
PY
