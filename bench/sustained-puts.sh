#!/usr/bin/env bash
# A sustained put load on a fresh 3-node cluster through etcd's v3 API at the leader (raftkv-bench --target etcd, 8 B
# keys over a 100 k key space, 256 B values, no preload), long enough for the LSM to grow levels: every 10 s it
# prints put/s and the servers' CPU µs per put of that window; at the end, per member, the bytes the storage
# engine's flushes wrote and its compactions read and wrote per put (/stats: flush_bytes_written,
# compaction_bytes_read, compaction_bytes_written — counts, not timings, so they do not depend on the machine's
# load), its value-file bytes and bytes per level. Compaction bytes grow with the data set (each level deeper
# multiplies them), which a 10 s benchmark cell never shows.
# Usage: bench/sustained-puts.sh [DURATION_S] [CLIENTS]     (defaults 240 and 64)
#   RKV_ENV="VAR=VALUE ..." adds server settings (an A/B of one build, e.g. RKV_ENV=HISTORY_VALUE_FILE_MIN_BYTES=0);
#   SYSTEM=etcd runs a 3-member etcd 3.4 the same way (put/s and CPU only); SKIP_BUILD=1 reuses the Release build;
#   SERVER_DLL=path/raftkv.dll runs another build of the server.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-240}; CLIENTS=${2:-64}; SYSTEM=${SYSTEM:-raftkv}

. bench/lib.sh
bench_binaries
[ "$SYSTEM" = raftkv ] || ensure_etcd
CLK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/raftkv-sustained-XXXX)
trap 'stop_all; rm -rf "$WORK"' EXIT INT TERM

# shellcheck disable=SC2086
start_system "$WORK" ${RKV_ENV:-}
LEADER=$(wait_leader "$EPS") || { echo "no leader" >&2; exit 1; }
echo "$SYSTEM, commit $COMMIT, ${RKV_ENV:-default settings}; $CLIENTS clients for $DUR s at $LEADER"

$BENCH put --target etcd --endpoints "$LEADER" --clients "$CLIENTS" --duration "$DUR" --warmup 0 --no-preload > "$WORK/bench.out" 2>&1 &
BP=$!
prev=$(cpu_ticks "${PIDS[@]}"); t=0
while kill -0 "$BP" 2>/dev/null; do
  sleep 10; t=$((t + 10))
  now=$(cpu_ticks "${PIDS[@]}")
  # raftkv-bench prints one "[etcd put xN]   Ts   R ops/s" progress record per second
  ops=$(grep -o '\] *[0-9]*s *[0-9]* ops/s' "$WORK/bench.out" | awk -v a=$((t - 9)) -v b=$t '{s = $2 + 0; if (s >= a && s <= b) o += $3} END {print o + 0}')
  [ "$ops" -gt 0 ] && printf "t=%4d s  put/s %6d  servers' CPU µs/put %5d\n" "$t" $((ops / 10)) $(((now - prev) * 1000000 / CLK / ops))
  prev=$now
done
wait "$BP" || true
tail -2 "$WORK/bench.out"
total=$(awk '$1 == "etcd" && $2 == "put" {print $4}' "$WORK/bench.out")
[ -n "$total" ] && [ "$total" -gt 0 ] || { echo "no puts completed" >&2; exit 1; }
echo "servers' CPU µs per put over the whole run: $(($(cpu_ticks "${PIDS[@]}") * 1000000 / CLK / total))"
[ "$SYSTEM" = raftkv ] || exit 0
for i in 1 2 3; do
  curl -sf "http://127.0.0.1:$(http_port "$i")/stats" | python3 -c '
import json, sys
d, n, i = json.load(sys.stdin), int(sys.argv[1]), sys.argv[2]
print("node %s, bytes per put: flush %.0f, compaction read %.0f, compaction written %.0f; value files %d MB, disk %d MB, bytes per level %s"
      % (i, d["flush_bytes_written"] / n, d["compaction_bytes_read"] / n, d["compaction_bytes_written"] / n,
         d["blob_bytes"] >> 20, d["disk_size_bytes"] >> 20, d["bytes_per_level"]))' "$total" "$i"
done
