#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Draws ns per block against N (W2: alloc + teardown, one block size) for
each allocator, from the CSV that bench/run.py writes, as an SVG file.

    /usr/bin/python3 bench/chart.py RESULTS.csv OUT.svg [--size 64]
"""

import argparse
import csv
import math

COLOURS = {
    "calloc": "#555555", "g_malloc0": "#999999", "cymem-glib": "#1c71d8",
    "cymem-glib-custom": "#62a0ea", "talloc": "#e66100", "cymem": "#c01c28", "apr": "#2ec27e",
}
W, H, LEFT, RIGHT, TOP, BOTTOM = 720, 420, 70, 170, 40, 50


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("svg")
    ap.add_argument("--size", default="64")
    args = ap.parse_args()

    series = {}
    with open(args.csv) as f:
        for r in csv.DictReader(f):
            if r["workload"] != "W2" or r["block_size"] != args.size:
                continue
            key = (r["allocator"], int(r["n"]))
            series.setdefault(r["allocator"], {}).setdefault(int(r["n"]), 0.0)
            series[r["allocator"]][int(r["n"])] += float(r["ns_per_block"])
    if not series:
        raise SystemExit("no W2 rows for %s-byte blocks in %s" % (args.size, args.csv))

    ns = sorted({n for s in series.values() for n in s})
    ymax = max(v for s in series.values() for v in s.values()) * 1.1
    lx0, lx1 = math.log10(ns[0]), math.log10(ns[-1])

    def x(n):
        return LEFT + (math.log10(n) - lx0) / ((lx1 - lx0) or 1) * (W - LEFT - RIGHT)

    def y(v):
        return H - BOTTOM - v / ymax * (H - TOP - BOTTOM)

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="14">W2: allocate N zeroed %s-byte blocks, then release them all (ns per block, alloc + teardown)</text>' % (LEFT - 40, args.size)]
    for i in range(6):
        v = ymax * i / 5
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (LEFT, W - RIGHT, y(v), y(v)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%.0f</text>' % (LEFT - 6, y(v) + 4, v))
    for n in ns:
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x(n), H - BOTTOM + 18, "{:,}".format(n)))
    out.append('<text x="%d" y="%d" text-anchor="middle">N (blocks, log scale)</text>' % ((LEFT + W - RIGHT) // 2, H - 10))
    for i, (alloc, points) in enumerate(sorted(series.items(), key=lambda kv: list(COLOURS).index(kv[0]) if kv[0] in COLOURS else 99)):
        colour = COLOURS.get(alloc, "#000")
        pts = " ".join("%.1f,%.1f" % (x(n), y(v)) for n, v in sorted(points.items()))
        out.append('<polyline fill="none" stroke="%s" stroke-width="2.5" points="%s"/>' % (colour, pts))
        for n, v in sorted(points.items()):
            out.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>' % (x(n), y(v), colour))
        ly = TOP + 10 + i * 20
        out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="3"/>' % (W - RIGHT + 15, W - RIGHT + 35, ly, ly, colour))
        out.append('<text x="%d" y="%d">%s</text>' % (W - RIGHT + 40, ly + 4, alloc))
    out.append("</svg>")
    with open(args.svg, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
