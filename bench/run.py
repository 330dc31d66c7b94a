#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Runs cymem-bench and cymem's Pool (through Cython) side by side.

    /usr/bin/python3 bench/run.py BUILDDIR [--quick] [--callgrind] [--csv FILE]

Prints a table of ns per block (medians) with ratios to raw calloc+free in the
same run, and writes every row to a CSV file. --callgrind runs the 64-byte
cases under callgrind instead and reports instructions per block, which are
exact where wall-clock times on a shared machine are not.
"""

import argparse
import csv
import glob
import os
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BASELINE = "calloc"
ORDER = ["calloc", "g_malloc0", "cymem-glib", "cymem-glib-custom", "talloc", "cymem", "apr",
         "mimalloc-heap"]
# mimalloc replaces malloc in any process that links it: its heaps run in a
# program of their own, cymem-bench-mimalloc, and only their rows come from it.
SEPARATE = {"mimalloc-heap": "cymem-bench-mimalloc"}


def build_cymem_peer(builddir):
    """Compiles cymem_peer.pyx; returns the directory to import it from, or a
    reason it cannot be built."""
    try:
        import cymem  # noqa: F401
    except ImportError:
        return None, "cymem is not installed (Debian: python3-cymem)"
    cython = shutil.which("cython3") or shutil.which("cython")
    if cython is None:
        return None, "Cython is not installed (Debian: cython3)"
    include = sysconfig.get_paths()["include"]
    if not os.path.exists(os.path.join(include, "Python.h")):
        return None, "Python headers are missing (Debian: python3-dev)"
    outdir = os.path.join(builddir, "bench", "cymem-peer")
    os.makedirs(outdir, exist_ok=True)
    c_file = os.path.join(outdir, "cymem_peer.c")
    so_file = os.path.join(outdir, "cymem_peer" + sysconfig.get_config_var("EXT_SUFFIX"))
    subprocess.run([cython, "-3", os.path.join(HERE, "cymem_peer.pyx"), "-o", c_file], check=True)
    cflags = ["-O2", "-fPIC", "-shared", "-I" + include]
    if os.path.exists("/usr/include/valgrind/callgrind.h"):
        cflags.append("-DHAVE_CALLGRIND_H")
    subprocess.run(["cc", *cflags, c_file, "-o", so_file], check=True)
    return outdir, None


PEER_SCRIPT = r"""
import random, sys
sys.path.insert(0, sys.argv[1])
import cymem_peer
mode, runs, w1_n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sizes = [int(s) for s in sys.argv[5].split(",")]
counts = [int(s) for s in sys.argv[6].split(",")]
workloads = sys.argv[7].split(",")
order = list(range(100000))
random.Random(20261126).shuffle(order)
med = lambda xs: sorted(xs)[len(xs) // 2] if len(xs) % 2 else sum(sorted(xs)[len(xs)//2-1:len(xs)//2+1]) / 2
def measure(f, *a):
    if mode != "callgrind":
        return [f(*a) for _ in range(runs)]
    cymem_peer.set_callgrind(False)   # one unmeasured warm-up run
    f(*a)
    cymem_peer.set_callgrind(True)
    return [f(*a)]
print("allocator,workload,phase,block_size,n,ns_per_block,runs")
for size in sizes:
    if "W1" in workloads:
        print("cymem,W1,pair,%d,%d,%.3f,%d" % (size, w1_n, med(measure(cymem_peer.w1, size, w1_n)), runs))
    if "W2" in workloads:
        for n in counts:
            r = measure(cymem_peer.w2, size, n)
            print("cymem,W2,alloc,%d,%d,%.3f,%d" % (size, n, med([a for a, _ in r]), runs))
            print("cymem,W2,teardown,%d,%d,%.3f,%d" % (size, n, med([t for _, t in r]), runs))
    if "W3" in workloads and size == 64:
        print("cymem,W3,total,%d,%d,%.3f,%d" % (size, len(order), med(measure(cymem_peer.w3, size, order)), runs))
    sys.stdout.flush()
"""


def parse_rows(text):
    return [row for row in csv.DictReader(text.splitlines())]


def callgrind_rows(cmd, outdir, label_prefix=""):
    """Runs cmd under callgrind; returns rows with instructions per block."""
    pattern = os.path.join(outdir, "cg.out")
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + pattern + ".%p",
                    "--dump-instr=no", "--compress-strings=no"] + cmd,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    for path in sorted(glob.glob(pattern + ".*")):
        label, total = None, None
        prefix = "desc: Trigger: Client Request: "
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    label = line[len(prefix):].strip()
                elif line.startswith("summary:"):
                    total = int(line.split()[1])
        if label and total is not None and label.count(",") == 4:
            alloc, workload, phase, size, n = label.split(",")
            rows.append({"allocator": alloc, "workload": workload, "phase": phase,
                         "block_size": size, "n": n,
                         "instructions_per_block": "%.1f" % (total / int(n))})
        os.unlink(path)
    return rows


def ratio_table(rows, value_key, title):
    base = {(r["workload"], r["phase"], r["block_size"], r["n"]): float(r[value_key])
            for r in rows if r["allocator"] == BASELINE}
    cases = sorted({(r["workload"], r["phase"], int(r["block_size"]), int(r["n"])) for r in rows
                    if r["workload"] != "MEM"})
    allocs = [a for a in ORDER if any(r["allocator"] == a for r in rows)]
    values = {(r["allocator"], r["workload"], r["phase"], int(r["block_size"]), int(r["n"])): float(r[value_key])
              for r in rows}
    print("\n## %s (ratio to %s in the same run)\n" % (title, BASELINE))
    print("| case | " + " | ".join(allocs) + " |")
    print("|---|" + "---:|" * len(allocs))
    for case in cases:
        cells = []
        b = base.get((case[0], case[1], str(case[2]), str(case[3])))
        for a in allocs:
            v = values.get((a,) + case)
            if v is None:
                cells.append("n/a")
            elif b:
                cells.append("%.1f (%.2f×)" % (v, v / b))
            else:
                cells.append("%.1f" % v)
        print("| %s %s %d B n=%d | %s |" % (case[0], case[1], case[2], case[3], " | ".join(cells)))


def memory_table(rows):
    mem = {(r["allocator"], int(r["n"])): float(r["ns_per_block"]) for r in rows if r["workload"] == "MEM"}
    if not mem:
        return
    print("\n## Heap bytes per live 64-byte block, and bookkeeping beyond calloc's\n")
    print("| allocator | n=100000 | n=1000000 |")
    print("|---|---:|---:|")
    for a in ORDER:
        if (a, 100000) not in mem:
            continue
        cells = []
        for n in (100000, 1000000):
            v = mem.get((a, n))
            c = mem.get((BASELINE, n))
            cells.append("%.1f (+%.1f)" % (v, v - c) if v is not None and c is not None else "n/a")
        print("| %s | %s |" % (a, " | ".join(cells)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("builddir")
    ap.add_argument("--quick", action="store_true", help="fewer runs, no 1M-block or 4 KiB cases")
    ap.add_argument("--callgrind", action="store_true", help="instruction counts instead of times")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--csv", default=None, help="where to write the rows (default BUILDDIR/bench-results.csv)")
    args = ap.parse_args()

    bench = os.path.join(args.builddir, "bench", "cymem-bench")
    if not os.path.exists(bench):
        sys.exit("%s not found: configure with -Dbenchmarks=true and build first" % bench)
    programs = {}
    for alloc, program in SEPARATE.items():
        path = os.path.join(args.builddir, "bench", program)
        if os.path.exists(path):
            programs[alloc] = path
        else:
            print("skipping %s: %s was not built" % (alloc, program), file=sys.stderr)

    if args.callgrind:
        sizes, counts, w1_n, workloads = "64", "1000,100000", 100000, "W1,W2,W3"
    elif args.quick:
        sizes, counts, w1_n, workloads = "16,64,256", "1000,100000", 200000, "W1,W2,W3,W4,MEM"
    else:
        sizes, counts, w1_n, workloads = "16,64,256,4096", "1000,100000,1000000", 1000000, "W1,W2,W3,W4,MEM"
    runs = 3 if args.quick else args.runs

    common = ["--sizes=" + sizes, "--counts=" + counts, "--w1-count=%d" % w1_n, "--workloads=" + workloads]
    peer_dir, why = build_cymem_peer(args.builddir)
    if why:
        print("skipping cymem: " + why, file=sys.stderr)
    peer_args = [sizes, counts, workloads]

    if args.callgrind:
        with tempfile.TemporaryDirectory() as tmp:
            rows = callgrind_rows([bench, "--callgrind"] + common, tmp)
            for path in programs.values():
                rows += callgrind_rows([path, "--callgrind"] + common, tmp)
            if peer_dir:
                rows += callgrind_rows([sys.executable, "-c", PEER_SCRIPT, peer_dir, "callgrind", "1",
                                        str(w1_n)] + peer_args, tmp)
        key = "instructions_per_block"
        ratio_table(rows, key, "Instructions per block under callgrind")
    else:
        # One process per allocator, so that no allocator inherits a heap
        # shaped by another's workload.
        rows = []
        timed = [w for w in workloads.split(",") if w != "MEM"]
        for alloc in ORDER:
            if alloc in SEPARATE and alloc not in programs:
                continue
            program = programs.get(alloc, bench)
            out = subprocess.run([program, "--runs=%d" % runs, "--allocators=" + alloc,
                                  "--workloads=" + ",".join(timed)] + common[:3],
                                 check=True, stdout=subprocess.PIPE, text=True).stdout
            rows += parse_rows(out)
            # Memory is measured in a fresh process for each N.
            if "MEM" in workloads:
                for n in (100000, 1000000):
                    # Without the table's array cache, so that only arrays in
                    # use are counted (as mallinfo counts only chunks in use).
                    out = subprocess.run([program, "--allocators=" + alloc, "--workloads=MEM",
                                          "--sizes=64", "--counts=%d" % n],
                                         env=dict(os.environ, CYMEM_NO_ARRAY_CACHE="1"),
                                         check=True, stdout=subprocess.PIPE, text=True).stdout
                    rows += parse_rows(out)
        if peer_dir:
            out = subprocess.run([sys.executable, "-c", PEER_SCRIPT, peer_dir, "time", str(runs),
                                  str(w1_n)] + peer_args, check=True, stdout=subprocess.PIPE, text=True).stdout
            rows += parse_rows(out)
        key = "ns_per_block"
        ratio_table(rows, key, "Nanoseconds per block, median of %d runs" % runs)
        memory_table(rows)

    path = args.csv or os.path.join(args.builddir, "bench-results%s.csv" % ("-callgrind" if args.callgrind else ""))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    print("\nrows written to " + path)


if __name__ == "__main__":
    main()
