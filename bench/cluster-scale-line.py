#!/usr/bin/env python3
"""One line of bench/cluster-scale.sh's progress: reads one result JSON line on stdin."""
import json
import sys

r = json.load(sys.stdin)
print(f"{r['workload']:4} x{r['clients']:<3} {r['value_size']:>6} B: {r['ops_per_sec']:8.0f} ops/s  p50 {r['p50_ms']:6.2f}  p99 {r['p99_ms']:7.2f} ms  "
      f"leader {r['leader_cpu_ms_per_op']:.3f} ms CPU/op ({r['leader_cpu_util'] * 100:.0f} % of a core)  machine {r['machine_busy'] * 100:.0f} % busy  "
      f"{r['flushes_per_op']:.3f} fsync/op")
