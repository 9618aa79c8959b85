#!/usr/bin/env bash
# The cost of TLS and of auth (issue #16): the same load on fresh RaftKv nodes in three modes, in rotating
# order each round:
#   plain     plaintext gRPC, auth off
#   tls       gRPC over TLS (server certificate from scripts/gen-certs.sh, verified by the client; with
#             NODES=3 also mutual TLS between Raft peers and on forwarding); auth off
#   tls+auth  tls, plus etcd auth enabled (user root, AUTH_TOKEN=$AUTH_TOKEN): raftkv-bench --user
#             authenticates once per mode (in the first warm-up; measured runs reuse the token through
#             --token-file, as a long-lived client does) and sends the token with every request
# Cells: put and linearizable get at 16 and 64 clients, through etcd's v3 API by default (API=raftkv for the
# native one), at the leader. Prints one line per cell, then the medians per (mode, workload, clients) and
# the ratios tls/plain, tls+auth/tls (auth alone) and tls+auth/plain (both; target >= 0.85), with the load
# average seen during the run, and the servers' CPU time (user+system) per request of each mode, which a noisy
# shared machine disturbs less than throughput. With UPDATE=1 rewrites the "security-cost-<NODES>" section of BENCHMARKS.md.
# Usage: bench/security-cost.sh [ROUNDS (default 3)] [NODES 1|3 (default 1)]
# Env: DUR (measured s per cell, default 8), WORKLOADS (default "put get"), CLIENTS (default "16 64"), CONNS (HTTP/2
#      connections the clients share, raftkv-bench --conns; default 0 = one per client), WARM (unrecorded warm-up s per cell, default 10: a fresh node JITs for seconds), API (etcd|raftkv),
#      AUTH_TOKEN (jwt|simple, default jwt), AUTH_USER (root, or app: the load runs as user "bench" whose role may
#      read and write the bench's keys, prefix "000", as an application's user would — every request then checks
#      its key against the role's permissions; default root), UPDATE (1 = write BENCHMARKS.md),
#      SYSTEM (raftkv, or etcd: the same three modes on etcd 3.4 — HTTPS for clients, mutual TLS between peers,
#      auth with etcd's default simple tokens — for a reference on the same machine; section "security-cost-etcd-<NODES>"),
#      LOADGEN (raftkv-bench, the default, or etcd-benchmark: the measured run of each cell is etcd's own `benchmark`
#      tool — grpc-go, as etcdctl and clientv3 — given in ETCD_BENCHMARK, see bench/etcd-benchmark.sh; --conns as
#      CONNS, default one per client; it authenticates once per connection before its timed run, which the servers'
#      CPU column of tls+auth then includes; the warm-up stays raftkv-bench's, which also sizes the run to ~DUR s).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}; NODES=${2:-1}; DUR=${DUR:-8}; WARM=${WARM:-10}; API=${API:-etcd}; TOKEN_KIND=${AUTH_TOKEN:-jwt}; SYSTEM=${SYSTEM:-raftkv}
WORKLOADS=${WORKLOADS:-put get}; CLIENTS=${CLIENTS:-16 64}; CONNS=${CONNS:-0}; AUTH_USER=${AUTH_USER:-root}
[ "$AUTH_USER" = root ] || [ "$AUTH_USER" = app ] || { echo "AUTH_USER must be root or app" >&2; exit 2; }
conns=(); [ "$CONNS" = 0 ] || conns=(--conns "$CONNS")
[ "$SYSTEM" = raftkv ] || [ "$SYSTEM" = etcd ] || { echo "SYSTEM must be raftkv or etcd" >&2; exit 2; }
[ "$SYSTEM" = raftkv ] || API=etcd
[ "$NODES" = 1 ] || [ "$NODES" = 3 ] || { echo "NODES must be 1 or 3" >&2; exit 2; }
LOADGEN=${LOADGEN:-raftkv-bench}
case $LOADGEN in
  raftkv-bench) ;;
  etcd-benchmark) [ -x "${ETCD_BENCHMARK:-}" ] && [ "$API" = etcd ] || { echo "LOADGEN=etcd-benchmark needs ETCD_BENCHMARK (bench/etcd-benchmark.sh) and API=etcd" >&2; exit 2; } ;;
  *) echo "LOADGEN must be raftkv-bench or etcd-benchmark" >&2; exit 2 ;;
