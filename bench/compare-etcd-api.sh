#!/usr/bin/env bash
# RaftKv vs etcd 3.4, BOTH driven through etcd's v3 gRPC API by the same load generator
# (raftkv-bench --target etcd: generated etcdserverpb.KV clients, N clients on N HTTP/2 connections,
# one request in flight each). 3-member etcd and 3-node RaftKv on loopback, fsync on, each driven at its
# leader. Cells: put and linearizable get at 1, 16 and 64 clients; RUNS runs per cell (default 3),
# interleaved etcd/RaftKv; the table reports medians (ops/s, p50, p99) and the ratio RaftKv/etcd of the
# median throughputs, then what failed requests were (gRPC status, count, first detail). Rewrites the "etcd-api" section
# of BENCHMARKS.md and prints the table.
# etcd: Debian's etcd-server package (3.4), installed with apt-get when `etcd` is missing (needs root).
# Usage: bench/compare-etcd-api.sh [DURATION_S] [RUNS]     (defaults 10 and 3)
# NATIVE=1 adds a third side in every cell: the same RaftKv cluster through its native raftkv.v1 API
# (raftkv-bench --target raftkv at the same leader), and a second table: etcd API ÷ native (issue #14's "within 10 %").
# RKV_ENV="VAR=VALUE ..." adds server settings to every RaftKv node (e.g. RKV_ENV="READ_LEASE=false");
# WARM=S: the unrecorded warm-up per workload of each system before the first cell (default 60; it was 10 until 2026-12-06).
# SKIP_BUILD=1 reuses the Release build (and leaves other engineers' build servers alone); NO_WRITE=1 prints the
# table without rewriting BENCHMARKS.md.
# AT=leader (default) | follower | all: where both systems are driven — the leader, one follower (the same for
# every cell), or every member with the clients spread round-robin (raftkv-bench --target etcd with all endpoints,
# as etcd's own clients spread their requests; about 2/3 of them land on followers). AT=follower|all imply NO_WRITE=1.
# CONNS=N: the clients of a cell share N HTTP/2 connections (raftkv-bench --conns; client c on connection c mod N), as
# etcd's own `benchmark --conns` (default 1 there) and clientv3 (one connection per client object, RPCs multiplexed);
# default 0 = one connection per client.
# WORKLOADS="put get" (default) selects the workloads (e.g. WORKLOADS=get for follower reads; WORKLOADS=large: puts of
# 64 KiB values, issue #18's large-value row).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}; RUNS=${2:-3}; WORKLOADS=${WORKLOADS:-put get}; CLIENTS="1 16 64"; AT=${AT:-leader}; CONNS=${CONNS:-0}; WARM=${WARM:-60}
export WARM
conns=(); [ "$CONNS" = 0 ] || conns=(--conns "$CONNS")
export AT
case $AT in leader) ;; follower|all) NO_WRITE=1 ;; *) echo "AT must be leader, follower or all" >&2; exit 2 ;; esac

. bench/lib.sh
ensure_etcd
bench_binaries

WORK=$(mktemp -d /tmp/raftkv-etcdapi-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM

raftkv_ports 3 6 # RaftKv nodes, plus etcd member i's client port EXTRA_PORTS[2(i-1)] and peer port EXTRA_PORTS[2(i-1)+1]
start_etcd_cluster "$WORK" "${EXTRA_PORTS[@]}"
# shellcheck disable=SC2086 # RKV_ENV is a list of VAR=VALUE words
start_raftkv_cluster "$WORK" ${RKV_ENV:-}

# Each system at its leader (a follower would forward every write: one more hop). Both answer etcd's Status.
ETCD_EP=$(wait_leader "$ETCD_EPS") || true
RKV_EP=$(wait_leader "$RKV_EPS") || true
[ -n "$ETCD_EP" ] && [ -n "$RKV_EP" ] || { echo "no leader (etcd '$ETCD_EP', RaftKv '$RKV_EP')" >&2; exit 1; }
echo "etcd leader $ETCD_EP, RaftKv leader $RKV_EP (both through etcd's API)"
# first_other EPS LEADER: the first endpoint of EPS that is not LEADER (a follower).
first_other() { tr ',' '\n' <<<"$1" | grep -vx "$2" | head -1; }
case $AT in
  follower) ETCD_EP=$(first_other "$ETCD_EPS" "$ETCD_EP"); RKV_EP=$(first_other "$RKV_EPS" "$RKV_EP") ;;
  all) ETCD_EP=$ETCD_EPS; RKV_EP=$RKV_EPS ;;
