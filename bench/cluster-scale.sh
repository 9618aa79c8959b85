#!/usr/bin/env bash
# Scale model measurements (issue #18, docs/scaling.md): the same raftkv-bench cells against a fresh 1-, 3- and
# 5-node RaftKv cluster on loopback (native API, driven at the leader, fsync on), one cluster size at a time.
# Per cell: ops/s, p50/p99, and what each resource did per operation — CPU time of the leader and of the
# followers (user+system from /proc ÷ requests), the machine's busy CPU (all processes, /proc/stat), the leader's
# Raft log flushes (fsyncs) per operation (raftkv_raft_log_flushes_total) and the bytes the leader wrote per
# operation (/proc/<pid>/io wchar: bytes passed to write()-family calls — its Raft log, SSTables, compactions; socket
# sends through sendmsg are not in it, so it is not the replication traffic).
# Cells: put at 1/16/64 clients (256 B values), put at 16 clients with 4 KiB and 64 KiB values, linearizable get
# at 16 and 64 clients.
# Usage: bench/cluster-scale.sh [DURATION_S] [SIZES]     (defaults 8 and "1 3 5")
# Writes the "cluster-scale" section of BENCHMARKS.md; raw lines in bench/results/cluster-scale-<date>/.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-8}; SIZES=${2:-"1 3 5"}
dotnet build -c Release src/RaftKv.Server -v q >/dev/null
dotnet build -c Release src/RaftKv.Bench -v q >/dev/null
dotnet build-server shutdown >/dev/null 2>&1 || true
SERVER=src/RaftKv.Server/bin/Release/net10.0/raftkv.dll
BENCH="dotnet src/RaftKv.Bench/bin/Release/net10.0/raftkv-bench.dll"
COMMIT=$(git rev-parse --short HEAD)
OUT=bench/results/cluster-scale-$(date -u +%Y%m%d-%H%M); mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl; : > "$RESULTS"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
declare -A PID HTTP GRPC RAFT
NODES=()
stop() { for i in "${NODES[@]}"; do kill -9 "${PID[$i]}" 2>/dev/null || true; wait "${PID[$i]}" 2>/dev/null || true; done; NODES=(); }
trap 'stop; rm -rf /tmp/raftkv-scale-$$' EXIT INT TERM
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
wchar() { awk '/^wchar/{print $2}' "/proc/$1/io"; }
machine_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
flushes() { curl -sf "127.0.0.1:${HTTP[$1]}/metrics" | awk '/^raftkv_raft_log_flushes_total/{s+=$2} END{print s+0}'; }
TICK=$(getconf CLK_TCK)
CELLS=("put 1 256" "put 16 256" "put 64 256" "put 16 4096" "put 16 65536" "get 16 256" "get 64 256")
for n in $SIZES; do
  D=/tmp/raftkv-scale-$$/n$n; mkdir -p "$D"
  for i in $(seq 1 "$n"); do HTTP[$i]=$(free_port); GRPC[$i]=$(free_port); RAFT[$i]=$(free_port); done
  PEERS=""; [ "$n" -gt 1 ] && PEERS=$(for i in $(seq 1 "$n"); do printf "%s=127.0.0.1:%s," "$i" "${RAFT[$i]}"; done | sed 's/,$//')
  for i in $(seq 1 "$n"); do
    NODE_ID=$i PEERS=$PEERS RAFT_PORT=${RAFT[$i]} HTTP_PORT=${HTTP[$i]} GRPC_PORT=${GRPC[$i]} DATA_DIR="$D/n$i" BIND_HOST=127.0.0.1 ADVERTISE_HOST=127.0.0.1 \
      dotnet "$SERVER" > "$D/n$i.log" 2>&1 &
    PID[$i]=$!; NODES+=("$i")
  done
  L=""
  for _ in $(seq 1 240); do
    for i in $(seq 1 "$n"); do curl -sf "127.0.0.1:${HTTP[$i]}/health" 2>/dev/null | grep -q '"role":"leader"' && L=$i; done
    [ -n "$L" ] && curl -sf "127.0.0.1:${HTTP[$L]}/health/ready" >/dev/null 2>&1 && break; sleep 0.5
  done
  [ -n "$L" ] || { echo "no leader with $n nodes" >&2; exit 1; }
  EP=127.0.0.1:${GRPC[$L]}
  echo "== $n node(s), leader node $L"
  for w in put get; do $BENCH $w --endpoints "$EP" --clients 16 --duration 8 --warmup 1 >/dev/null 2>&1 || true; done # unrecorded JIT warm-up
  for cell in "${CELLS[@]}"; do
    read -r w c v <<< "$cell"
    declare -A c0=(); for i in "${NODES[@]}"; do c0[$i]=$(cpu_ticks "${PID[$i]}"); done
    w0=$(wchar "${PID[$L]}"); f0=$(flushes "$L"); read -r b0 t0 <<< "$(machine_busy)"
    line=$($BENCH $w --endpoints "$EP" --clients "$c" --value-size "$v" --duration "$DUR" --warmup 0 --json 2>/dev/null | tail -1)
    read -r b1 t1 <<< "$(machine_busy)"; f1=$(flushes "$L"); w1=$(wchar "${PID[$L]}")
    lead=$(( $(cpu_ticks "${PID[$L]}") - c0[$L] )); foll=0; nf=0
    for i in "${NODES[@]}"; do [ "$i" = "$L" ] && continue; foll=$(( foll + $(cpu_ticks "${PID[$i]}") - c0[$i] )); nf=$((nf + 1)); done
    python3 - "$line" "$n" "$v" "$lead" "$foll" "$nf" "$TICK" "$((f1 - f0))" "$((w1 - w0))" "$((b1 - b0))" "$((t1 - t0))" "$(cut -d' ' -f1 /proc/loadavg)" >> "$RESULTS" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); n, v, lead, foll, nf, hz, fl, wb, busy, total, load = sys.argv[2:13]
