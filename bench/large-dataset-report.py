#!/usr/bin/env python3
"""Report of bench/large-dataset.sh: reads <out>/results.jsonl and <out>/samples.csv, writes <out>/summary.md and
the "large-dataset-<profile>" section of BENCHMARKS.md, prints the summary.
Usage: large-dataset-report.py OUT PROFILE COMMIT DISK_GB DATA_GB MEM_MB KEY_SIZE VALUE_SIZE CLIENTS DUR BATCH LOAD_CLIENTS ETCD_VERSION"""
import csv
import datetime
import json
import re
import sys

out, profile, commit, disk_gb, data_gb, mem_mb, key_size, value_size, clients, dur, batch, load_clients, etcd_version = sys.argv[1:14]
rows = [json.loads(line) for line in open(f"{out}/results.jsonl") if line.strip()]
samples = list(csv.DictReader(open(f"{out}/samples.csv")))


def find(system, phase):
    return next((r for r in rows if r["system"] == system and r["phase"] == phase), None)


def peak(system, column, phases=("load", "settle")):
    values = [int(float(s[column] or 0)) for s in samples if s["system"] == system and s["phase"] in phases]
    return max(values) if values else 0


gib = lambda b: b / 2**30
mib = lambda b: b / 2**20
lines = []
p = lines.append
cmd = f"bench/large-dataset.sh {profile}"
p(f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, commit {commit}, `{cmd}` ({etcd_version}): "
  f"DISK_MAX_SIZE_GB={disk_gb}, {data_gb} GiB loaded ({float(data_gb) / float(disk_gb):.0f}× the disk limit), MEMORY_MAX_SIZE_MB={mem_mb}, "
  f"{key_size} B keys, {value_size} B random (incompressible) values, loaded in key order by {load_clients} clients, {batch} puts per txn, "
  f"through etcd's v3 API on both; one node / one member on loopback, fsync on; RaftKv tiers to a single-OSD Ceph RGW (memstore) on the same machine; "
  f"gets: {clients} clients, {dur} s per cell, linearizable, over the whole key space; 2-core shared machine, load average "
  f"{(find('machine', 'start') or {}).get('loadavg', '?')} at the start, {(find('machine', 'end') or {}).get('loadavg', '?')} at the end. Raw results: `{out}/`.")
p("")
p("| system | keys loaded | load s | load MB/s | errors | peak local disk | local disk when the gets start | local bytes ÷ stored byte | in S3 | RSS after gets | RSS per million keys |")
p("|---|---|---|---|---|---|---|---|---|---|---|")
for system in ("raftkv", "etcd"):
    load, end = find(system, "load"), find(system, "end")
    if not load or not end:
        continue
    settled = find(system, "compacted") or find(system, "settled") or end
    keys, stored = load["keys"], load["bytes"]
    s3 = ""
    if system == "raftkv":
        st = end["stats"]
        s3 = f"{gib(st['object_size_bytes']):.2f} GiB ({st['migrations_completed']} tables)"
    else:
        s3 = "—"
    p(f"| {system} | {keys:,} of {int(float(data_gb) * 2**30) // (int(key_size) + int(value_size)):,} | {load['seconds']:.0f} | {load['mb_per_sec']:.1f} | {load['errors']} | "
      f"{gib(max(peak(system, 'disk_bytes'), settled['disk_bytes'])):.2f} GiB | {gib(settled['disk_bytes']):.2f} GiB | {settled['disk_bytes'] / max(stored, 1):.3f} | {s3} | "
      f"{mib(end['rss_bytes']):.0f} MiB | {mib(end['rss_bytes']) / max(keys / 1e6, 1e-9):.0f} MiB |")
p("")
for phase, when in (("settled", "After the load and the settle time (archiver alone)"), ("compacted", "After one full compaction (`POST /admin/compact`) and archiving")):
    r = find("raftkv", phase)
    if not r:
        continue
    st, limit = r["stats"], float(disk_gb) * 2**30
    used = st["disk_size_bytes"] + st["archived_metadata_bytes"]
    took = f" ({r['compact_s']} s compacting, {r['archive_s']} s archiving)" if "compact_s" in r else ""
    p(f"{when}{took}: RaftKv's local tables {mib(used):.0f} MiB against DISK_MAX_SIZE_GB = {mib(limit):.0f} MiB — "
      f"{'under the limit' if used <= limit else 'OVER the limit'}; data directory {mib(r['disk_bytes']):.0f} MiB; "
      f"{st['migrations_completed']} tables archived so far, {mib(st['object_size_bytes']):.0f} MiB in S3; compactions {st.get('compactions')}, "
      f"compaction pending: {st.get('compaction_pending')}; SSTables per level {st.get('sstables_per_level')}.")
    p("")
