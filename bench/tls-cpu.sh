#!/usr/bin/env bash
# CPU per request of TLS (issue #16), one node by default: a fresh node (or cluster) per mode (plain = plaintext gRPC; tls = gRPC over
# TLS, server certificate from scripts/gen-certs.sh verified by the client; mtls = tls plus CLIENT_CERT_AUTH, the
# bench presenting the client certificate; raftkv only), etcd v3 API, no auth, driven by
# raftkv-bench. Per cell it prints the server's CPU (user+system from /proc/PID/stat) per request and the load
# generator's, both as the difference between a run of OPS and a run of 3×OPS requests (so neither the bench
# process's start-up and JIT nor the connections' handshakes count: what remains is the steady per-request cost).
# CPU per request is what a shared 2-core machine disturbs least; throughput ≈ 1 / (server + bench CPU per op).
# Usage: bench/tls-cpu.sh [OPS (default 20000)] [CLIENTS (default 16)] [NODES 1|3 (default 1)]
#   With NODES=3 (raftkv only) the Raft peers use mutual TLS in mode tls, the bench drives the leader, and "server
#   µs" is the three nodes together (the leader's own share in parentheses).
# Env: MODES ("plain tls"), WORKLOADS ("get put"), SYSTEM (raftkv | etcd: etcd 3.4 with HTTPS clients, the
#      reference), SKIP_BUILD=1 (reuse the Release build), RKV_ENV ("VAR=VALUE ..." extra server settings),
#      BENCH_ARGS (extra raftkv-bench options), PERF=DIR (perf record -g of the server during the 3×OPS run of each
#      cell into DIR/<mode>-<workload>.data; the server runs with DOTNET_PerfMapEnabled=1), WARM (s, default 8).
set -euo pipefail
cd "$(dirname "$0")/.."
OPS=${1:-20000}; CLIENTS=${2:-16}; NODES=${3:-1}; MODES=${MODES:-plain tls}; WORKLOADS=${WORKLOADS:-get put}; SYSTEM=${SYSTEM:-raftkv}
. bench/lib.sh
bench_binaries
[ "$SYSTEM" = raftkv ] || ensure_etcd
CLK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/raftkv-tlscpu-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM
scripts/gen-certs.sh "$WORK/certs" raftkv1 raftkv2 raftkv3 >/dev/null

# One bench run of N requests; prints "server_ticks bench_ticks requests".
run() {
  local n=$1 t0 t1 l0 l1 out
  t0=$(cpu_ticks "${PIDS[@]}"); l0=$(cpu_ticks "$SPID")
  # shellcheck disable=SC2086
  out=$( { /usr/bin/time -f "BENCHCPU %U %S" $BENCH "$W" --target etcd --endpoints "$EP" --clients "$CLIENTS" --total "$n" --duration 600 --warmup 0 --no-preload --json "${tls[@]}" ${BENCH_ARGS:-}; } 2>&1 )
  t1=$(cpu_ticks "${PIDS[@]}"); l1=$(cpu_ticks "$SPID")
  echo "$((t1 - t0)) $((l1 - l0)) $(echo "$out" | awk -v clk="$CLK" '/^BENCHCPU/ {printf "%d", ($2 + $3) * clk}') $(echo "$out" | grep '^{' | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')"
}

