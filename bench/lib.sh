# Shell functions the bench scripts share. Source it from the repository root, after `set -euo pipefail`:
#   cd "$(dirname "$0")/.."; . bench/lib.sh
# Processes a script starts through start_raftkv / start_etcd are recorded in the array PIDS, which stop_all
# (a trap on EXIT, typically) kills and reaps. Nothing here picks fixed ports: the machine is shared.
#
#   bench_build                        ReadyToRun Release publishes of raftkv and raftkv-bench into bench/out/ (as
#                                      the Dockerfile ships the server); sets SERVER, BENCH, COMMIT
#   bench_binaries                     bench_build, or with SKIP_BUILD=1 the newer of the last one (bench/out/) and
#                                      the plain bin/Release builds; SERVER_DLL=PATH runs another server build (an A/B)
#   ensure_etcd                        etcd 3.4 (Debian etcd-server, apt-get as root) when `etcd` is missing, and
#                                      etcdctl (etcd-client) when that is; sets ETCD (its path) and ETCD_VERSION
#   free_ports N                       prints N free loopback TCP ports, space-separated
#   start_raftkv LOG VAR=VALUE...      a raftkv node with these settings in the background, output to LOG
#   raftkv_ports N [M]                 picks free ports for an N-node cluster on loopback: raft_port I, http_port I,
#                                      grpc_port I print node I's; sets RKV_N, RKV_PEERS (1=127.0.0.1:raft,...),
#                                      RKV_EPS (the nodes' gRPC host:port, comma-separated) and the array
#                                      EXTRA_PORTS (M more free ports, distinct from those, e.g. for etcd)
#   start_raftkv_cluster DIR [VAR=VALUE...]
#                                      the RKV_N nodes of raftkv_ports: node I with data DIR/nI, output DIR/nI.log,
#                                      these settings ("{i}" in one = the node's number) and its ports, peers,
#                                      BIND_HOST and ADVERTISE_HOST 127.0.0.1
#   start_etcd LOG NAME DIR CLIENT_PORT PEER_PORT INITIAL_CLUSTER
#                                      one etcd member on loopback (fsync on, 8 GiB quota) in the background
#   start_etcd_cluster DIR PORT...     a 3-member etcd: member I (e1..e3) with client port PORT[2(I-1)], peer port
#                                      PORT[2(I-1)+1], data DIR/etcdI, output DIR/etcdI.log; sets ETCD_EPS (the
#                                      members' client host:port, comma-separated)
#   wait_ready URL...                  until every URL answers 2xx (curl -sf with the array CURL_ARGS, e.g.
#                                      --cacert); READY_TRIES half-seconds (default 240); status 1 if not
#   leader_of ENDPOINTS [ARG...]       the endpoint (host:port) whose etcd Status says it leads, or "" (etcdctl
#                                      $ETCDCTL, default etcdctl on PATH, with ARGs such as --cacert; its
#                                      stderr appended to $LEADER_ERR, default /dev/null)
#   wait_leader ENDPOINTS [ARG...]     leader_of until one leads, LEADER_TRIES half-seconds (default 120);
#                                      status 1 if none
#   stop_pid PID [SIGNAL]              stops one process (SIGTERM unless SIGNAL), reaps it, drops it from PIDS
#   stop_all                           kill -9 every process in PIDS, reaps them; PIDS=()

PIDS=()

# bench_binaries: SKIP_BUILD=1 reuses the last bench_build (leaving other engineers' build servers alone), else
# bench_build; SERVER_DLL=PATH runs another server build (e.g. main's, for an A/B). Sets SERVER, BENCH, COMMIT.
bench_binaries() {
  if [ -n "${SKIP_BUILD:-}" ]; then
    # The newer of the last bench_build (bench/out/) and a plain `dotnet build -c Release` (bin/Release): never a stale one.
    if [ -f bench/out/server/raftkv.dll ] && [ -f bench/out/bench/raftkv-bench.dll ] \
      && ! [ src/RaftKv.Server/bin/Release/net10.0/raftkv.dll -nt bench/out/server/raftkv.dll ]; then
      SERVER=bench/out/server/raftkv.dll
      BENCH="dotnet bench/out/bench/raftkv-bench.dll"
    else
      SERVER=src/RaftKv.Server/bin/Release/net10.0/raftkv.dll
      BENCH="dotnet src/RaftKv.Bench/bin/Release/net10.0/raftkv-bench.dll"
    fi
    echo "bench: $SERVER, $BENCH (SKIP_BUILD)" >&2
    COMMIT=$(git rev-parse --short HEAD)
  else
    bench_build
  fi
  SERVER=${SERVER_DLL:-$SERVER}
}

# cpu_ticks PID...: the processes' user + system CPU time so far, in clock ticks (getconf CLK_TCK per second;
# /proc/PID/stat fields 14 and 15 — the fields after "(comm)" have no spaces for our processes).
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }

# ReadyToRun (precompiled) publishes, as the Dockerfile builds the server: a JIT-only build compiles ~20,000 methods
# per node in its first minute under load (BENCHMARKS.md "Start-up JIT"), on the cores a benchmark's cells measure.
# The load generator is precompiled too: it shares the cores with the systems it measures, alike for every target.
bench_build() {
  dotnet publish -c Release --use-current-runtime --self-contained false -p:PublishReadyToRun=true src/RaftKv.Server -o bench/out/server -v q >/dev/null
  dotnet publish -c Release --use-current-runtime --self-contained false -p:PublishReadyToRun=true src/RaftKv.Bench -o bench/out/bench -v q >/dev/null
  dotnet build-server shutdown >/dev/null 2>&1 || true # idle build servers' file watchers skew a 2-core machine
  SERVER=bench/out/server/raftkv.dll
  BENCH="dotnet bench/out/bench/raftkv-bench.dll"
  COMMIT=$(git rev-parse --short HEAD)
}

