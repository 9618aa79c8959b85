#!/usr/bin/env bash
# Idempotently provide etcd's CLI (Debian's etcd-client, etcdctl 3.4) for the etcd compatibility
# tests (tests/RaftKv.EndToEnd.Tests/Etcd*) and .ci/run. Prints the etcdctl path.
# Order: RAFTKV_ETCDCTL, etcdctl on PATH, a copy unpacked earlier into .etcd/ at the repository root,
# apt-get install (as root), else the .deb unpacked into .etcd/ without installing (no root needed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)/.etcd
if [ -n "${RAFTKV_ETCDCTL:-}" ] && [ -x "$RAFTKV_ETCDCTL" ]; then echo "$RAFTKV_ETCDCTL"; exit 0; fi
if command -v etcdctl >/dev/null; then command -v etcdctl; exit 0; fi
if [ -x "$root/usr/bin/etcdctl" ]; then echo "$root/usr/bin/etcdctl"; exit 0; fi
if [ "$(id -u)" = 0 ]; then
  apt-cache show etcd-client >/dev/null 2>&1 || apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-client >&2
  command -v etcdctl; exit 0
fi
mkdir -p "$root.debs"
(cd "$root.debs" && apt-get download etcd-client >&2)
for d in "$root.debs"/etcd-client*.deb; do dpkg -x "$d" "$root"; done
[ -x "$root/usr/bin/etcdctl" ] && echo "$root/usr/bin/etcdctl"
