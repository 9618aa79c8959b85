#!/usr/bin/env python3
"""Reads the text report of etcd's `benchmark` tool (tools/benchmark in etcd's repository) on stdin and prints one
JSON line: {"ops_per_sec", "p50_ms", "p99_ms", "errors"} (plus any KEY=VALUE arguments, numbers kept as numbers), or
nothing when the report lacks the rate or the 50th/99th percentiles (the run failed). The one parser of that report for
bench/etcd-benchmark.sh, bench/security-cost.sh and bench/ab-builds.sh.

The report's lines used: "Requests/sec:\t1234.5", the latency distribution's "  50% in 0.0123 secs." and the optional
"Error distribution:" block of "  [N]\tmessage" lines."""
import json
import re
import sys

text = sys.stdin.read()
rps = re.search(r"Requests/sec:\s*([0-9.]+)", text)
pct = {m.group(1): float(m.group(2)) * 1000 for m in re.finditer(r"\s([0-9.]+)% in ([0-9.]+) secs", text)}
if rps and "50" in pct and "99" in pct:
    errors = 0
    if "Error distribution:" in text:
        errors = sum(int(n) for n in re.findall(r"^\s*\[(\d+)\]", text.split("Error distribution:")[1], re.M))
    out = {}
    for arg in sys.argv[1:]:
        key, _, value = arg.partition("=")
        out[key] = int(value) if value.lstrip("-").isdigit() else value
    out.update({"ops_per_sec": float(rps.group(1)), "p50_ms": pct["50"], "p99_ms": pct["99"], "errors": errors})
    print(json.dumps(out))
