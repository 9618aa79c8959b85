#!/usr/bin/env bash
# What an idle 3-node cluster does to the disk and the CPU. One system at a time (SYSTEMS="etcd raftkv" by default): a
# 3-member etcd 3.4 or a 3-node RaftKv (ReadyToRun build) on loopback gets 200 puts through etcd's v3 API, settles SETTLE s
# (default 75: past RaftKv's time-based snapshot of the last writes, taken 60 s after the previous one), then sits idle for
# IDLE s (default 60) while `perf stat` counts the members' fsync/fdatasync and write/pwrite64 calls and the block device
# holding the data directory counts the sectors written (/sys/block/DEV/stat: the whole machine's writes to that device,
# so run it on an otherwise quiet machine; /proc/PID/io's write_bytes is not used: on this VM it charged ~1 MB to every
# fdatasync of one page). Prints per system the sums over the members and per minute, and their CPU time.
# RKV_ENV="VAR=VALUE ..." adds server settings; TTL=1 also writes one key with a 1-hour TTL through RaftKv's native HTTP
# API (its idle leader then ticks: the logical clock must pass the expiry). Needs perf (linux-perf) and root.
# SKIP_BUILD=1 reuses the last build; SERVER_DLL=PATH runs another server build.
# Usage: bench/idle-io.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
command -v perf >/dev/null || { echo "perf is missing (apt-get install linux-perf)" >&2; exit 2; }
SETTLE=${SETTLE:-75}; IDLE=${IDLE:-60}; SYSTEMS=${SYSTEMS:-etcd raftkv}
bench_binaries
ensure_etcd
WORK=$(mktemp -d /tmp/raftkv-idle-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM
DEV=$(lsblk -no PKNAME "$(df "$WORK" | awk 'NR == 2 {print $1}')" 2>/dev/null | head -1)
DEV=${DEV:-$(basename "$(df "$WORK" | awk 'NR == 2 {print $1}')")}
sectors() { awk '{print $7}' "/sys/block/$DEV/stat"; }
HZ=$(getconf CLK_TCK)
echo "Idle ${IDLE} s after ${SETTLE} s of settling, one system at a time (200 puts each; server $SERVER, commit $COMMIT; ${RKV_ENV:+RaftKv settings: $RKV_ENV; }${TTL:+one RaftKv key with a 1-hour TTL; }$ETCD_VERSION; device $DEV), three members each:"
echo "| system | fsync + fdatasync | write + pwrite64 calls | KiB written to $DEV (whole machine) | CPU ms | per minute: syncs, KiB written, CPU ms |"
echo "|---|---|---|---|---|---|"
for s in $SYSTEMS; do
  raftkv_ports 3 6
  if [ "$s" = etcd ]; then
    start_etcd_cluster "$WORK" "${EXTRA_PORTS[@]}"; EP=$(wait_leader "$ETCD_EPS")
  else
    # shellcheck disable=SC2086 # RKV_ENV is a list of VAR=VALUE words
    start_raftkv_cluster "$WORK" ${RKV_ENV:-}; EP=$(wait_leader "$RKV_EPS")
  fi
  $BENCH put --target etcd --endpoints "$EP" --clients 4 --total 200 --warmup 0 >/dev/null 2>&1
  if [ "$s" = raftkv ] && [ -n "${TTL:-}" ]; then
    curl -sf -X PUT "http://127.0.0.1:$(http_port 1)/kv/idle-ttl?ttl=3600" --data-binary v >/dev/null
  fi
  sleep "$SETTLE"
  sync
  w0=$(sectors); c0=$(cpu_ticks "${PIDS[@]}")
  perf stat -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,syscalls:sys_enter_write,syscalls:sys_enter_pwrite64 \
    -p "$(IFS=,; echo "${PIDS[*]}")" -o "$WORK/$s.txt" -- sleep "$IDLE" >/dev/null 2>&1
  sync
  w=$(( ($(sectors) - w0) / 2 )); c=$(( ($(cpu_ticks "${PIDS[@]}") - c0) * 1000 / HZ ))
  python3 - "$WORK/$s.txt" "$s" "$w" "$c" "$IDLE" <<'PY'
import re, sys
counts = {}
for line in open(sys.argv[1]):
    m = re.match(r'\s*([\d,]+)\s+syscalls:sys_enter_(\w+)', line)
    if m:
        counts[m.group(2)] = int(m.group(1).replace(',', ''))
syncs = counts.get('fsync', 0) + counts.get('fdatasync', 0)
writes = counts.get('write', 0) + counts.get('pwrite64', 0)
kib, cpu, k = int(sys.argv[3]), int(sys.argv[4]), 60 / float(sys.argv[5])
print(f"| {sys.argv[2]} | {syncs} | {writes} | {kib} | {cpu} | {syncs * k:.1f}, {kib * k:.0f}, {cpu * k:.0f} |")
PY
  stop_all
  rm -rf "${WORK:?}"/*
done
