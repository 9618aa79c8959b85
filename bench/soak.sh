#!/usr/bin/env bash
# Soak (issue #15): a 3-node RaftKv on loopback under a paced mixed load (90 % linearizable gets, 10 % puts)
# at half the put rate measured at the start, with the leader SIGKILLed (and restarted 5 s later) every
# KILL_EVERY seconds. Every 10 s it samples, per node, RSS, open file descriptors, threads and the Raft log's
# size on disk, and the load's p50/p99 of that interval; writes them to a CSV, plots them to a PNG (headless
# Chromium renders the SVG chart; no plotting library needed) and writes a report with the verdict: does any
# of them grow without bound (last third's median vs the middle third's, per node)?
# Usage: bench/soak.sh [MINUTES] [OUT_DIR]      (defaults: 30, chaos/reports/soak-<date>)
# Needs: dotnet, curl, python3, /usr/bin/chromium (Debian's chromium) for the PNG.
set -euo pipefail
cd "$(dirname "$0")/.."
MIN=${1:-30}; OUT=${2:-chaos/reports/soak-$(date -u +%Y%m%d-%H%M)}
KILL_EVERY=${KILL_EVERY:-300}
mkdir -p "$OUT"
dotnet build -c Release src/RaftKv.Server -v q >/dev/null
dotnet build -c Release src/RaftKv.Bench -v q >/dev/null
SERVER=src/RaftKv.Server/bin/Release/net10.0/raftkv.dll
BENCH="dotnet src/RaftKv.Bench/bin/Release/net10.0/raftkv-bench.dll"
WORK=$(mktemp -d /tmp/raftkv-soak-XXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
declare -A RAFT HTTP GRPC PID
for i in 1 2 3; do RAFT[$i]=$(free_port); HTTP[$i]=$(free_port); GRPC[$i]=$(free_port); done
PEERS="1=127.0.0.1:${RAFT[1]},2=127.0.0.1:${RAFT[2]},3=127.0.0.1:${RAFT[3]}"
start() { # node
  NODE_ID=$1 PEERS=$PEERS RAFT_PORT=${RAFT[$1]} HTTP_PORT=${HTTP[$1]} GRPC_PORT=${GRPC[$1]} DATA_DIR="$WORK/n$1" BIND_HOST=127.0.0.1 ADVERTISE_HOST=127.0.0.1 \
    dotnet "$SERVER" >>"$WORK/n$1.log" 2>&1 &
  PID[$1]=$!
}
cleanup() { for i in 1 2 3; do kill -9 "${PID[$i]:-0}" 2>/dev/null || true; done; kill -9 "${LOAD:-0}" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for i in 1 2 3; do start $i; done
leader() { for i in 1 2 3; do curl -sf "127.0.0.1:${HTTP[$i]}/health" 2>/dev/null | grep -q '"role":"leader"' && { echo $i; return; }; done; echo ""; }
for t in $(seq 1 240); do [ -n "$(leader)" ] && break; sleep 0.5; done
[ -n "$(leader)" ] || { echo "no leader" >&2; exit 1; }
L=$(leader)
EPS="127.0.0.1:${GRPC[1]},127.0.0.1:${GRPC[2]},127.0.0.1:${GRPC[3]}"

# The maximum put rate (16 clients at the leader, 15 s after a 5 s warm-up); the soak runs at half of it.
MAX=$($BENCH put --endpoints 127.0.0.1:${GRPC[$L]} --clients 16 --duration 15 --warmup 5 --json 2>/dev/null | tail -1 | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["ops_per_sec"]))')
RATE=$((MAX / 2))
echo "max put rate $MAX ops/s; soak at $RATE ops/s (mixed 90/10) for $MIN min, leader killed every $KILL_EVERY s" | tee "$OUT/run.txt"
$BENCH soak --endpoints "$EPS" --rate "$RATE" --clients 16 --duration $((MIN * 60)) --interval 10 > "$WORK/load.jsonl" 2>"$WORK/load.err" &
LOAD=$!

CSV="$OUT/samples.csv"
echo "t,node,rss_mb,fds,threads,raftlog_mb,data_mb" > "$CSV"
T0=$(date +%s); NEXT_KILL=$KILL_EVERY; KILLS=0
while kill -0 $LOAD 2>/dev/null; do
  sleep 10
  T=$(( $(date +%s) - T0 ))
  for i in 1 2 3; do
    p=${PID[$i]}
    if [ -d /proc/$p ]; then
      rss=$(awk '/VmRSS/{print $2/1024}' /proc/$p/status); thr=$(awk '/Threads/{print $2}' /proc/$p/status); fds=$(ls /proc/$p/fd | wc -l)
    else rss=""; thr=""; fds=""; fi
    log=$(du -sm "$WORK/n$i/log" 2>/dev/null | cut -f1 || echo ""); data=$(du -sm "$WORK/n$i" 2>/dev/null | cut -f1 || echo "")
    echo "$T,$i,$rss,$fds,$thr,$log,$data" >> "$CSV"
  done
  if [ $T -ge $NEXT_KILL ] && [ $T -lt $((MIN * 60 - 30)) ]; then
    L=$(leader)
    if [ -n "$L" ]; then
      kill -9 "${PID[$L]}"; wait "${PID[$L]}" 2>/dev/null || true
      echo "t=$T s: SIGKILL leader node $L" | tee -a "$OUT/run.txt"
      sleep 5; start "$L"; KILLS=$((KILLS + 1))
    fi
    NEXT_KILL=$((NEXT_KILL + KILL_EVERY))
  fi
done
wait $LOAD || true
cp "$WORK/load.jsonl" "$OUT/load.jsonl"
ls -d "$WORK"/n*/log >/dev/null 2>&1 || echo "note: no log/ directory under the data dirs; raftlog_mb is empty" | tee -a "$OUT/run.txt"
python3 bench/soak-report.py "$OUT" "$MIN" "$RATE" "$MAX" "$KILLS" "$(git rev-parse --short HEAD)"
