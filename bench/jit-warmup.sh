#!/usr/bin/env bash
# How long a fresh 3-node RaftKv cluster keeps JIT-compiling under load: a 64-client etcd put load at the leader for
# DUR seconds (default 60), and every 5 s each node's JIT counters from /metrics (methods compiled so far, seconds
# spent in the JIT so far: the runtime's dotnet.jit.compiled_methods / dotnet.jit.compilation.time). Both are
# counts, far steadier on a shared machine than throughput. bench_build ships ReadyToRun publishes (bench/out/); for
# the JIT-only build run it with SERVER_DLL=src/RaftKv.Server/bin/Release/net10.0/raftkv.dll (after
# `dotnet build -c Release src/RaftKv.Server`). RKV_ENV="VAR=VALUE ..." adds server settings (e.g. DOTNET_TieredPGO=0).
# Usage: bench/jit-warmup.sh [DUR]           SKIP_BUILD=1 reuses the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-60}
. bench/lib.sh
bench_binaries
WORK=$(mktemp -d /tmp/raftkv-jit-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM
raftkv_ports 3
# shellcheck disable=SC2086 # RKV_ENV is a list of VAR=VALUE words
start_raftkv_cluster "$WORK" ${RKV_ENV:-}
LEADER=$(wait_leader "$RKV_EPS") || { echo "no leader" >&2; exit 1; }
echo "commit $COMMIT; server $SERVER; ${RKV_ENV:-default settings}; leader $LEADER"
jit() { curl -sf "http://127.0.0.1:$(http_port "$1")/metrics" | awk '
  $1 == "system_runtime_dotnet_jit_compiled_methods_total" { m = $2 }
  $1 == "system_runtime_dotnet_jit_compilation_time_total" { t = $2 }
  END { printf "%6d %6.2f", m, t }'; }
printf "%5s | %s\n" "t(s)" "node1 methods, JIT s | node2 | node3"
printf "%5s | %s | %s | %s\n" 0 "$(jit 1)" "$(jit 2)" "$(jit 3)"
$BENCH put --target etcd --endpoints "$LEADER" --clients 64 --duration "$DUR" --warmup 1 > "$WORK/bench.txt" 2>&1 &
BP=$!
for t in $(seq 5 5 "$DUR"); do
  sleep 5
  printf "%5s | %s | %s | %s\n" "$t" "$(jit 1)" "$(jit 2)" "$(jit 3)"
done
wait $BP || true
tail -1 "$WORK/bench.txt"