esac
. bench/lib.sh
ETCDCTL=$(tests/etcd/ensure-etcdctl.sh)
[ "$SYSTEM" = raftkv ] || ensure_etcd
bench_binaries
PW="bench-Root-pw-$$"
WORK=$(mktemp -d /tmp/raftkv-seccost-XXXX)
scripts/gen-certs.sh "$WORK/certs" raftkv1 raftkv2 raftkv3 >/dev/null
OUT="$WORK/cells.tsv"; : > "$OUT"
# go_cell WORKLOAD ENDPOINT CLIENTS WARMUP_JSON: one measured run of etcd's benchmark tool, sized from the warm-up's
# rate to last ~DUR s; prints a JSON line like raftkv-bench's --json (nothing if the tool failed).
go_cell() {
  local w=$1 ep=$2 c=$3 total args=() out
  total=$(python3 -c 'import json,sys
try: r = json.loads(sys.argv[1])["ops_per_sec"]
except (ValueError, KeyError): r = 1000
print(max(1000, int(r * float(sys.argv[2]))))' "$4" "$DUR")
  args=(--endpoints "$ep" --clients "$c" --conns "$([ "$CONNS" = 0 ] && echo "$c" || echo "$CONNS")" --precise ${go_tls[@]+"${go_tls[@]}"} ${go_user[@]+"${go_user[@]}"})
  case $w in
    put) out=$("$ETCD_BENCHMARK" "${args[@]}" put --key-size 8 --key-space-size 100000 --val-size 256 --total "$total" 2>&1) || return 0 ;;
    get) out=$("$ETCD_BENCHMARK" "${args[@]}" range 00000001 --consistency l --total "$total" 2>&1) || return 0 ;;
  esac
  python3 bench/etcd-benchmark-result.py "workload=$w" "clients=$c" "requests=$total" <<<"$out"
}
server_cpu() { local t=0 p; for p in "${PIDS[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; } # clock ticks
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

for r in $(seq 1 "$ROUNDS"); do
  modes=(plain tls tls+auth)
  case $((r % 3)) in 2) modes=(tls tls+auth plain);; 0) modes=(tls+auth plain tls);; esac
  for mode in "${modes[@]}"; do
    D="$WORK/r$r-$mode"; mkdir -p "$D"
    read -r -a P <<< "$(free_ports $((3 * NODES)))" # raft, http, grpc of node i at P[3(i-1)], +1, +2
    raft() { echo "${P[$((3 * ($1 - 1)))]}"; }; http() { echo "${P[$((3 * ($1 - 1) + 1))]}"; }; grpc() { echo "${P[$((3 * ($1 - 1) + 2))]}"; }
    PEERS=""; [ "$NODES" = 1 ] || for i in $(seq 1 "$NODES"); do PEERS="$PEERS${PEERS:+,}$i=127.0.0.1:$(raft $i)"; done
    scheme=http; CURL_ARGS=(); tls_bench=(); etcd_tls=(); go_tls=(); go_user=()
    if [ "$mode" != plain ]; then
      scheme=https; CURL_ARGS=(--cacert "$WORK/certs/ca.pem"); tls_bench=(--cacert "$WORK/certs/ca.pem"); etcd_tls=(--cacert "$WORK/certs/ca.pem")
      go_tls=(--cacert "$WORK/certs/ca.pem")
    fi
    if [ "$SYSTEM" = etcd ]; then
      # etcd 3.4 on the same ports: client port = grpc(i), peer port = raft(i); with TLS, HTTPS for clients
      # (server certificate, as RaftKv's) and mutual TLS between peers (as RaftKv's Raft transport).
      cluster=""; for i in $(seq 1 "$NODES"); do cluster="$cluster${cluster:+,}e$i=$scheme://127.0.0.1:$(raft $i)"; done
      for i in $(seq 1 "$NODES"); do
        tls_args=()
        [ "$mode" != plain ] && tls_args=(--cert-file "$WORK/certs/raftkv$i.pem" --key-file "$WORK/certs/raftkv$i-key.pem"
          --peer-cert-file "$WORK/certs/raftkv$i.pem" --peer-key-file "$WORK/certs/raftkv$i-key.pem" --peer-trusted-ca-file "$WORK/certs/ca.pem" --peer-client-cert-auth)
        "$ETCD" --name "e$i" --data-dir "$D/e$i" --listen-client-urls "$scheme://127.0.0.1:$(grpc $i)" --advertise-client-urls "$scheme://127.0.0.1:$(grpc $i)" \
          --listen-peer-urls "$scheme://127.0.0.1:$(raft $i)" --initial-advertise-peer-urls "$scheme://127.0.0.1:$(raft $i)" \
          --initial-cluster "$cluster" --initial-cluster-state new --quota-backend-bytes 8589934592 "${tls_args[@]}" > "$D/n$i.log" 2>&1 &
        PIDS+=($!)
      done
    else
      for i in $(seq 1 "$NODES"); do
        env_args=(NODE_ID=$i RAFT_PORT=$(raft $i) HTTP_PORT=$(http $i) GRPC_PORT=$(grpc $i) DATA_DIR="$D/n$i" BIND_HOST=127.0.0.1 ADVERTISE_HOST=127.0.0.1 AUTH_TOKEN="$TOKEN_KIND")
        [ -n "$PEERS" ] && env_args+=(PEERS="$PEERS")
        [ "$mode" != plain ] && env_args+=(TLS_CERT_FILE="$WORK/certs/raftkv$i.pem" TLS_KEY_FILE="$WORK/certs/raftkv$i-key.pem" TLS_CA_FILE="$WORK/certs/ca.pem")
        start_raftkv "$D/n$i.log" "${env_args[@]}"
      done
      urls=(); for i in $(seq 1 "$NODES"); do urls+=("$scheme://127.0.0.1:$(http $i)/health/ready"); done
      wait_ready "${urls[@]}" || { echo "round $r $mode: nodes not ready" >&2; tail -20 "$D"/n*.log >&2; exit 1; }
    fi
    eps=""; for i in $(seq 1 "$NODES"); do eps="$eps${eps:+,}127.0.0.1:$(grpc $i)"; done # bare: etcdctl 3.4 uses TLS when given --cacert
    # The leader's endpoint (asked before auth is on): etcd's Status answers member_id == leader there.
    ep=$(LEADER_ERR="$D/etcdctl.err" LEADER_TRIES=60 wait_leader "$eps" ${etcd_tls[@]+"${etcd_tls[@]}"}) \
      || { echo "round $r $mode: no leader" >&2; tail -3 "$D/etcdctl.err" "$D"/n*.log >&2; exit 1; }
    user=()
    if [ "$mode" = tls+auth ]; then
      ETCDCTL_API=3 "$ETCDCTL" --endpoints="$ep" "${etcd_tls[@]}" user add "root:$PW" --interactive=false >/dev/null
      [ "$SYSTEM" = raftkv ] || ETCDCTL_API=3 "$ETCDCTL" --endpoints="$ep" "${etcd_tls[@]}" user grant-role root root >/dev/null # etcd 3.4 refuses auth enable otherwise
      user=(--user "root:$PW" --token-file "$D/token") # the warm-up authenticates; measured runs reuse its token
      go_user=(--user "root:$PW")
      if [ "$AUTH_USER" = app ]; then
        # keys are --key-size 8 decimal digits of --key-space 100000: all start with "000"
        for cmd in "role add bench" "role grant-permission bench readwrite 000 --prefix=true" "user add bench:$PW --interactive=false" "user grant-role bench bench"; do
          # shellcheck disable=SC2086 # word splitting of the command is intended
          ETCDCTL_API=3 "$ETCDCTL" --endpoints="$ep" "${etcd_tls[@]}" $cmd >/dev/null
        done
        user=(--user "bench:$PW" --token-file "$D/token")
        go_user=(--user "bench:$PW")
      fi
      ETCDCTL_API=3 "$ETCDCTL" --endpoints="$ep" "${etcd_tls[@]}" auth enable >/dev/null
    fi
    for w in $WORKLOADS; do
      for c in $CLIENTS; do
        warm=$($BENCH "$w" --target "$API" --endpoints "$ep" --clients "$c" --duration "$WARM" --warmup 1 --json ${conns[@]+"${conns[@]}"} "${tls_bench[@]}" "${user[@]}" 2>/dev/null | tail -1) || warm='{}'
        cpu0=$(server_cpu)
        if [ "$LOADGEN" = etcd-benchmark ]; then
          line=$(go_cell "$w" "$ep" "$c" "$warm"); [ -n "$line" ] || line='{}'
        else
          line=$($BENCH "$w" --target "$API" --endpoints "$ep" --clients "$c" --duration "$DUR" --warmup 0 --no-preload --json ${conns[@]+"${conns[@]}"} "${tls_bench[@]}" "${user[@]}" 2>/dev/null | tail -1) || line='{}'
        fi
        cpu1=$(server_cpu)
        python3 - "$line" "$mode" "$r" "$(cut -d' ' -f1 /proc/loadavg)" "$((cpu1 - cpu0))" "$(getconf CLK_TCK)" >> "$OUT" <<'PY'