esac
[ "$AT" = leader ] || echo "driven at $AT: etcd $ETCD_EP, RaftKv $RKV_EP"

# Unrecorded warm-up of both, WARM s per workload (the same treatment for etcd): a fresh .NET server re-compiles its hot
# methods (tiered JIT) for its first minute or so under load, and that JIT work takes a core from the measured cells
# (BENCHMARKS.md, "Where the single-client tail goes": 7 % of the servers' CPU and the 1-client p99 3.3 → 2.3 ms).
for ep in $ETCD_EP $RKV_EP; do
  for w in $WORKLOADS; do $BENCH $w --target etcd --endpoints $ep --clients 16 --duration "$WARM" --warmup 1 >/dev/null 2>&1 || true; done
done
if [ -n "${NATIVE:-}" ]; then
  for w in put get; do $BENCH $w --target raftkv --endpoints $RKV_EP --clients 16 --duration 10 --warmup 1 >/dev/null 2>&1 || true; done
fi

RESULTS="$WORK/results.jsonl"
for run in $(seq 1 "$RUNS"); do
  for w in $WORKLOADS; do
    for c in $CLIENTS; do
      for side in etcd raftkv ${NATIVE:+native}; do
        ep=$ETCD_EP; target=etcd; [ $side != etcd ] && ep=$RKV_EP; [ $side = native ] && target=raftkv
        line=$($BENCH $w --target $target --endpoints $ep --clients $c ${conns[@]+"${conns[@]}"} --duration $DUR --warmup 2 --json 2>/dev/null | tail -1) || line=""
        [ -n "$line" ] && echo "$line" | python3 -c "import json,sys; r=json.load(sys.stdin); r['side']='$side'; r['run']=$run; print(json.dumps(r))" >> "$RESULTS"
      done
    done
  done
done

python3 - "$RESULTS" "$RUNS" <<'PY' > "$WORK/table.md"
import json, os, sys, statistics as st
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cells = {}
for r in rows: cells.setdefault((r["workload"], r["clients"], r["side"]), []).append(r)
med = lambda xs, k: st.median(x[k] for x in xs)
print("| workload | clients | etcd ops/s | RaftKv ops/s | RaftKv/etcd | etcd p50 / p99 ms | RaftKv p50 / p99 ms | runs (etcd, RaftKv) | errors (etcd, RaftKv) | RaftKv ops/s per run |")
print("|---|---|---|---|---|---|---|---|---|---|")
for w in ["put", "get", "large"]:
    for c in [1, 16, 64]:
        e, k = cells.get((w, c, "etcd"), []), cells.get((w, c, "raftkv"), [])
        if not e or not k: continue
        name = {"get": "get (linearizable)", "large": "put 64 KiB"}.get(w, w) + ("" if os.environ.get("AT", "leader") == "leader" else f", at {os.environ['AT']}")
        print(f"| {name} | {c} | {med(e,'ops_per_sec'):.0f} | {med(k,'ops_per_sec'):.0f} | {med(k,'ops_per_sec')/max(med(e,'ops_per_sec'),1e-9):.2f} | "
              f"{med(e,'p50_ms'):.2f} / {med(e,'p99_ms'):.2f} | {med(k,'p50_ms'):.2f} / {med(k,'p99_ms'):.2f} | {len(e)}, {len(k)} | {sum(x['errors'] for x in e)}, {sum(x['errors'] for x in k)} | "
              + " ".join(f"{x['ops_per_sec']:.0f}" for x in k) + " |")
