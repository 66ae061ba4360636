"""Benchmark: the engine with one BLAS thread against OpenBLAS's default pool (one per core).

Run from the repository root::

    .venv/bin/python experiments/bench/bench_blas.py              # 200,000 traders, 100 steps, 3 pairs
    .venv/bin/python experiments/bench/bench_blas.py --traders 20000 --pairs 2   # quick

Each measurement is a fresh process running ``ContagionModel(get_scenario("default",
n_traders=N), seed=1).run()``: one with every BLAS thread-count variable set to 1 (what
``contagion`` and sweep workers now do, :mod:`contagion.threads`), one with none set (the
library's default pool). The two run in alternation, ``--pairs`` times, so the machine's load
falls on both alike. Reported per side: the run's median wall time and median CPU time (user +
system over every thread, from ``getrusage`` around ``run()``); CPU over wall is the number of
cores a run keeps busy. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS")

CHILD = """
import resource, sys, time
from contagion.model import ContagionModel
from models import get_scenario
m = ContagionModel(get_scenario("default", n_traders=int(sys.argv[1]), steps=int(sys.argv[2])),
                   seed=1)
u = resource.getrusage(resource.RUSAGE_SELF)
t = time.perf_counter()
m.run()
wall = time.perf_counter() - t
v = resource.getrusage(resource.RUSAGE_SELF)
print(wall, (v.ru_utime - u.ru_utime) + (v.ru_stime - u.ru_stime))
"""


def _one(traders: int, steps: int, one_thread: bool) -> tuple[float, float]:
    """(wall s, CPU s of every thread) of the run, in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    if one_thread:
        env.update(dict.fromkeys(VARIABLES, "1"))
    out = subprocess.run([sys.executable, "-c", CHILD, str(traders), str(steps)], env=env,
                         capture_output=True, text=True, check=True)
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--traders", type=int, default=200_000)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--pairs", type=int, default=3)
    args = p.parse_args(argv)
    runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    start = time.perf_counter()
    for i in range(args.pairs):
        for side in (True, False) if i % 2 == 0 else (False, True):
            runs[side].append(_one(args.traders, args.steps, side))
    rows = []
    for side, label in ((True, "one BLAS thread"), (False, "default pool")):
        wall = statistics.median(w for w, _ in runs[side])
        cpu = statistics.median(c for _, c in runs[side])
        rows.append((label, wall, cpu))
    (_, w1, c1), (_, w0, c0) = rows
    print(f"# BLAS threads, default scenario, {args.traders:,} traders x {args.steps} steps, "
          f"{args.pairs} pairs, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
          f"{time.perf_counter() - start:.0f} s in all\n")
    print("| side | run wall s (median) | run CPU s (median) | cores busy |")
    print("|---|---:|---:|---:|")
    for label, wall, cpu in rows:
        print(f"| {label} | {wall:.2f} | {cpu:.2f} | {cpu / wall:.2f} |")
    print(f"\nwall: one thread / default = {w1 / w0:.2f}; CPU: one thread / default = "
          f"{c1 / c0:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
