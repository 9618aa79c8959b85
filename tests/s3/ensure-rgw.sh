#!/usr/bin/env bash
# Idempotently unpack Ceph RGW into .s3/ceph at the repository root (used by the Tiering tests'
# fixture and by .ci/run). Prints the root directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${RAFTKV_RGW_ROOT:-$(cd "$here/../.." && pwd)/.s3/ceph}
if [ ! -x "$root/usr/bin/radosgw" ]; then
  apt-cache show radosgw >/dev/null 2>&1 || apt-get update -qq >&2
  bash "$here/install-rgw.sh" "$root" >&2
fi
echo "$root"
