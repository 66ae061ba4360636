"""Benchmark: sweep throughput with 1 and 2 local workers, and the driver's memory as the
sweep grows.

Run: ``.venv/bin/python experiments/bench/bench_sweep.py [--runs 16] [--traders 2500]``.

1. Throughput: the same sweep of ``--runs`` runs of about a second each (the default scenario
   with ``--traders`` traders, 144 steps) on a local process pool of 1 and of 2 workers, side
   by side: runs per second and the ratio (target >= 1.7 on 2 cores).
2. Memory: the driver's peak RSS growth (``ru_maxrss`` of the driver process only; workers
   are separate processes) for a sweep of 100 and of 2,000 tiny runs, each measured in a fresh
   process: it should stay flat, because each finished run goes to disk and is dropped.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _spec(runs: int, traders: int, steps: int) -> dict:
    return {"sweep": {"name": "bench", "scenario": "default", "root_seed": 7,
                      "replications": runs},
            "fixed": {"n_traders": traders, "steps": steps},
            "swept": {"shock_frac": [0.35]}}


def throughput(workers: int, runs: int, traders: int) -> float:
    """Runs per second on a local pool of ``workers`` processes (pool start-up included)."""
    from contagion.sweep import parse_spec, run_sweep

    spec = parse_spec(_spec(runs, traders, 144))
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        report = run_sweep(spec, backend="local", workers=workers, out=Path(tmp) / "out",
                           progress=io.StringIO())
        elapsed = time.perf_counter() - t
    assert report.failed == 0
    return runs / elapsed


def _memory_child(runs: int) -> None:
    import resource
    import tracemalloc

    from contagion.sweep import parse_spec, run_sweep

    spec = parse_spec(_spec(runs, 30, 5))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    with tempfile.TemporaryDirectory() as tmp:
        run_sweep(spec, backend="local", workers=2, out=Path(tmp) / "out",
                  progress=io.StringIO())
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"runs": runs, "base_mib": base / 1024, "peak_mib": peak / 1024,
                      "traced_mib": traced / 2**20}))


def memory(runs: int) -> dict:
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-child", str(runs)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--traders", type=int, default=2500)
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        _memory_child(args.memory_child)
        return
    one = throughput(1, args.runs, args.traders)
    two = throughput(2, args.runs, args.traders)
    print(f"throughput, {args.runs} runs of the default scenario ({args.traders:,} traders, "
          f"144 steps; {1 / one:.2f} s per run on 1 worker):")
    print(f"  1 worker {one:.2f} runs/s, 2 workers {two:.2f} runs/s, ratio {two / one:.2f} "
          f"(target >= 1.7: {'PASS' if two / one >= 1.7 else 'FAIL'})")
    small, large = memory(100), memory(2000)
    grow_small = small["peak_mib"] - small["base_mib"]
    grow_large = large["peak_mib"] - large["base_mib"]
    flat = large["traced_mib"] <= 1.5 * small["traced_mib"] + 5
    print(f"driver memory (peak of what the sweep allocated, tracemalloc): "
          f"{small['traced_mib']:.1f} MiB for 100 runs, {large['traced_mib']:.1f} MiB for 2,000 runs;"
          f" peak RSS {small['peak_mib']:.0f} and {large['peak_mib']:.0f} MiB (grew "
          f"{grow_small:.0f} and {grow_large:.0f} MiB during the sweep); target flat: "
          f"{'PASS' if flat else 'FAIL'}")


if __name__ == "__main__":
    main()
