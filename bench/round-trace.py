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


class Series:
    """A step's (index, timestamp) lines sorted by time, answering "the earliest line at or after a time whose index is
    at least / at most N" in O(log n): a bisection to the time, then a descent of a segment tree of the indexes' maxima
    or minima. The join scanned every line for every write before, which a 64-client run could not finish in 10 min."""

    def __init__(self, points):
        self.points = sorted(points, key=lambda p: p[1])
        self.times = [t for _, t in self.points]
        self.size = 1
        while self.size < max(1, len(self.points)):
            self.size *= 2
        self.hi = [-1] * (2 * self.size)  # maximum index per node (-1: empty)
        self.lo = [1 << 62] * (2 * self.size)  # minimum index per node
        for j, (i, _) in enumerate(self.points):
            self.hi[self.size + j] = self.lo[self.size + j] = i
        for k in range(self.size - 1, 0, -1):
            self.hi[k] = max(self.hi[2 * k], self.hi[2 * k + 1])
            self.lo[k] = min(self.lo[2 * k], self.lo[2 * k + 1])

    def _first(self, start, ok):
        """The first position >= start whose subtree `ok` accepts, by leaves; None when there is none."""
        def down(k, left, right):
            if right <= start or not ok(k):
                return None
            if k >= self.size:
                return k - self.size
            mid = (left + right) // 2
            found = down(2 * k, left, mid)
            return found if found is not None else down(2 * k + 1, mid, right)
        return down(1, 0, self.size)

    def first_at_least(self, after, index):
        j = self._first(bisect.bisect_left(self.times, after), lambda k: self.hi[k] >= index)
        return None if j is None else self.times[j]

    def first_at_most(self, after, index):
        j = self._first(bisect.bisect_left(self.times, after), lambda k: self.lo[k] <= index)
        return None if j is None else self.times[j]


def first_reaching(series, index, after):
    """Earliest timestamp >= after of a step whose index covers `index` (durable/committed up to)."""
    return series.first_at_least(after, index)


leader, followers = load(sys.argv[1]), [load(p) for p in sys.argv[2:]]
appended = first_at(leader.get("Appended", []))
received = sorted(t for _, t in leader.get("Received", []))
responded = first_at(leader.get("Responded", []))
read = first_at(leader.get("ReadForReplication", []))
commit_req = first_at(leader.get("CommitRequested", []))
committed = Series(leader.get("Committed", []))
leader_durable = Series(leader.get("LeaderDurable", []))
follower_received = [Series(f.get("FollowerReceived", [])) for f in followers]
follower_durable = [Series(f.get("FollowerDurable", [])) for f in followers]
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
    d = first_reaching(leader_durable, index, a)
    if d:
        row["appended -> durable on the leader"] = d - a
    reach = []
    for n in range(1, len(followers) + 1):
        # a FollowerReceived line names the first index of its batch: the first batch after the append holding `index`
        fr = follower_received[n - 1].first_at_most(a, index)
        if fr is None:
            continue
        row[f"appended -> follower {n} received"] = fr - a
        fd = first_reaching(follower_durable[n - 1], index, fr)
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
