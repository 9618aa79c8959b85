#!/usr/bin/env bash
# Watch delivery, RaftKv vs etcd 3.4 through the same client and protocol (issue #14): a 3-member etcd and a
# 3-node RaftKv on loopback; `raftkv-bench watch` opens WATCHERS watchers on one prefix over STREAMS gRPC streams
# spread over the three members, and puts at the leader at a paced RATE (puts/s); every put's value carries its send
# time, so each delivered event gives a delivery lag (put sent → event decoded by the client). Reports events/s
# delivered, delivered/expected (expected = acknowledged puts × watchers) and lag p50/p99, per rate, medians of RUNS
# interleaved runs, and the ratios. Rewrites the "watch" section of BENCHMARKS.md.
# Usage: bench/compare-watch.sh [DURATION_S (10)] [RUNS (3)]
# Env: WATCHERS (1000), STREAMS (10), RATES ("100 300"), DRAIN (5 s), UPDATE (1 = write BENCHMARKS.md, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}; RUNS=${2:-3}; WATCHERS=${WATCHERS:-1000}; STREAMS=${STREAMS:-10}; RATES=${RATES:-"100 300"}; DRAIN=${DRAIN:-5}

. bench/lib.sh
ensure_etcd
bench_build

WORK=$(mktemp -d /tmp/raftkv-watch-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM
raftkv_ports 3 6
start_etcd_cluster "$WORK" "${EXTRA_PORTS[@]}"
start_raftkv_cluster "$WORK"
ETCD_EP=$(LEADER_TRIES=60 wait_leader "$ETCD_EPS") || { echo "no etcd leader elected" >&2; exit 1; }
RKV_EP=$(LEADER_TRIES=120 wait_leader "$RKV_EPS") || { echo "no RaftKv leader elected" >&2; exit 1; }
echo "etcd leader $ETCD_EP, RaftKv leader $RKV_EP (both through etcd's API)"

cell() { # side rate duration → one JSON line (or nothing if the run failed)
  local eps=$ETCD_EPS ep=$ETCD_EP; [ "$1" = raftkv ] && { eps=$RKV_EPS; ep=$RKV_EP; }
  $BENCH watch --endpoints "$ep" --watch-endpoints "$eps" --watchers "$WATCHERS" --streams "$STREAMS" --rate "$2" \
    --duration "$3" --warmup 2 --drain "$DRAIN" --json 2>/dev/null | tail -1
}
# Unrecorded warm-up of both (RaftKv's JIT; etcd gets the same treatment).
for side in etcd raftkv; do cell $side 100 8 >/dev/null || true; done

RESULTS="$WORK/results.jsonl"
for run in $(seq 1 "$RUNS"); do
  for rate in $RATES; do
    for side in etcd raftkv; do
      line=$(cell $side "$rate" "$DUR") || line=""
      [ -n "$line" ] && echo "$line" | python3 -c "import json,sys; r=json.load(sys.stdin); r['side']='$side'; r['run']=$run; print(json.dumps(r))" | tee -a "$RESULTS"
    done
  done
done

python3 - "$RESULTS" > "$WORK/table.md" <<'PY'
import json, sys, statistics as st
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cells = {}
for r in rows: cells.setdefault((r["rate"], r["side"]), []).append(r)
med = lambda xs, k: st.median(x[k] for x in xs)
print("| watchers | puts/s | etcd events/s | RaftKv events/s | RaftKv/etcd | etcd delivered/expected | RaftKv delivered/expected | etcd lag p50 / p99 ms | RaftKv lag p50 / p99 ms | runs (etcd, RaftKv) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for rate in sorted({k[0] for k in cells}):
    e, k = cells.get((rate, "etcd"), []), cells.get((rate, "raftkv"), [])
    if not e or not k: continue
    frac = lambda xs: f"{sum(x['delivered'] for x in xs) / max(sum(x['expected'] for x in xs), 1):.4f}"
    print(f"| {e[0]['watchers']} | {rate} | {med(e,'events_per_sec'):.0f} | {med(k,'events_per_sec'):.0f} | {med(k,'events_per_sec')/max(med(e,'events_per_sec'),1e-9):.2f} | "
          f"{frac(e)} | {frac(k)} | {med(e,'lag_p50_ms'):.2f} / {med(e,'lag_p99_ms'):.2f} | {med(k,'lag_p50_ms'):.2f} / {med(k,'lag_p99_ms'):.2f} | {len(e)}, {len(k)} |")
PY
cat "$WORK/table.md"
if [ "${UPDATE:-1}" = 1 ]; then
  python3 - "$WORK/table.md" "$DUR" "$RUNS" "$WATCHERS" "$STREAMS" "$ETCD_VERSION" "$COMMIT" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import re, sys, datetime
table, dur, runs, watchers, streams, etcdv, commit, load = open(sys.argv[1]).read(), *sys.argv[2:]
section = (f"<!-- watch:start -->\nRun {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, commit {commit}, `bench/compare-watch.sh {dur} {runs}` "
           f"({etcdv}; {watchers} watchers on one prefix over {streams} streams spread over the 3 members, puts at the leader paced at the given "
           f"rate with 256 B values, {dur} s measured after 2 s, up to 5 s drain; medians of {runs} interleaved runs; load average at the end {load}):\n\n{table}<!-- watch:end -->")
text = open("BENCHMARKS.md").read()
if "<!-- watch:start -->" in text:
    text = re.sub(r"<!-- watch:start -->.*<!-- watch:end -->", lambda m: section, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n## Watch delivery: RaftKv vs etcd 3.4 (issue #14)\n\nCommand: `bench/compare-watch.sh [DURATION_S] [RUNS]`.\n\n" + section + "\n"
open("BENCHMARKS.md", "w").write(text)
PY
  echo "BENCHMARKS.md updated"
fi
