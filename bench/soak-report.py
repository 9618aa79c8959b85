#!/usr/bin/env python3
"""bench/soak.sh's report: reads OUT/samples.csv and OUT/load.jsonl, draws chart.svg, renders it to
chart.png with headless Chromium, and writes report.md with the verdict per series (bounded or growing).
Usage: soak-report.py OUT MINUTES RATE MAX KILLS COMMIT"""
import csv, json, os, statistics, subprocess, sys

out, minutes, rate, mx, kills, commit = sys.argv[1:7]
rows = list(csv.DictReader(open(os.path.join(out, "samples.csv"))))
load = [json.loads(l) for l in open(os.path.join(out, "load.jsonl")) if l.strip()]
series = [("rss_mb", "RSS (MiB)"), ("fds", "open file descriptors"), ("threads", "threads"), ("raftlog_mb", "Raft log on disk (MiB)")]
colors = {"1": "#1f77b4", "2": "#d62728", "3": "#2ca02c"}

def points(key, node):
    return [(float(r["t"]), float(r[key])) for r in rows if r["node"] == node and r[key] not in ("", None)]

def panel(x0, y0, w, h, title, lines):
    allp = [p for _, pts in lines for p in pts]
    if not allp:
        return f'<text x="{x0}" y="{y0 + 15}">{title}: no data</text>'
    tmax = max(p[0] for p in allp) or 1
    vmax = max(p[1] for p in allp) * 1.1 or 1
    svg = [f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>',
           f'<text x="{x0 + 5}" y="{y0 + 15}" font-size="13">{title} (max {vmax / 1.1:.1f})</text>',
           f'<text x="{x0 - 5}" y="{y0 + h}" font-size="10" text-anchor="end">0</text>',
           f'<text x="{x0 - 5}" y="{y0 + 10}" font-size="10" text-anchor="end">{vmax:.0f}</text>',
           f'<text x="{x0 + w}" y="{y0 + h + 12}" font-size="10" text-anchor="end">{tmax / 60:.0f} min</text>']
    for color, pts in lines:
        path = " ".join(f"{x0 + w * t / tmax:.1f},{y0 + h - h * v / vmax:.1f}" for t, v in pts)
        svg.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{path}"/>')
    return "\n".join(svg)

W, H, PW, PH = 1200, 1000, 1080, 150
parts, y = [], 30
for key, title in series:
    parts.append(panel(80, y, PW, PH, title + " — node 1 blue, 2 red, 3 green", [(colors[n], points(key, n)) for n in "123"]))
    y += PH + 40
lat = [(float(l["t"]), float(l["p99_ms"])) for l in load]
p50 = [(float(l["t"]), float(l["p50_ms"])) for l in load]
parts.append(panel(80, y, PW, PH, "load latency per 10 s (ms) — p99 black, p50 grey", [("#000", lat), ("#999", p50)]))
svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>{"".join(parts)}</svg>'
open(os.path.join(out, "chart.svg"), "w").write(svg)
html = os.path.join(out, "chart.html")
open(html, "w").write(f"<html><body style='margin:0'>{svg}</body></html>")
png = os.path.abspath(os.path.join(out, "chart.png"))
try:
    subprocess.run(["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}", f"--window-size={W},{H}", "file://" + os.path.abspath(html)],
                   check=True, capture_output=True, timeout=120)
except Exception as e:  # the SVG stays
    print("PNG not rendered:", e)
os.remove(html)

def verdict(pts):
    """Bounded unless the last third's median exceeds the middle third's by > 25 % (and by more than noise)."""
    v = [p[1] for p in pts]
    if len(v) < 9:
        return "too few samples", 0, 0
    third = len(v) // 3
    mid, last = statistics.median(v[third:2 * third]), statistics.median(v[2 * third:])
    growing = last > mid * 1.25 and last - mid > 2
    return ("GROWING" if growing else "bounded"), mid, last

lines = [f"# Soak: {minutes} min, 3 nodes, leader SIGKILL every 5 min", "",
         f"Command: `bench/soak.sh {minutes}` at commit {commit}. Max put rate measured at the start: {mx} ops/s (16 clients);",
         f"soak load: {rate} ops/s paced, 90 % linearizable gets / 10 % puts, 16 clients through RaftKv.Client with every endpoint;",
         f"{kills} leader kills (SIGKILL, restart after 5 s). Samples every 10 s. Chart: `chart.png` (SVG: `chart.svg`).", "",
         "| series | node | middle third median | last third median | verdict |", "|---|---|---|---|---|"]
for key, title in series:
    for n in "123":
        v, mid, last = verdict(points(key, n))
        lines.append(f"| {title} | {n} | {mid:.1f} | {last:.1f} | {v} |")
v, mid, last = verdict(lat)
lines.append(f"| load p99 (ms) | – | {mid:.1f} | {last:.1f} | {v} |")
ops = sum(l["ops"] for l in load); errs = sum(l["errors"] for l in load)
lines += ["", f"Load: {ops} operations, {errs} errors (after the client's retries); worst interval p99 {max((p[1] for p in lat), default=0):.0f} ms (leader kills), median interval p99 {statistics.median([p[1] for p in lat]) if lat else 0:.1f} ms."]
open(os.path.join(out, "report.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
