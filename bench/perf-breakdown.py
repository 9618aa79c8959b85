#!/usr/bin/env python3
"""Share of each process's CPU samples whose call stack matches each pattern (inclusive), from `perf script`.

Usage: perf script -i perf.data -F pid,tid,ip,sym > stacks.txt
       bench/perf-breakdown.py stacks.txt 'LsmStore::Apply' 'CompactOnce' ...
Record the servers with `perf record -F 999 -g -p PID,PID,PID` while they run with DOTNET_PerfMapEnabled=1 (managed
frames get names; bench/cpu-per-op.sh PERF=1 prints the PIDs and keeps the cluster up). A sample counts once per pattern
(its stack may match several patterns, so the column does not sum to 100 %).
"""
import collections
import re
import sys


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    patterns = sys.argv[2:]
    totals = collections.Counter()
    hits = collections.defaultdict(collections.Counter)
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        blocks = f.read().split("\n\n")
    for block in blocks:
        block = block.strip()
        if not block:
            continue
        pid = block.split("/", 1)[0].strip()
        totals[pid] += 1
        for p in patterns:
            if re.search(p, block):
                hits[pid][p] += 1
    for pid in sorted(totals, key=lambda p: -totals[p]):
        print(f"== pid {pid}: {totals[pid]} samples")
        for p in patterns:
            print(f"  {p:55s} {100 * hits[pid][p] / totals[pid]:5.1f}%")


if __name__ == "__main__":
    main()