printf "%-6s %-6s %-4s %7s | %10s %10s %10s\n" system mode work clients "server µs" "bench µs" "total µs"
for MODE in $MODES; do
  read -r -a P <<< "$(free_ports $((3 * NODES)))"
  tls=(); scheme=http
  [ "$MODE" = plain ] || { tls=(--cacert "$WORK/certs/ca.pem"); scheme=https; }
  [ "$MODE" = mtls ] && tls+=(--cert "$WORK/certs/client.pem" --key "$WORK/certs/client-key.pem")
  D="$WORK/$MODE"; mkdir -p "$D"
  if [ "$SYSTEM" = etcd ]; then
    targs=(); [ "$MODE" = plain ] || targs=(--cert-file "$WORK/certs/raftkv1.pem" --key-file "$WORK/certs/raftkv1-key.pem")
    "$ETCD" --name e1 --data-dir "$D/e1" --listen-client-urls "$scheme://127.0.0.1:${P[2]}" --advertise-client-urls "$scheme://127.0.0.1:${P[2]}" \
      --listen-peer-urls "http://127.0.0.1:${P[0]}" --initial-advertise-peer-urls "http://127.0.0.1:${P[0]}" \
      --initial-cluster "e1=http://127.0.0.1:${P[0]}" --quota-backend-bytes 8589934592 "${targs[@]}" > "$D/n1.log" 2>&1 &
    PIDS+=($!)
  else
    peers=""; [ "$NODES" = 1 ] || for i in $(seq 1 "$NODES"); do peers="$peers${peers:+,}$i=127.0.0.1:${P[$((3 * (i - 1)))]}"; done
    for i in $(seq 1 "$NODES"); do
      env_args=(NODE_ID="$i" RAFT_PORT="${P[$((3 * (i - 1)))]}" HTTP_PORT="${P[$((3 * (i - 1) + 1))]}" GRPC_PORT="${P[$((3 * (i - 1) + 2))]}" DATA_DIR="$D/n$i" BIND_HOST=127.0.0.1 ADVERTISE_HOST=127.0.0.1)
      [ -n "$peers" ] && env_args+=(PEERS="$peers")
      [ -n "${PERF:-}" ] && env_args+=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
      [ "$MODE" = plain ] || env_args+=(TLS_CERT_FILE="$WORK/certs/raftkv$i.pem" TLS_KEY_FILE="$WORK/certs/raftkv$i-key.pem" TLS_CA_FILE="$WORK/certs/ca.pem")
      [ "$MODE" = mtls ] && env_args+=(CLIENT_CERT_AUTH=true)
      # shellcheck disable=SC2086
      start_raftkv "$D/n$i.log" "${env_args[@]}" ${RKV_ENV:-}
    done
  fi
  eps=""; for i in $(seq 1 "$NODES"); do eps="$eps${eps:+,}127.0.0.1:${P[$((3 * (i - 1) + 2))]}"; done
  EP=$(LEADER_TRIES=240 wait_leader "$eps" ${tls[@]+"${tls[@]}"}) || { echo "$MODE: no leader" >&2; tail -20 "$D/n1.log" >&2; exit 1; }
  SPID=${PIDS[0]}; for i in $(seq 1 "$NODES"); do [ "${P[$((3 * (i - 1) + 2))]}" = "${EP##*:}" ] && SPID=${PIDS[$((i - 1))]}; done
  for W in $WORKLOADS; do
    # shellcheck disable=SC2086
    $BENCH "$W" --target etcd --endpoints "$EP" --clients "$CLIENTS" --duration "${WARM:-8}" --warmup 1 "${tls[@]}" ${BENCH_ARGS:-} >/dev/null 2>&1 || true
    read -r s1 l1 b1 n1 <<< "$(run "$OPS")"
    [ -n "${PERF:-}" ] && { mkdir -p "$PERF"; perf record -F 999 -g -p "$(IFS=,; echo "${PIDS[*]}")" -o "$PERF/$MODE-$W.data" >/dev/null 2>&1 & PERFPID=$!; }
    read -r s3 l3 b3 n3 <<< "$(run $((3 * OPS)))"
    [ -n "${PERF:-}" ] && { kill -INT "$PERFPID"; wait "$PERFPID" || true; }
    python3 - "$SYSTEM" "$MODE" "$W" "$CLIENTS" "$CLK" "$s1" "$b1" "$n1" "$s3" "$b3" "$n3" "$l1" "$l3" "$NODES" <<'PY'
import sys
system, mode, w, c, clk = sys.argv[1:6]
s1, b1, n1, s3, b3, n3, l1, l3 = (int(x) for x in sys.argv[6:14])
n, clk = max(n3 - n1, 1), int(clk)
s, b, l = (s3 - s1) / clk * 1e6 / n, (b3 - b1) / clk * 1e6 / n, (l3 - l1) / clk * 1e6 / n
lead = f" (leader {l:.1f})" if sys.argv[14] != "1" else ""
print(f"{system:<6} {mode:<6} {w:<4} {c:>7} | {s:10.1f} {b:10.1f} {s + b:10.1f}{lead}   (server {s1}/{s3} ticks, bench {b1}/{b3}, requests {n1}/{n3}, load {open('/proc/loadavg').read().split()[0]})")
PY
  done
  stop_all
done
