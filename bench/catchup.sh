#!/usr/bin/env bash
# How long a follower that missed a large store needs to rejoin (issue #18: data sets beyond etcd's; docs/architecture.md,
# "Snapshots too large for one Raft request"). A fresh 3-node RaftKv (this checkout's Release build, or SERVER_DLL),
# one follower SIGKILLed, MB megabytes of 64 KiB values written at the leader (raftkv-bench put through etcd's API, 16
# clients), then every member flushes (a snapshot past everything the follower holds; the log below it dropped), the
# follower restarts and the script times how long it takes to apply the leader's applied index, while a light write
# load (a few puts per second) keeps the leader moving and snapshotting. Prints the store's size, the seconds to
# rejoin (or "not within DEADLINE s") and, from the follower's log, how it got there (pulled snapshot or InstallSnapshot).
# Usage: bench/catchup.sh [MB]        (default 300)
#   SKIP_BUILD=1 reuses the Release build; SERVER_DLL=path/raftkv.dll runs another build (main's before the pull: A/B);
#   DEADLINE=S (default 180); RKV_ENV="VAR=VALUE ..." more settings for every node (e.g. ELECTION_TIMEOUT_MS=2000).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

MB=${1:-300}
DEADLINE=${DEADLINE:-180}
bench_binaries
DIR=$(mktemp -d /tmp/catchup.XXXXXX)
trap 'stop_all; rm -rf "$DIR"' EXIT INT TERM # GBs of cluster data per run: never left behind
read -r -a EXTRA <<< "${RKV_ENV:-}"

raftkv_ports 3
start_raftkv_cluster "$DIR" ${EXTRA[@]+"${EXTRA[@]}"} SNAPSHOT_CATCHUP_ENTRIES=0
for i in 1 2 3; do wait_ready "http://127.0.0.1:$(http_port "$i")/health/ready"; done
wait_leader "$RKV_EPS" >/dev/null
LEADER_EP=$(leader_of "$RKV_EPS")
for i in 1 2 3; do
  if [ "127.0.0.1:$(grpc_port "$i")" = "$LEADER_EP" ]; then LEADER=$i; fi
done
FOLLOWER=$((LEADER % 3 + 1))
stat_of() { curl -sf "http://127.0.0.1:$(http_port "$1")/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }

stop_pid "${PIDS[$((FOLLOWER - 1))]}" KILL
PUTS=$((MB * 16))
$BENCH put --target etcd --endpoints "$LEADER_EP" --clients 16 --value-size 65536 --key-space "$PUTS" --total "$PUTS" --warmup 0 --json 2>/dev/null | tail -1 >/dev/null
for i in 1 2 3; do
  [ "$i" = "$FOLLOWER" ] || curl -sf -X POST "http://127.0.0.1:$(http_port "$i")/admin/flush" >/dev/null
done
STORE=$(du -sb "$DIR/n$LEADER/snapshots" | cut -f1)

# A light load while the follower catches up: the leader keeps applying (and snapshotting every few hundred puts).
$BENCH put --target etcd --endpoints "$LEADER_EP" --clients 1 --value-size 256 --key-space 1000 --duration $((DEADLINE + 30)) --warmup 0 >/dev/null 2>&1 &
LOAD=$!
PIDS+=("$LOAD")

i=$FOLLOWER
start_raftkv "$DIR/n$i.restart.log" ${EXTRA[@]+"${EXTRA[@]}"} SNAPSHOT_CATCHUP_ENTRIES=0 NODE_ID="$i" PEERS="$RKV_PEERS" RAFT_PORT="$(raft_port "$i")" \
  HTTP_PORT="$(http_port "$i")" GRPC_PORT="$(grpc_port "$i")" DATA_DIR="$DIR/n$i" BIND_HOST=127.0.0.1 ADVERTISE_HOST=127.0.0.1
START=$(date +%s.%N)
TARGET=$(stat_of "$LEADER" applied_index)
RESULT="not within $DEADLINE s"
while [ "$(echo "$(date +%s.%N) - $START < $DEADLINE" | bc)" = 1 ]; do
  if APPLIED=$(stat_of "$FOLLOWER" applied_index 2>/dev/null) && [ "$APPLIED" -ge "$TARGET" ]; then
    RESULT="$(echo "$(date +%s.%N) - $START" | bc | xargs printf '%.1f') s"
    break
  fi
  sleep 0.5
done

HOW=$(grep -c "Installed the pulled snapshot" "$DIR/n$FOLLOWER.restart.log" || true)
RETRIES=$(grep -c "InstallSnapshot\|request timed out\|RequestTimedOut" "$DIR/n$FOLLOWER.restart.log" || true)
echo "commit $COMMIT (${SERVER}): store $((STORE / 1048576)) MiB in the leader's snapshot; follower $FOLLOWER rejoined (applied index $TARGET): $RESULT; pulled snapshots installed: $HOW; timed-out Raft requests logged: $RETRIES"
