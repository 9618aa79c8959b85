#!/usr/bin/env bash
# Bytes each server writes to disk per put (write amplification), RaftKv vs etcd 3.4, through etcd's v3 API.
# A fresh 3-node cluster per system (RaftKv: this checkout's Release build; etcd: /usr/bin/etcd, fsync on), an
# unrecorded warm-up of small puts (WARM seconds, 16 clients), then WORKLOAD (default large: 64 KiB values over
# 100 k keys) for DUR seconds at the leader with raftkv-bench --target etcd; each server's write_bytes from
# /proc/PID/io (bytes its writes sent to the block layer: Raft log / WAL, tables / bbolt pages, snapshots) is read
# before and after, and the sectors the block device under the data wrote meanwhile. Prints one line per system and cell: put/s, and bytes written per put per member, as MB and
# as multiples of the value size. On a disk-bound workload this, not CPU, sets throughput (BENCHMARKS.md, "64 KiB
# values through etcd's API").
# Usage: bench/write-amp.sh [DUR] [CLIENTS...]        (defaults 15 and "16 64")
#   SYSTEMS="raftkv etcd" (default) picks the systems; WORKLOAD=large|put; WARM=S (default 8); SKIP_BUILD=1 reuses
#   the Release build; SERVER_DLL=path/raftkv.dll runs another build of the server (an A/B).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

DUR=${1:-15}
shift || true
CLIENTS=("${@:-16 64}")
read -r -a CLIENTS <<< "${CLIENTS[*]}"
SYSTEMS=${SYSTEMS:-raftkv etcd}
WORKLOAD=${WORKLOAD:-large}
WARM=${WARM:-8}
VALUE_BYTES=$([ "$WORKLOAD" = large ] && echo 65536 || echo 256)

bench_binaries
ensure_etcd
DIR=$(mktemp -d /tmp/write-amp.XXXXXX)
trap 'stop_all; rm -rf "$DIR"' EXIT INT TERM # GBs of cluster data per run: never left behind

written() { local p; for p in "${PIDS[@]}"; do awk '/^write_bytes/ {print $2}' "/proc/$p/io"; done; }
# The block device under DIR: sectors written by the whole machine (one system runs at a time). /proc/PID/io's
# write_bytes charged ~0.5-1 MB to each fdatasync of a one-page append on this VM (BENCHMARKS.md, "An idle cluster"),
# so the device's count is printed next to it.
DEV=$(lsblk -no PKNAME "$(df "$DIR" | awk 'NR == 2 {print $1}')" 2>/dev/null | head -1)
DEV=${DEV:-$(basename "$(df "$DIR" | awk 'NR == 2 {print $1}')")}
sectors() { sync; awk '{print $7}' "/sys/block/$DEV/stat"; }

cell() { # SYSTEM CLIENTS: a fresh cluster, warm-up, one measured cell
  local system=$1 clients=$2 ep before after result
  stop_all
  rm -rf "${DIR:?}/$system"; mkdir -p "$DIR/$system"
  if [ "$system" = etcd ]; then
    read -r -a ports <<< "$(free_ports 6)"
    start_etcd_cluster "$DIR/$system" "${ports[@]}"
    wait_leader "$ETCD_EPS" >/dev/null
    ep=$(leader_of "$ETCD_EPS")
  else
    raftkv_ports 3
    start_raftkv_cluster "$DIR/$system"
    for i in 1 2 3; do wait_ready "http://127.0.0.1:$(http_port "$i")/health/ready"; done
    wait_leader "$RKV_EPS" >/dev/null
    ep=$(leader_of "$RKV_EPS")
  fi
  $BENCH put --target etcd --endpoints "$ep" --clients 16 --duration "$WARM" --warmup 1 >/dev/null 2>&1 || true
  before=$(written | tr '\n' ' ')
  s0=$(sectors)
  result=$($BENCH "$WORKLOAD" --target etcd --endpoints "$ep" --clients "$clients" --duration "$DUR" --warmup 1 --json 2>/dev/null | tail -1)
  after=$(written | tr '\n' ' ')
  s1=$(sectors)
  python3 - "$system" "$clients" "$VALUE_BYTES" "$result" "$before" "$after" "$(( (s1 - s0) * 512 ))" <<'EOF'
import json, sys
system, clients, value, result, before, after = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5].split(), sys.argv[6].split()
n = max(result["requests"], 1)
per = [(int(b) - int(a)) / n for a, b in zip(before, after)]
device = int(sys.argv[7]) / n / 3
print(f"{system:7} clients {clients:>3}  {result['ops_per_sec']:8.1f} put/s  errors {result['errors']}  "
      f"bytes written per put per member: {', '.join(f'{p / 1e6:.2f} MB ({p / value:.1f}x value)' for p in per)}; "
      f"device (whole machine / 3): {device / 1e6:.2f} MB ({device / value:.1f}x value)")
EOF
}

echo "commit $COMMIT, workload $WORKLOAD, ${DUR}s per cell, warm-up ${WARM}s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for c in "${CLIENTS[@]}"; do
  for system in $SYSTEMS; do
    cell "$system" "$c"
  done
done
