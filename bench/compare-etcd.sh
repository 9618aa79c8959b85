#!/usr/bin/env bash
# Side-by-side: a 3-member etcd 3.4 and a 3-node RaftKv on loopback, driven by the same client
# (raftkv-bench) in one run; writes the table with ratios to BENCHMARKS.md (section "Cluster").
# Usage: bench/compare-etcd.sh [--quick]   (quick: 8 s cells, fewer workloads)
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=${1:-}
DUR=12; WORKLOADS="put get get-serializable mixed large range"; CLIENTS="1 16 64"
[ "$QUICK" = "--quick" ] && { DUR=8; WORKLOADS="put get"; }

command -v etcd >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server etcd-client >/dev/null; }
ETCD=$(command -v etcd)

dotnet build -c Release src/RaftKv.Server -v q >/dev/null
dotnet build -c Release src/RaftKv.Bench -v q >/dev/null
# Idle MSBuild/compiler servers keep file watchers busy and skew a 2-core machine.
dotnet build-server shutdown >/dev/null 2>&1 || true
SERVER=src/RaftKv.Server/bin/Release/net10.0/raftkv.dll
BENCH="dotnet src/RaftKv.Bench/bin/Release/net10.0/raftkv-bench.dll"

WORK=$(mktemp -d /tmp/raftkv-cmp-XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

# etcd: 3 members, fsync on (default), large backend quota.
CL="e1=http://127.0.0.1:23801,e2=http://127.0.0.1:23802,e3=http://127.0.0.1:23803"
for i in 1 2 3; do
  "$ETCD" --name e$i --data-dir "$WORK/etcd$i" --listen-client-urls http://127.0.0.1:2379$i --advertise-client-urls http://127.0.0.1:2379$i \
    --listen-peer-urls http://127.0.0.1:2380$i --initial-advertise-peer-urls http://127.0.0.1:2380$i \
    --initial-cluster "$CL" --initial-cluster-state new --quota-backend-bytes 8589934592 >"$WORK/etcd$i.log" 2>&1 &
  PIDS+=($!)
done

# RaftKv: 3 nodes.
PEERS="1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103"
for i in 1 2 3; do
  NODE_ID=$i PEERS=$PEERS RAFT_PORT=710$i HTTP_PORT=808$i GRPC_PORT=5006$i DATA_DIR="$WORK/raftkv$i" BIND_HOST=127.0.0.1 ADVERTISE_HOST=127.0.0.1 \
    dotnet "$SERVER" >"$WORK/raftkv$i.log" 2>&1 &
  PIDS+=($!)
done
for i in $(seq 1 120); do curl -sf localhost:8081/health/ready >/dev/null && curl -sf http://127.0.0.1:23791/health >/dev/null && break; sleep 0.5; done
# Both systems are driven at their leader (a follower would forward each write: one more hop).
ETCD_EP=""
for i in $(seq 1 60); do
  ETCD_EP=$(ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:23791,127.0.0.1:23792,127.0.0.1:23793 endpoint status -w json 2>/dev/null \
    | python3 -c 'import json,sys; print(next((e["Endpoint"] for e in json.load(sys.stdin) if e["Status"]["header"]["member_id"] == e["Status"]["leader"]), ""))' 2>/dev/null || true)
  [ -n "$ETCD_EP" ] && break; sleep 0.5
done
[ -n "$ETCD_EP" ] || { echo "no etcd leader elected" >&2; exit 1; }
echo "etcd leader: $ETCD_EP"

RESULTS="$WORK/results.jsonl"
# Warm-up, not recorded: the same puts and gets against both clusters, so .NET's tiered JIT reaches its
# optimized code before measurement (etcd, compiled ahead of time, gets the same treatment for fairness).
for t in etcd raftkv; do
  ep=$ETCD_EP; [ $t = raftkv ] && ep=127.0.0.1:50061,127.0.0.1:50062,127.0.0.1:50063
  for w in put get; do $BENCH $w --target $t --endpoints $ep --clients 16 --duration 10 --warmup 1 >/dev/null 2>&1 || true; done
done
for w in $WORKLOADS; do
  for c in $CLIENTS; do
    $BENCH $w --target etcd --endpoints $ETCD_EP --clients $c --duration $DUR --warmup 2 --json | tail -1 >> "$RESULTS"
    $BENCH $w --target raftkv --endpoints 127.0.0.1:50061,127.0.0.1:50062,127.0.0.1:50063 --clients $c --duration $DUR --warmup 2 --json | tail -1 >> "$RESULTS"
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
python3 - "$WORK/table.md" "$DUR" <<'PY'
import re, sys, datetime
table = open(sys.argv[1]).read()
path = "BENCHMARKS.md"
text = open(path).read()
section = f"<!-- cluster:start -->\nRun {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC with `bench/compare-etcd.sh` ({sys.argv[2]} s per cell after a 20 s unrecorded warm-up of each cluster, 2 s warm-up excluded per cell; 8 B keys, 256 B values (large: 64 KiB), 100 k key space, range = 100 keys from a random start; both clusters 3 members on loopback on the same 2-core machine, fsync on):\n\n{table}\n<!-- cluster:end -->"
text = re.sub(r"<!-- cluster:start -->.*<!-- cluster:end -->", section, text, flags=re.S)
open(path, "w").write(text)
PY
echo "BENCHMARKS.md updated"