ensure_etcd() {
  command -v etcd >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server >/dev/null; }
  command -v etcdctl >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-client >/dev/null; }
  ETCD=$(command -v etcd)
  ETCD_VERSION=$("$ETCD" --version 2>/dev/null | sed -n 1p) # sed reads everything: no SIGPIPE under pipefail
}

free_ports() {
  python3 -c 'import socket,sys
ss=[socket.socket() for _ in range(int(sys.argv[1]))]
[s.bind(("127.0.0.1", 0)) for s in ss]; print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

start_raftkv() {
  local log=$1; shift
  env "$@" dotnet "$SERVER" > "$log" 2>&1 &
  PIDS+=($!)
}

raftkv_ports() {
  local i
  read -r -a RKV_P <<< "$(free_ports $((3 * $1 + ${2:-0})))"
  EXTRA_PORTS=("${RKV_P[@]:$((3 * $1))}"); RKV_P=("${RKV_P[@]:0:$((3 * $1))}")
  RKV_N=$1; RKV_PEERS=""; RKV_EPS=""
  for i in $(seq 1 "$1"); do
    RKV_PEERS="$RKV_PEERS${RKV_PEERS:+,}$i=127.0.0.1:$(raft_port "$i")"; RKV_EPS="$RKV_EPS${RKV_EPS:+,}127.0.0.1:$(grpc_port "$i")"
  done
}
raft_port() { echo "${RKV_P[$((3 * ($1 - 1)))]}"; }
http_port() { echo "${RKV_P[$((3 * ($1 - 1) + 1))]}"; }
grpc_port() { echo "${RKV_P[$((3 * ($1 - 1) + 2))]}"; }

start_raftkv_cluster() {
  local dir=$1 i a args; shift
  for i in $(seq 1 "$RKV_N"); do
    args=(); for a in "$@"; do args+=("${a//\{i\}/$i}"); done
    start_raftkv "$dir/n$i.log" ${args[@]+"${args[@]}"} NODE_ID="$i" PEERS="$RKV_PEERS" RAFT_PORT="$(raft_port "$i")" HTTP_PORT="$(http_port "$i")" \
      GRPC_PORT="$(grpc_port "$i")" DATA_DIR="$dir/n$i" BIND_HOST=127.0.0.1 ADVERTISE_HOST=127.0.0.1
  done
}

# start_system DIR [VAR=VALUE...]: a 3-member cluster of $SYSTEM in DIR — raftkv (default; this build, with the settings
# given) or etcd (etcd 3.4, ensure_etcd first) — and EPS = the members' client endpoints, comma-separated.
start_system() {
  local dir=$1; shift
  if [ "${SYSTEM:-raftkv}" = etcd ]; then
    raftkv_ports 0 6 # etcd member i's client port EXTRA_PORTS[2(i-1)], peer port EXTRA_PORTS[2(i-1)+1]
    start_etcd_cluster "$dir" "${EXTRA_PORTS[@]}"
    EPS=$ETCD_EPS
  else
    raftkv_ports 3
    start_raftkv_cluster "$dir" "$@"
    EPS=$RKV_EPS
  fi
}

start_etcd() {
  local log=$1 name=$2 dir=$3 cport=$4 pport=$5 cluster=$6
  "${ETCD:-etcd}" --name "$name" --data-dir "$dir" --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "$cluster" --initial-cluster-state new --quota-backend-bytes 8589934592 > "$log" 2>&1 &
  PIDS+=($!)
}

start_etcd_cluster() {
  local dir=$1 i cl=""; shift
  local ports=("$@")
  ETCD_EPS=""
  for i in 1 2 3; do
    cl="$cl${cl:+,}e$i=http://127.0.0.1:${ports[$((2 * i - 1))]}"; ETCD_EPS="$ETCD_EPS${ETCD_EPS:+,}127.0.0.1:${ports[$((2 * i - 2))]}"
  done
  for i in 1 2 3; do
    start_etcd "$dir/etcd$i.log" "e$i" "$dir/etcd$i" "${ports[$((2 * i - 2))]}" "${ports[$((2 * i - 1))]}" "$cl"
  done
}

wait_ready() {
  local u ok
  for _ in $(seq 1 "${READY_TRIES:-240}"); do
    ok=1
    for u in "$@"; do curl -sf ${CURL_ARGS[@]+"${CURL_ARGS[@]}"} "$u" >/dev/null || { ok=""; break; }; done
    [ -n "$ok" ] && return 0
    sleep 0.5
  done
  return 1
}

leader_of() {
  local eps=$1; shift
  ETCDCTL_API=3 "${ETCDCTL:-etcdctl}" --endpoints="$eps" "$@" endpoint status -w json 2>>"${LEADER_ERR:-/dev/null}" \
    | python3 -c 'import json,sys; print(next((e["Endpoint"].split("://")[-1] for e in json.load(sys.stdin) if e["Status"]["header"]["member_id"] == e["Status"]["leader"]), ""))' 2>/dev/null || true
}

wait_leader() {
  local ep=""
  for _ in $(seq 1 "${LEADER_TRIES:-120}"); do
    ep=$(leader_of "$@")
    [ -n "$ep" ] && { echo "$ep"; return 0; }
    sleep 0.5
  done
  return 1
}

stop_pid() {
  local pid=$1 keep=() p
  kill "-${2:-TERM}" "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in ${PIDS[@]+"${PIDS[@]}"}; do [ "$p" = "$pid" ] || keep+=("$p"); done
  PIDS=(${keep[@]+"${keep[@]}"})
}

stop_all() {
  local p
  for p in ${PIDS[@]+"${PIDS[@]}"}; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  PIDS=()
}