# What the failed requests were (raftkv-bench's error_kinds: gRPC status -> count and the first detail), per cell and side.
failed = [(w, c, side, k, v) for (w, c, side), xs in sorted(cells.items()) for x in xs for k, v in (x.get("error_kinds") or {}).items()]
if failed:
    kinds = {}
    for w, c, side, k, v in failed:
        n, example = kinds.get((w, c, side, k), (0, v["example"]))
        kinds[(w, c, side, k)] = (n + v["count"], example)
    print("\nErrors: " + "; ".join(f"{w} x{c} {side}: {n} {k} ({example!r})" for (w, c, side, k), (n, example) in kinds.items()))
if any(side == "native" for (_, _, side) in cells):
    print("\nThe same RaftKv cluster through its native API (`NATIVE=1`):\n")
    print("| workload | clients | native ops/s | etcd API ops/s | etcd API ÷ native | native p50 / p99 ms | runs |")
    print("|---|---|---|---|---|---|---|")
    for w in ["put", "get", "large"]:
        for c in [1, 16, 64]:
            n, k = cells.get((w, c, "native"), []), cells.get((w, c, "raftkv"), [])
            if not n or not k: continue
            print(f"| {w} | {c} | {med(n,'ops_per_sec'):.0f} | {med(k,'ops_per_sec'):.0f} | {med(k,'ops_per_sec')/max(med(n,'ops_per_sec'),1e-9):.2f} | "
                  f"{med(n,'p50_ms'):.2f} / {med(n,'p99_ms'):.2f} | {len(n)} |")
PY
cat "$WORK/table.md"
[ -z "${NO_WRITE:-}" ] || exit 0
python3 - "$WORK/table.md" "$DUR" "$RUNS" "$ETCD_VERSION" "$COMMIT" <<'PY'
import os, re, sys, datetime
table, dur, runs, etcdv, commit = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
path = "BENCHMARKS.md"
text = open(path).read()
# The command's environment prefix, built outside the f-string (Python before 3.12 cannot nest its quotes).
prefix = ('RKV_ENV="' + os.environ['RKV_ENV'] + '" ' if os.environ.get('RKV_ENV') else '') + ('NATIVE=1 ' if os.environ.get('NATIVE') else '') + ('CONNS=' + os.environ['CONNS'] + ' ' if os.environ.get('CONNS', '0') != '0' else '')
section = (f"<!-- etcd-api:start -->\nRun {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, commit {commit}, `{prefix}bench/compare-etcd-api.sh {dur} {runs}` "
           f"({etcdv}; {dur} s per cell, 2 s warm-up excluded per cell, after a {os.environ.get('WARM', '60')} s unrecorded warm-up per workload of each cluster; "
           f"medians of {runs} interleaved runs; 8 B keys, 256 B values, 100 k key space; both 3 members on loopback on the same 2-core machine, fsync on):\n\n{table}\n<!-- etcd-api:end -->")
if "<!-- etcd-api:start -->" in text:
    text = re.sub(r"<!-- etcd-api:start -->.*<!-- etcd-api:end -->", lambda m: section, text, flags=re.S)
else:
    head = ("## Cluster, both through etcd's v3 API: RaftKv vs etcd 3.4 (same client, same protocol)\n\n"
            "Command: `bench/compare-etcd-api.sh [DURATION_S] [RUNS]` (defaults 10 and 3). It installs etcd 3.4 from Debian's\n"
            "`etcd-server` package when `etcd` is missing (apt-get, as root), starts a 3-member etcd and a 3-node RaftKv on loopback\n"
            "and drives BOTH with `raftkv-bench --target etcd` (generated etcdserverpb.KV clients; the RaftKv side talks to\n"
            "RaftKv's etcd v3 services on its gRPC port), each at its leader. Unlike the table above (RaftKv through its\n"
            "native API), this one compares the identical protocol and client.\n\n")
    anchor = "<!-- cluster:end -->"
    i = text.index(anchor) + len(anchor)
    j = text.find("\n## ", i)
    j = len(text) if j < 0 else j + 1
    text = text[:j] + head + section + "\n\n" + text[j:]
open(path, "w").write(text)
PY
echo "BENCHMARKS.md updated"
