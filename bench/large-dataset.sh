#!/usr/bin/env bash
# Data sets larger than local disk (issue #18): load DATA_GB of data — at least 10 × DISK_MAX_SIZE_GB — into a
# single RaftKv node with S3 tiering on (a throwaway Ceph RGW on loopback), then run uniform and Zipfian
# (YCSB's scrambled Zipfian, theta 0.99) linearizable gets over the WHOLE key space; then the same data set
# into a single etcd 3.4 member (quota 8 GiB, its recommended maximum; it stops at the quota if the data set
# does not fit) and the same gets. One system runs at a time (RGW is stopped before etcd starts).
#
# Reported per system: load throughput; local disk used (the data directory: SSTables + what archived tables
# keep locally + Raft log, resp. bbolt + WAL + snapshots) at peak during the load and at the end; local bytes per
# stored byte (local disk ÷ key+value bytes loaded); RSS per million keys; per distribution, get throughput and
# p50/p99, for RaftKv split by the tier that answered (memory, disk, object — RaftKv's native API reports it per
# key; "object" = an archived table, its block either fetched from S3 or cached locally) and RGW's GET count
# during the run ÷ object-tier gets (S3 requests per cold get; RGW's own perf counters, `rgw.get`). RaftKv's
# gets are measured twice: through its native API (tiers) and through etcd's v3 API (the same client as etcd).
#
# Usage: bench/large-dataset.sh [quick|full]     (default quick)
#   quick: DISK_MAX_SIZE_GB=0.05, 0.5 GiB loaded, MEMORY_MAX_SIZE_MB=16  (19-20 min on the shared 2-core machine at
#          load 12-30, 2026-12-03: 1 min loading RaftKv, up to SETTLE_S + COMPACT_S waiting for compaction/archiving,
#          2 min of RaftKv gets, 3-4 min for etcd)
#   full:  DISK_MAX_SIZE_GB=0.5,  5 GiB loaded,   MEMORY_MAX_SIZE_MB=64  (13 min on 2026-12-08 at load 10-17: 2.5 min
#          loading RaftKv, its settle time, 1.5 min of RaftKv gets, 2 min loading etcd; etcd needs ~13 GiB of disk and RAM)
# Env overrides: DISK_GB, DATA_GB, MEM_MB, VALUE_SIZE (4096), KEY_SIZE (16), BATCH (32 puts per txn),
#   LOAD_CLIENTS (8), CLIENTS (16 get clients), DUR (get seconds per cell, 20), SETTLE_S (60: archiving alone after the
#   load), COMPACT_S (240: full compaction + archiving, only if still over the limit), SKIP_ETCD=1,
#   RAFTKV_RGW_ROOT (Ceph unpacked by tests/s3/ensure-rgw.sh; default .s3/ceph of this checkout).
# Writes the "large-dataset-<profile>" section of BENCHMARKS.md and keeps the raw results under
# bench/results/large-dataset-<profile>-<date>/ (results.jsonl, samples.csv, summary.md).
# Needs: dotnet, python3, curl, etcd + etcdctl (Debian etcd-server/etcd-client 3.4), Ceph RGW.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${1:-quick}
case "$PROFILE" in
  quick) : "${DISK_GB:=0.05}" "${DATA_GB:=0.5}" "${MEM_MB:=16}" ;;
  full)  : "${DISK_GB:=0.5}" "${DATA_GB:=5}" "${MEM_MB:=64}" ;;
  *) sed -n 2,24p "$0"; exit 2 ;;
esac
VALUE_SIZE=${VALUE_SIZE:-4096}; KEY_SIZE=${KEY_SIZE:-16}; BATCH=${BATCH:-32}; LOAD_CLIENTS=${LOAD_CLIENTS:-8}
CLIENTS=${CLIENTS:-16}; DUR=${DUR:-20}
KEYS=$(python3 -c "print(int($DATA_GB * 2**30) // ($KEY_SIZE + $VALUE_SIZE))")
RATIO=$(python3 -c "print(round($DATA_GB / $DISK_GB, 1))")