rk = find("raftkv", "end")
if rk:
    st = rk["stats"]
    p(f"RaftKv after the gets: local SSTables {mib(st['disk_size_bytes']):.0f} MiB, archived tables' local metadata (index, bloom, keys file) "
      f"{mib(st['archived_metadata_bytes']):.1f} MiB, memtables {mib(st['memory_size_bytes']):.0f} MiB, in S3 {mib(st['object_size_bytes']):.0f} MiB; "
      f"block cache {mib(st.get('cache_bytes', 0)):.0f} MiB, hits {st.get('cache_hits', 0):,} / misses {st.get('cache_misses', 0):,}; "
      f"SSTables per level {st.get('sstables_per_level')}.")
    p("")
p("| system (API) | distribution | ops/s | p50 ms | p99 ms | memory: gets, p50 / p99 ms | local disk: gets, p50 / p99 ms | object tier: gets, p50 / p99 ms | S3 GETs (RGW) per object-tier get | KiB fetched per object-tier get |")
p("|---|---|---|---|---|---|---|---|---|---|")
cells = [("raftkv", "get-native-", "RaftKv (native)"), ("raftkv", "get-etcdapi-", "RaftKv (etcd API)"), ("etcd", "get-", "etcd")]
for dist in ("uniform", "zipf"):
    for system, prefix, name in cells:
        r = find(system, prefix + dist)
        if not r:
            continue
        tiers = r.get("tiers", {})

        def tier(t):
            x = tiers.get(t)
            return f"{x['requests']:,}, {x['p50_ms']:.2f} / {x['p99_ms']:.2f}" if x else ("—" if system == "etcd" or prefix == "get-etcdapi-" else "0")

        s3, kib = "—", "—"
        if "rgw_before" in r:
            gets = r["rgw_after"]["get"] - r["rgw_before"]["get"]
            fetched = r["rgw_after"]["get_b"] - r["rgw_before"]["get_b"]
            obj = tiers.get("object", {}).get("requests", 0)
            s3 = f"{gets / obj:.2f} ({gets:,} GETs)" if obj else f"— ({gets:,} GETs)"
            kib = f"{fetched / 1024 / obj:.1f}" if obj else "—"
        errors = f" ({r['errors']} errors)" if r["errors"] else ""
        missing = tiers.get("not_found", {}).get("requests", 0)
        missing = f" ({missing} not found)" if missing else ""
        p(f"| {name} | {dist} | {r['ops_per_sec']:.0f}{errors}{missing} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {tier('memory')} | {tier('disk')} | {tier('object')} | {s3} | {kib} |")
table = "\n".join(lines)
open(f"{out}/summary.md", "w").write(table + "\n")
print(table)

path = "BENCHMARKS.md"
text = open(path).read()
tag = f"large-dataset-{profile}"
section = f"<!-- {tag}:start -->\n{table}\n<!-- {tag}:end -->"
if f"<!-- {tag}:start -->" in text:
    text = re.sub(rf"<!-- {tag}:start -->.*<!-- {tag}:end -->", lambda m: section, text, flags=re.S)
else:
    head = "## Data sets larger than local disk: RaftKv with S3 tiering vs etcd 3.4 (issue #18)\n\n"
    if head not in text:
        text = text.rstrip("\n") + "\n\n" + head + (
            "Command: `bench/large-dataset.sh [quick|full]` (see its header for the environment overrides). It loads\n"
            "at least 10× `DISK_MAX_SIZE_GB` into one RaftKv node tiering to a local Ceph RGW, then the same data set into\n"
            "one etcd member, and runs uniform and Zipfian gets over the whole key space on each. \"object tier\" counts gets\n"
            "answered from an archived table (fetched from S3 or from a block of it cached locally); RGW's own counters give\n"
            "the S3 GETs made during that cell.\n\n")
    i = text.index(head) + len(head)
    j = text.find("\n## ", i)
    j = len(text) if j < 0 else j + 1
    text = text[:j].rstrip("\n") + f"\n\n### Profile `{profile}`\n\n" + section + "\n\n" + text[j:]
open(path, "w").write(text.rstrip("\n") + "\n")
print("BENCHMARKS.md updated")