import json, sys
try:
    d = json.loads(sys.argv[1]); d["ops_per_sec"]
except (ValueError, KeyError):
    sys.exit(0)  # the bench process failed: no sample for this cell
cpu_us = int(sys.argv[5]) * 1e6 / int(sys.argv[6]) / max(d["requests"], 1)  # the servers' user+system CPU per request
print(f"{sys.argv[2]}\t{d['workload']}\t{d['clients']}\t{sys.argv[3]}\t{d['ops_per_sec']:.0f}\t{d['p50_ms']:.2f}\t{d['p99_ms']:.2f}\t{d['errors']}\t{sys.argv[4]}\t{cpu_us:.0f}")
PY
        tail -1 "$OUT"
      done
    done
    stop_all
  done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$OUT" > "$WORK/table.md" <<'PY'
import sys, statistics as st
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
cells, loads = {}, []
for mode, w, c, r, ops, p50, p99, err, load, cpu in rows:
    cells.setdefault((w, int(c)), {}).setdefault(mode, []).append((float(ops), float(p50), float(p99), int(err), float(cpu)))
    loads.append(float(load))
print("| workload | clients | plain ops/s | TLS ops/s | TLS+auth ops/s | TLS / plain | TLS+auth / TLS (auth) | TLS+auth / plain (both) | server CPU µs/op plain, TLS, TLS+auth | p50 / p99 ms plain, TLS, TLS+auth | runs | errors |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for w in ["put", "get"]:
    for c in [16, 64]:
        m = cells.get((w, c))
        if not m: continue
        med = {k: [st.median(x[i] for x in v) for i in (0, 1, 2, 4)] for k, v in m.items()}
        p, t, a = (med.get(k, [0, 0, 0, 0]) for k in ("plain", "tls", "tls+auth"))
        ratio = lambda x, y: f"{x / y:.2f}" if y else "-"
        name = "get (linearizable)" if w == "get" else w
        print(f"| {name} | {c} | {p[0]:.0f} | {t[0]:.0f} | {a[0]:.0f} | {ratio(t[0], p[0])} | {ratio(a[0], t[0])} | {ratio(a[0], p[0])} | {p[3]:.0f}, {t[3]:.0f}, {a[3]:.0f} | "
              f"{p[1]:.2f} / {p[2]:.2f}, {t[1]:.2f} / {t[2]:.2f}, {a[1]:.2f} / {a[2]:.2f} | "
              f"{'/'.join(str(len(m.get(k, []))) for k in ('plain', 'tls', 'tls+auth'))} | {sum(x[3] for v in m.values() for x in v)} |")
print(f"\nLoad average (1 min) sampled after each cell: median {st.median(loads):.2f}, min {min(loads):.2f}, max {max(loads):.2f}.")
PY
echo
cat "$WORK/table.md"
echo "load average at start: $LOAD_START, at end: $LOAD_END"
if [ "${UPDATE:-0}" = 1 ]; then
  python3 - "$WORK/table.md" "$ROUNDS" "$NODES" "$DUR" "$WARM" "$API" "$TOKEN_KIND" "$COMMIT" "$LOAD_START" "$LOAD_END" "$SYSTEM" "$CONNS" "$AUTH_USER" <<'PY'
import re, sys, datetime
table, rounds, nodes, dur, warm, api, kind, commit, l0, l1 = open(sys.argv[1]).read(), *sys.argv[2:11]
system, conns, auth_user = sys.argv[11], sys.argv[12], sys.argv[13]
tag = (f"security-cost-{nodes}" if system == "raftkv" else f"security-cost-etcd-{nodes}") + ("" if auth_user == "root" else f"-{auth_user}")
what = ("one node" if nodes == "1" else "a 3-node loopback cluster (at the leader)") + ("" if system == "raftkv" else ", etcd 3.4 for reference")
section = (f"<!-- {tag}:start -->\n### {what.capitalize()}\n\nRun {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, commit {commit}: "
           f"`{'' if system == 'raftkv' else 'SYSTEM=etcd '}{'' if conns == '0' else f'CONNS={conns} '}{'' if auth_user == 'root' else f'AUTH_USER={auth_user} '}DUR={dur} WARM={warm} API={api} AUTH_TOKEN={kind} bench/security-cost.sh {rounds} {nodes}` ({dur} s per cell after a "
           f"{warm} s unrecorded warm-up; medians of {rounds} rounds, modes in rotating order, a fresh data directory per mode; "
           f"8 B keys, 256 B values; fsync on; load average at start {l0}, at end {l1}):\n\n{table}<!-- {tag}:end -->")
path = "BENCHMARKS.md"
text = open(path).read()
if f"<!-- {tag}:start -->" in text:
    text = re.sub(rf"<!-- {tag}:start -->.*<!-- {tag}:end -->", lambda m: section, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
  echo "BENCHMARKS.md updated ($NODES node(s))"
fi