req = max(r["requests"], 1)
r.update(nodes=int(n), value_size=int(v), leader_cpu_ms_per_op=int(lead) * 1000 / int(hz) / req,
         follower_cpu_ms_per_op=(int(foll) / int(nf) * 1000 / int(hz) / req) if int(nf) else None,
         leader_cpu_util=int(lead) / int(hz) / r["seconds"], flushes_per_op=int(fl) / req, leader_wchar_per_op=int(wb) / req,
         machine_busy=int(busy) / max(int(total), 1), loadavg=float(load))
print(json.dumps(r))
PY
    tail -1 "$RESULTS" | python3 bench/cluster-scale-line.py
  done
  stop
done

python3 - "$RESULTS" "$DUR" "$SIZES" "$COMMIT" "$OUT" <<'PY'
import datetime, json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
dur, sizes, commit, out = sys.argv[2:6]
t = [f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, commit {commit}, `bench/cluster-scale.sh {dur} \"{sizes}\"` ({dur} s per cell after an "
     f"unrecorded 8 s warm-up per workload; native API at the leader; 8 B keys, 100 k key space; fsync on; loopback, 2-core shared machine; raw lines in `{out}/`). "
     "CPU columns: milliseconds of CPU (user+system) per operation, leader and mean follower; \"machine busy\": share of both cores busy (all processes, the load generator included) during the cell.", "",
     "| nodes | workload | clients | value B | ops/s | p50 ms | p99 ms | leader CPU ms/op | follower CPU ms/op | leader % of a core | machine busy | fsyncs/op (leader) | leader file writes B/op (wchar) | load avg |",
     "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    f = "—" if r["follower_cpu_ms_per_op"] is None else f"{r['follower_cpu_ms_per_op']:.3f}"
    t.append(f"| {r['nodes']} | {r['workload']} | {r['clients']} | {r['value_size']} | {r['ops_per_sec']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
             f"{r['leader_cpu_ms_per_op']:.3f} | {f} | {r['leader_cpu_util']*100:.0f} % | {r['machine_busy']*100:.0f} % | {r['flushes_per_op']:.3f} | {r['leader_wchar_per_op']:.0f} | {r['loadavg']:.1f} |")
table = "\n".join(t)
print(table)
open(f"{out}/summary.md", "w").write(table + "\n")
path = "BENCHMARKS.md"; text = open(path).read()
section = f"<!-- cluster-scale:start -->\n{table}\n<!-- cluster-scale:end -->"
if "<!-- cluster-scale:start -->" in text:
    text = re.sub(r"<!-- cluster-scale:start -->.*<!-- cluster-scale:end -->", lambda m: section, text, flags=re.S)
else:
    text = text.rstrip("\n") + ("\n\n## Cluster size, clients and value size (scale model, docs/scaling.md)\n\n"
        "Command: `bench/cluster-scale.sh [DURATION_S] [SIZES]` (defaults 8 and \"1 3 5\"): a fresh 1-, 3- and 5-node cluster in turn,\n"
        "the same cells on each, with the CPU, fsyncs and bytes written per operation that say which resource a cell is bound by.\n\n") + section + "\n"
open(path, "w").write(text)
print("BENCHMARKS.md updated")
PY