. bench/lib.sh
ensure_etcd
RGW_ROOT=${RAFTKV_RGW_ROOT:-$(bash tests/s3/ensure-rgw.sh)}
bench_build
OUT=bench/results/large-dataset-$PROFILE-$(date -u +%Y%m%d-%H%M)
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/raftkv-large-XXXX)
RESULTS=$OUT/results.jsonl; : > "$RESULTS"
SAMPLES=$OUT/samples.csv; echo "system,phase,t,rss_bytes,disk_bytes" > "$SAMPLES"

SAMPLER=""; RGW_STATE=$WORK/rgw
cleanup() {
  local rc=$?
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  stop_all
  [ -d "$RGW_STATE" ] && bash tests/s3/stop-rgw.sh "$RGW_STATE" >/dev/null 2>&1 || true
  if [ "$rc" -ne 0 ]; then # a failed run keeps its node logs (the data directories are too large to keep)
    cp "$WORK"/*.log "$OUT"/ 2>/dev/null || true
    echo "large-dataset.sh failed (exit $rc); node logs kept in $OUT" >&2
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
record() { # system phase json-line [extra python dict]
  python3 -c "import json,sys; r=json.loads(sys.argv[3]); r.update({'system':sys.argv[1],'phase':sys.argv[2]}); r.update(json.loads(sys.argv[4])); print(json.dumps(r))" "$1" "$2" "$3" "${4:-"{}"}" >> "$RESULTS"
}
rss() { awk '/VmRSS/{print $2*1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
disk() { du -sb "$1" 2>/dev/null | cut -f1 || echo 0; }
sample_loop() { # system phase pid dir: every 2 s, RSS and disk use (peaks for the report)
  local t0; t0=$(date +%s)
  while kill -0 "$3" 2>/dev/null; do echo "$1,$2,$(( $(date +%s) - t0 )),$(rss "$3"),$(disk "$4")" >> "$SAMPLES"; sleep 2; done
}
start_sampler() { sample_loop "$@" & SAMPLER=$!; }
stop_sampler() { kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""; }
rgw_counters() { # prints {"get":n,"req":n,"get_b":n} from RGW's perf counters
  ( export LD_LIBRARY_PATH=$RGW_ROOT/usr/lib/x86_64-linux-gnu:$RGW_ROOT/lib/x86_64-linux-gnu:$RGW_ROOT/usr/lib/x86_64-linux-gnu/ceph PYTHONPATH=$RGW_ROOT/usr/lib/python3/dist-packages
    "$RGW_ROOT/usr/bin/ceph" --admin-daemon "$RGW_STATE/run/ceph-client.rgw.a.asok" perf dump 2>/dev/null ) \
    | python3 -c 'import json,sys; r=json.load(sys.stdin)["rgw"]; print(json.dumps({"get": r["get"], "req": r["req"], "get_b": r["get_b"]}))'
}
echo "profile $PROFILE: $KEYS keys × ($KEY_SIZE B key + $VALUE_SIZE B value) = $DATA_GB GiB, DISK_MAX_SIZE_GB=$DISK_GB (${RATIO}×), MEMORY_MAX_SIZE_MB=$MEM_MB; gets: $CLIENTS clients × $DUR s" | tee "$OUT/run.txt"

local_bytes() { curl -sf "127.0.0.1:$HTTP/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["disk_size_bytes"] + s["archived_metadata_bytes"])'; }
load_into() { # SYSTEM PID DIR ENDPOINT: the bulk load through etcd's API, RSS and disk sampled; recorded as "SYSTEM load"
  local line
  start_sampler "$1" load "$2" "$3"
  line=$($BENCH load --target etcd --endpoints "$4" --key-space "$KEYS" --key-size "$KEY_SIZE" --value-size "$VALUE_SIZE" --batch "$BATCH" --clients "$LOAD_CLIENTS" --json 2>>"$OUT/bench.err" | tail -1)
  stop_sampler
  echo "$1 load: $line"
  record "$1" load "$line"
}
get_cell() { # TARGET ENDPOINT KEY_SPACE DISTRIBUTION: one measured get cell; prints raftkv-bench's JSON line
  $BENCH get --target "$1" --endpoints "$2" --skip-load --key-space "$3" --key-size "$KEY_SIZE" --distribution "$4" --clients "$CLIENTS" --duration "$DUR" --warmup 0 --json 2>>"$OUT/bench.err" | tail -1
}
warm_up() { # TARGET ENDPOINT KEY_SPACE: 5 s of unrecorded gets (JIT)
  $BENCH get --target "$1" --endpoints "$2" --skip-load --key-space "$3" --key-size "$KEY_SIZE" --clients "$CLIENTS" --duration 5 --warmup 0 >/dev/null 2>&1 || true
}
archive_until() { # DEADLINE MIGRATE_TIMEOUT_S PAUSE_S: archiver passes until the node's local tables fit DISK_MAX_SIZE_GB, or the deadline
  while [ "$(date +%s)" -lt "$1" ]; do
    [ "$(local_bytes)" -le "$LIMIT" ] && break
    curl -sf --max-time "$2" -X POST "127.0.0.1:$HTTP/admin/migrate" >/dev/null 2>&1 || true; sleep "$3"
  done
}
record machine start "{}" "{\"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
# ---------------------------------------------------------------- RaftKv + RGW
read -r RGW_PORT MON_PORT HTTP GRPC RAFT <<< "$(free_ports 5)"
MON_PORT=$MON_PORT bash tests/s3/start-rgw.sh "$RGW_ROOT" "$RGW_STATE" "$RGW_PORT" >/dev/null
start_raftkv "$WORK/raftkv.log" NODE_ID=1 RAFT_PORT="$RAFT" HTTP_PORT="$HTTP" GRPC_PORT="$GRPC" DATA_DIR="$WORK/raftkv" BIND_HOST=127.0.0.1 ADVERTISE_HOST=127.0.0.1 \
  MEMORY_MAX_SIZE_MB="$MEM_MB" DISK_MAX_SIZE_GB="$DISK_GB" S3_ENDPOINT="http://127.0.0.1:$RGW_PORT" S3_BUCKET=raftkv-large \
  S3_ACCESS_KEY="${S3_ACCESS_KEY:-testaccess}" S3_SECRET_KEY="${S3_SECRET_KEY:-testsecret123}"
RKV=${PIDS[-1]}
wait_ready "127.0.0.1:$HTTP/health/ready" || { echo "RaftKv did not become ready" >&2; tail -20 "$WORK/raftkv.log" >&2; exit 1; }
EP=127.0.0.1:$GRPC

load_into raftkv "$RKV" "$WORK/raftkv" "$EP"
# Give the archiver (a pass every 30 s; one more on demand every 10 s here) up to SETTLE_S seconds to bring local
# tables under DISK_MAX_SIZE_GB. Compaction may keep pulling archived tables back meanwhile (they overlap every new
# table): the report says whether the node got under the limit before the gets started.
curl -sf -X POST "127.0.0.1:$HTTP/admin/flush" >/dev/null || true
start_sampler raftkv settle "$RKV" "$WORK/raftkv"
LIMIT=$(python3 -c "print(int($DISK_GB * 2**30))")
archive_until $(( $(date +%s) + ${SETTLE_S:-60} )) 10 10
stop_sampler
curl -sf "127.0.0.1:$HTTP/stats" > "$OUT/raftkv-stats-after-load.json"
record raftkv settled "{}" "{\"rss_bytes\": $(rss "$RKV"), \"disk_bytes\": $(disk "$WORK/raftkv"), \"stats\": $(cat "$OUT/raftkv-stats-after-load.json")}"
# Still over the limit (compaction merges every new table with the archived ones, which it downloads and rewrites
# locally: MVCC's reserved records make every table span the whole key space): compact fully once — the bulk-import
# recipe — then archive until under the limit (or COMPACT_S seconds), so the gets read a node in its tiered steady state.
if ! python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["disk_size_bytes"] + s["archived_metadata_bytes"] <= int(sys.argv[2]) else 1)' "$OUT/raftkv-stats-after-load.json" "$LIMIT"; then
  start_sampler raftkv compact "$RKV" "$WORK/raftkv"
  t0=$(date +%s)
  curl -sf --max-time "${COMPACT_S:-240}" -X POST "127.0.0.1:$HTTP/admin/compact" >/dev/null 2>&1 || true
  t1=$(date +%s)
  archive_until $(( t0 + ${COMPACT_S:-240} )) 60 2
  t2=$(date +%s)
  stop_sampler
  curl -sf "127.0.0.1:$HTTP/stats" > "$OUT/raftkv-stats-after-compact.json"
  record raftkv compacted "{}" "{\"rss_bytes\": $(rss "$RKV"), \"disk_bytes\": $(disk "$WORK/raftkv"), \"compact_s\": $((t1 - t0)), \"archive_s\": $((t2 - t1)), \"stats\": $(cat "$OUT/raftkv-stats-after-compact.json")}"
fi

# Unrecorded warm-up (JIT), then the measured cells; RGW's counters around each native-API cell.
for target in raftkv etcd; do warm_up $target "$EP" "$KEYS"; done
for dist in uniform zipf; do
  before=$(rgw_counters)
  line=$(get_cell raftkv "$EP" "$KEYS" $dist)
  after=$(rgw_counters)
  echo "raftkv native get $dist: $line"
  record raftkv "get-native-$dist" "$line" "{\"rgw_before\": $before, \"rgw_after\": $after, \"rss_bytes\": $(rss "$RKV")}"
  line=$(get_cell etcd "$EP" "$KEYS" $dist)
  echo "raftkv etcd-api get $dist: $line"
  record raftkv "get-etcdapi-$dist" "$line" "{\"rss_bytes\": $(rss "$RKV")}"
done
curl -sf "127.0.0.1:$HTTP/stats" > "$OUT/raftkv-stats-end.json"
record raftkv end "{}" "{\"rss_bytes\": $(rss "$RKV"), \"disk_bytes\": $(disk "$WORK/raftkv"), \"stats\": $(cat "$OUT/raftkv-stats-end.json")}"
stop_pid "$RKV"
bash tests/s3/stop-rgw.sh "$RGW_STATE" >/dev/null 2>&1 || true
rm -rf "$WORK/raftkv" "$RGW_STATE"

# ---------------------------------------------------------------- etcd (same data set, up to its quota)
if [ "${SKIP_ETCD:-0}" != 1 ]; then
  read -r ECL EPR <<< "$(free_ports 2)"
  start_etcd "$WORK/etcd.log" e1 "$WORK/etcd" "$ECL" "$EPR" "e1=http://127.0.0.1:$EPR"
  ETCD_PID=${PIDS[-1]}
  for _ in $(seq 1 120); do ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$ECL" endpoint health >/dev/null 2>&1 && break; sleep 0.5; done
  EEP=127.0.0.1:$ECL
  load_into etcd "$ETCD_PID" "$WORK/etcd" "$EEP"
  status=$(ETCDCTL_API=3 etcdctl --endpoints "$EEP" endpoint status -w json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["Status"]))')
  record etcd settled "{}" "{\"rss_bytes\": $(rss "$ETCD_PID"), \"disk_bytes\": $(disk "$WORK/etcd"), \"status\": $status}"
  loaded=$(tail -n 2 "$RESULTS" | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"])')
  # Reads over the keys etcd holds (all of them unless the quota stopped the load; the load writes in key order).
  warm_up etcd "$EEP" "$loaded"
  for dist in uniform zipf; do
    line=$(get_cell etcd "$EEP" "$loaded" $dist)
    echo "etcd get $dist: $line"
    record etcd "get-$dist" "$line" "{\"rss_bytes\": $(rss "$ETCD_PID")}"
  done
  record etcd end "{}" "{\"rss_bytes\": $(rss "$ETCD_PID"), \"disk_bytes\": $(disk "$WORK/etcd")}"
  stop_pid "$ETCD_PID"
fi

record machine end "{}" "{\"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
python3 bench/large-dataset-report.py "$OUT" "$PROFILE" "$COMMIT" "$DISK_GB" "$DATA_GB" "$MEM_MB" "$KEY_SIZE" "$VALUE_SIZE" "$CLIENTS" "$DUR" "$BATCH" "$LOAD_CLIENTS" "$ETCD_VERSION"
