#!/usr/bin/env bash
# A/B of two (or more) server builds, driven by etcd's own load generator (`benchmark`, grpc-go; see
# bench/etcd-benchmark.sh for how it was built): for each build in alternating order, a fresh 3-node RaftKv cluster on
# loopback, a warm-up of 2×N puts at 16 clients, then one cell per client count at its leader; per cell requests/s,
# p50/p99 and the CPU time (user+system) per request of the leader and of the three servers together.
# Usage: ETCD_BENCHMARK=/path/to/benchmark bench/ab-builds.sh SERVER_DLL...
#   e.g. bench/ab-builds.sh /tmp/perf-base/server/raftkv.dll /tmp/perf-new/server/raftkv.dll
#   (each a `dotnet publish -c Release -p:PublishReadyToRun=true src/RaftKv.Server -o DIR` of one commit)
# Env: W=put|range (range = linearizable get of one 40-byte value; default put), CLIENTS (default "16 64"),
#      CONNS (connections per cell; default one per client), N (requests per cell, default 30000), ROUNDS (default 2),
#      RKV_ENV="VAR=VALUE ..." (server settings for every build).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] && [ -x "${ETCD_BENCHMARK:-}" ] || { sed -n 2,11p "$0"; exit 2; }
. bench/lib.sh
ROUNDS=${ROUNDS:-2}; N=${N:-30000}
trap stop_all EXIT INT TERM
for r in $(seq 1 "$ROUNDS"); do
  for build in "$@"; do
    WORK=$(mktemp -d /tmp/raftkv-abb-XXXX)
    raftkv_ports 3
    SERVER=$build
    # shellcheck disable=SC2086 # RKV_ENV is a list of VAR=VALUE words
    start_raftkv_cluster "$WORK" ${RKV_ENV:-}
    EP=$(wait_leader "$RKV_EPS")
    i=0; for e in ${RKV_EPS//,/ }; do [ "$e" = "$EP" ] && L=${PIDS[$i]}; i=$((i + 1)); done # node i's process is PIDS[i-1]
    ALL="${PIDS[*]}"
    "$ETCD_BENCHMARK" --endpoints "$EP" --clients 16 --conns 16 put --key-size 8 --key-space-size 100000 --val-size 256 --total $((N * 2)) >/dev/null 2>&1
    if [ "${W:-put}" = put ]; then wl=(put --key-size 8 --key-space-size 100000 --val-size 256)
    else etcdctl --endpoints "$EP" put bench-key "$(head -c 40 /dev/zero | tr '\0' v)" >/dev/null; wl=(range bench-key --consistency l); fi
    for C in ${CLIENTS:-16 64}; do
      t0=$(cpu_ticks "$L"); a0=$(cpu_ticks $ALL)
      out=$("$ETCD_BENCHMARK" --endpoints "$EP" --clients "$C" --conns "${CONNS:-$C}" --precise "${wl[@]}" --total "$N" 2>&1)
      t1=$(cpu_ticks "$L"); a1=$(cpu_ticks $ALL)
      read -r rps p50 p99 < <(python3 bench/etcd-benchmark-result.py <<<"$out" \
        | python3 -c 'import json, sys; [print("%.0f %g %g" % (d["ops_per_sec"], d["p50_ms"], d["p99_ms"])) for d in map(json.loads, sys.stdin)]')
      tick=$((1000000 / $(getconf CLK_TCK)))
      echo "round $r, $build, ${W:-put} x$C: $rps req/s, p50 $p50 ms, p99 $p99 ms; CPU µs/request leader $(( (t1 - t0) * tick / N )), servers $(( (a1 - a0) * tick / N )); load $(cut -d' ' -f1 /proc/loadavg)"
    done
    stop_all; rm -rf "$WORK"
  done
done
