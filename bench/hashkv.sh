#!/usr/bin/env bash
# Server CPU per `etcdctl endpoint hashkv` (etcd's Maintenance.HashKV) on a single RaftKv node holding N keys:
# utime+stime of the server process (from /proc/PID/stat) around K hashkv calls, divided by K, at the current
# revision and at a past one (before 10% of the keys were overwritten), RUNS times each; prints the medians.
# The load: raftkv-bench load of N keys (256-byte values, one client: the same bytes every run, so two builds must
# print the same hash at the current revision) through etcd's API, then the first N/10 keys again.
# Usage: bench/hashkv.sh [N] [K] [RUNS]        (defaults 200000 3 3)
#   SKIP_BUILD=1 reuses the Release build; SERVER_DLL=path/raftkv.dll runs another build of the server (an A/B of
#   two builds); RKV_ENV="VAR=VALUE ..." adds server settings.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}; K=${2:-3}; RUNS=${3:-3}

. bench/lib.sh
bench_binaries
CLK=$(getconf CLK_TCK)

WORK=$(mktemp -d /tmp/raftkv-hashkv-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM

raftkv_ports 1
# shellcheck disable=SC2086
start_raftkv_cluster "$WORK" ${RKV_ENV:-}
EP=$(wait_leader "$RKV_EPS") || { echo "no leader" >&2; exit 1; }
PID=${PIDS[0]}
echo "server $SERVER pid $PID; $N keys, $K calls per run, $RUNS runs; ${RKV_ENV:-default settings}"

revision() { ETCDCTL_API=3 etcdctl --endpoints="$EP" endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])'; }

$BENCH load --target etcd --endpoints "$EP" --key-space "$N" --clients 1 --json >/dev/null 2>&1
PAST=$(revision)
$BENCH load --target etcd --endpoints "$EP" --key-space "$((N / 10))" --clients 1 --json >/dev/null 2>&1
CUR=$(revision)
echo "past revision $PAST, current revision $CUR"

# Both revisions must answer the same hash on every call (and differ from each other).
hash_at() { ETCDCTL_API=3 etcdctl --endpoints="$EP" --command-timeout=600s endpoint hashkv --rev="$1" -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["HashKV"]["hash"])'; }
printf "%-8s %10s %12s %14s\n" at revision hash "CPU ms/call"
for label in current past; do
  rev=$CUR; [ "$label" = past ] && rev=$PAST
  samples=()
  for _ in $(seq 1 "$RUNS"); do
    before=$(cpu_ticks "$PID")
    for _ in $(seq 1 "$K"); do h=$(hash_at "$rev"); done
    after=$(cpu_ticks "$PID")
    samples+=("$(( (after - before) * 1000 / CLK ))")
  done
  python3 - "$label" "$rev" "$h" "$K" "${samples[@]}" <<'PY'
import statistics, sys
label, rev, h, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ms = [int(x) / k for x in sys.argv[5:]]
print(f"{label:<8} {rev:>10} {h:>12} {statistics.median(ms):14.1f}   (runs: {' '.join(f'{x:.1f}' for x in ms)})")
PY
done
