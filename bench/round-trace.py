#!/usr/bin/env python3
"""Joins the RAFTKV_ROUND_TRACE files of a traced 3-node cluster (RoundTrace.cs, format version 1) into per-hop
latencies of single-client writes. Usage: [FROM_INDEX=N] round-trace.py LEADER_FILE FOLLOWER_FILE... ; prints one row
per hop (p50 / p90 / p99 in µs, and each hop's median over the slowest 1 % of writes, over the writes above Raft index N, after the first fifth of them, dropped as warm-up)."""
import os
import bisect
import statistics
import sys


def load(path):
    by_point = {}
    for line in open(path):
        point, index, ts = line.split()
        by_point.setdefault(point, []).append((int(index), int(ts)))
    return by_point


def first_at(points):
    """Earliest timestamp per index for steps that name one index."""
    out = {}
    for i, t in points:
        out.setdefault(i, t)
    return out


def first_reaching(points, index, after):
    """Earliest timestamp >= after of a step whose index covers `index` (durable/committed up to)."""
    best = None
    for i, t in points:
        if i >= index and t >= after and (best is None or t < best):
            best = t
    return best


leader, followers = load(sys.argv[1]), [load(p) for p in sys.argv[2:]]
appended = first_at(leader.get("Appended", []))
received = sorted(t for _, t in leader.get("Received", []))
responded = first_at(leader.get("Responded", []))
read = first_at(leader.get("ReadForReplication", []))
commit_req = first_at(leader.get("CommitRequested", []))
committed = leader.get("Committed", [])
applied = first_at(leader.get("Applied", []))
completed = first_at(leader.get("Completed", []))
rows = []
for index, a in sorted(appended.items()):
    if index <= int(os.environ.get("FROM_INDEX", "0")) or index not in responded:
        continue
    k = bisect.bisect_right(received, a) - 1
    if k < 0:
        continue
    row = {"index": index, "request received -> appended": a - received[k]}
    if index in read:
        row["appended -> leader read it for a follower"] = read[index] - a
    d = first_reaching(leader.get("LeaderDurable", []), index, a)
    if d:
        row["appended -> durable on the leader"] = d - a
    reach = []
    for n, f in enumerate(followers, 1):
        # a FollowerReceived line names the first index of its batch: take the batch holding `index`
        starts = [(i, t) for i, t in f.get("FollowerReceived", []) if i <= index and t >= a]
        if not starts:
            continue
        fr = min(t for _, t in starts)
        row[f"appended -> follower {n} received"] = fr - a
        fd = first_reaching(f.get("FollowerDurable", []), index, fr)
        if fd:
            row[f"follower {n} received -> durable"] = fd - fr
            reach.append(fd)
    if index in commit_req:
        row["appended -> commit requested (quorum)"] = commit_req[index] - a
        if reach:
            row["first follower durable -> commit requested"] = commit_req[index] - min(reach)
    c = first_reaching(committed, index, a)
    if c and index in applied:
        row["committed -> applied"] = applied[index] - c
    if index in applied and index in completed:
        row["applied -> write completed"] = completed[index] - applied[index]
    if index in completed:
        row["write completed -> response"] = responded[index] - completed[index]
    row["request received -> response"] = responded[index] - received[k]
    rows.append(row)

rows = rows[len(rows) // 5:]
keys = []
for r in rows:
    keys += [k for k in r if k not in keys and k != "index"]
print(f"{len(rows)} writes")
total = "request received -> response"
cut = sorted(r[total] for r in rows)[int(len(rows) * 0.99)]
slow = [r for r in rows if r[total] >= cut]  # the slowest 1 %: which hop made them slow
print("| hop | p50 µs | p90 µs | p99 µs | median in the slowest 1 % µs |")
print("|---|---|---|---|---|")
for key in keys:
    v = sorted(r[key] for r in rows if key in r)
    s = sorted(r[key] for r in slow if key in r)
    tail = f"{statistics.median(s) / 1000:.0f}" if s else "-"
    print(f"| {key} | {statistics.median(v) / 1000:.0f} | {v[int(len(v) * 0.9)] / 1000:.0f} | {v[int(len(v) * 0.99)] / 1000:.0f} | {tail} |")

if os.environ.get("SLOW"):  # SLOW=1: every write of the slowest 1 %, hop by hop (µs), in index order
    print()
    for r in sorted(slow, key=lambda r: r["index"]):
        print(r["index"], " ".join(f"{k.replace(' ', '_')}={v / 1000:.0f}" for k, v in r.items() if k != "index"))
