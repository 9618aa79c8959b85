#!/usr/bin/env bash
# Stop or start only the radosgw of a cluster started by start-rgw.sh: the mon and the OSD keep
# running, so the stored objects survive — an object-store outage for tests.
# Usage: rgw-gateway.sh stop|start <ceph-root (extracted debs or /)> <state-dir>
set -euo pipefail
ACTION=${1:?stop|start}; R=${2:?ceph root}; S=${3:?state dir}
PORT=$(sed -n 's/.*endpoint=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$S/ceph.conf")
case "$ACTION" in
  stop)
    pid=$(cat "$S/rgw.pid")
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    # the port refuses connections from here on
    for i in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null || exit 0; sleep 0.1; done
    echo "radosgw still answers on $PORT" >&2; exit 1 ;;
  start)
    if [ "$R" != "/" ]; then
      export LD_LIBRARY_PATH=$R/usr/lib/x86_64-linux-gnu:$R/lib/x86_64-linux-gnu:$R/usr/lib/x86_64-linux-gnu/ceph${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
      export PYTHONPATH=$R/usr/lib/python3/dist-packages
      export PATH=$R/usr/bin:$PATH
    fi
    radosgw -c "$S/ceph.conf" -n client.rgw.a -f </dev/null >>"$S/log/rgw.out" 2>&1 & echo $! > "$S/rgw.pid"
    for i in $(seq 1 240); do
      curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null && exit 0; sleep 0.5
    done
    echo "radosgw did not come back on $PORT" >&2; exit 1 ;;
  *) echo "usage: $0 stop|start <ceph-root> <state-dir>" >&2; exit 2 ;;
esac
