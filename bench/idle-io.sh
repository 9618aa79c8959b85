#!/usr/bin/env bash
# What an idle 3-node cluster does to the disk and the CPU: a 3-node RaftKv (ReadyToRun build) and a 3-member etcd 3.4 on
# loopback each get 200 puts through etcd's v3 API, settle for SETTLE s (default 75: past RaftKv's time-based snapshot of
# the last writes, taken 60 s after the previous one), then sit idle for IDLE s (default 60) while `perf stat` counts every
# member's fsync/fdatasync calls and write system calls and /proc/PID/io its bytes written to storage. Prints per system:
# the sums over the members and per minute, and the CPU time they used. RKV_ENV="VAR=VALUE ..." adds server settings;
# TTL=1 also writes one key with a 1-hour TTL through RaftKv's native HTTP API (its idle leader then ticks: the logical
# clock must pass the expiry). Needs perf (linux-perf) and root. SKIP_BUILD=1 reuses the last build.
# Usage: bench/idle-io.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
command -v perf >/dev/null || { echo "perf is missing (apt-get install linux-perf)" >&2; exit 2; }
SETTLE=${SETTLE:-75}; IDLE=${IDLE:-60}
bench_binaries
ensure_etcd
WORK=$(mktemp -d /tmp/raftkv-idle-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM
raftkv_ports 3 6
start_etcd_cluster "$WORK" "${EXTRA_PORTS[@]}"
ETCD_PIDS=("${PIDS[@]}")
# shellcheck disable=SC2086 # RKV_ENV is a list of VAR=VALUE words
start_raftkv_cluster "$WORK" ${RKV_ENV:-}
RKV_PIDS=("${PIDS[@]:3}")
EEP=$(wait_leader "$ETCD_EPS"); REP=$(wait_leader "$RKV_EPS")
$BENCH put --target etcd --endpoints "$EEP" --clients 4 --total 200 --warmup 0 >/dev/null 2>&1
$BENCH put --target etcd --endpoints "$REP" --clients 4 --total 200 --warmup 0 >/dev/null 2>&1
if [ -n "${TTL:-}" ]; then
  curl -sf -X PUT "http://127.0.0.1:$(http_port 1)/kv/idle-ttl?ttl=3600" --data-binary v >/dev/null
fi
sleep "$SETTLE"
io() { local p t=0; for p in "$@"; do t=$((t + $(awk '/^write_bytes/ {print $2}' "/proc/$p/io"))); done; echo $t; }
declare -A W0 C0
for s in etcd raftkv; do
  if [ $s = etcd ]; then set -- "${ETCD_PIDS[@]}"; else set -- "${RKV_PIDS[@]}"; fi
  W0[$s]=$(io "$@"); C0[$s]=$(cpu_ticks "$@")
done
perf stat -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,syscalls:sys_enter_write,syscalls:sys_enter_pwrite64 \
  -p "$(IFS=,; echo "${ETCD_PIDS[*]}")" -o "$WORK/etcd.txt" -- sleep "$IDLE" >/dev/null 2>&1 &
E=$!
perf stat -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,syscalls:sys_enter_write,syscalls:sys_enter_pwrite64 \
  -p "$(IFS=,; echo "${RKV_PIDS[*]}")" -o "$WORK/raftkv.txt" -- sleep "$IDLE" >/dev/null 2>&1
wait $E
HZ=$(getconf CLK_TCK)
echo "Idle ${IDLE} s after ${SETTLE} s of settling (200 puts each; commit $COMMIT; ${RKV_ENV:+RaftKv settings: $RKV_ENV; }${TTL:+one RaftKv key with a 1-hour TTL; }$ETCD_VERSION), three members each:"
echo "| system | fsync + fdatasync | write + pwrite64 calls | bytes written to storage | CPU ms | per minute: syncs, KiB written, CPU ms |"
echo "|---|---|---|---|---|---|"
for s in etcd raftkv; do
  if [ $s = etcd ]; then set -- "${ETCD_PIDS[@]}"; else set -- "${RKV_PIDS[@]}"; fi
  w=$(( $(io "$@") - W0[$s] )); c=$(( ($(cpu_ticks "$@") - C0[$s]) * 1000 / HZ ))
  python3 - "$WORK/$s.txt" "$s" "$w" "$c" "$IDLE" <<'PY'
import re, sys
counts = {}
for line in open(sys.argv[1]):
    m = re.match(r'\s*([\d,]+)\s+syscalls:sys_enter_(\w+)', line)
    if m:
        counts[m.group(2)] = int(m.group(1).replace(',', ''))
syncs = counts.get('fsync', 0) + counts.get('fdatasync', 0)
writes = counts.get('write', 0) + counts.get('pwrite64', 0)
w, c, idle = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
k = 60 / idle
print(f"| {sys.argv[2]} | {syncs} | {writes} | {w} | {c} | {syncs * k:.1f}, {w * k / 1024:.1f}, {c * k:.0f} |")
PY
done
