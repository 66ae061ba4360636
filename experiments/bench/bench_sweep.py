"""Benchmark: Monte Carlo runs per second per core, sweep throughput with 1 and 2 local
workers, and the driver's memory as the sweep grows.

Run: ``.venv/bin/python experiments/bench/bench_sweep.py [--runs 16] [--traders 2500]
[--mc-runs 20] [--mc-traders 1000] [--mc-only] [--mc-stages]``.

0. Per core (one process, OpenBLAS on one thread): runs of the default scenario with
   ``--mc-traders`` traders (144 steps), each measured from the preset to its metric row,
   by the full path (``simulate`` with every output, as the CLI and the dashboard run, then
   ``run_record``: what a sweep run cost before issue 14) and by the sweep path
   (:func:`contagion.sweep.task.execute_run`: ``simulate(record=METRICS)``, the run's own
   summary reused), alternating, same seeds: runs/s of each and the ratio (target >= 10 runs/s).
   With ``--baseline-src DIR`` (an older checkout, e.g. ``git worktree add /tmp/old main``),
   that tree's own ``execute_run`` is timed too, in a child process run in turn with the
   others (one run at a time, same seeds): the sweep run before and after, side by side.
1. Throughput: the same sweep of ``--runs`` runs of about a second each (the default scenario
   with ``--traders`` traders, 144 steps) on a local process pool of 1 and of 2 workers, side
   by side: runs per second and the ratio (target >= 1.7 on 2 cores).
   With ``--mc-stages`` instead: where a sweep run's time goes (ms per run in each model
   stage, the build and each piece of work after the last step).
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
from typing import Any


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


def _sweep_run(seed: int, traders: int) -> None:
    from contagion.sweep.task import RunTask, execute_run

    out = execute_run(RunTask(scenario="default", params={"n_traders": traders}, values={},
                              run_id="b", point=0, replication=0, seed=seed))
    assert out.row["status"] == "ok", out.row["error"]


def _baseline_child(traders: int) -> None:
    """Time this interpreter's ``execute_run`` for each seed read from stdin (one a line)."""
    from contagion.threads import limit_blas_threads

    limit_blas_threads()
    _sweep_run(0, traders)
    print("ready", flush=True)
    for line in sys.stdin:
        t = time.perf_counter()
        _sweep_run(int(line), traders)
        print(time.perf_counter() - t, flush=True)


def per_core(runs: int, traders: int, baseline: str | None = None) -> dict[str, float]:
    """Runs per second (median run) on this core of the full path, the sweep path and, with
    ``baseline`` (a source tree), that tree's sweep path."""
    from contagion.metrics import run_record
    from contagion.runner import simulate
    from contagion.sweep.task import build_scenario
    from contagion.threads import limit_blas_threads

    limit_blas_threads()
    params = {"n_traders": traders}

    def full(seed: int) -> None:
        r = simulate(build_scenario("default", params), seed=seed)
        run_record(r.events, r.series, r.venues)

    def sweep(seed: int) -> None:
        _sweep_run(seed, traders)

    full(0)  # warm: imports, caches
    sweep(0)
    times: dict[str, list[float]] = {"full": [], "sweep": []}
    child = stdin = stdout = None
    if baseline is not None:
        env = {**os.environ, "PYTHONPATH": os.path.abspath(baseline)}
        child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--baseline-child",
                                  "--mc-traders", str(traders)], cwd=baseline, env=env,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        stdin, stdout = child.stdin, child.stdout
        assert stdin is not None and stdout is not None
        assert stdout.readline().strip() == "ready"
        times["baseline"] = []
    for seed in range(1, runs + 1):
        for name, fn in (("full", full), ("sweep", sweep)):
            t = time.perf_counter()
            fn(seed)
            times[name].append(time.perf_counter() - t)
        if stdin is not None and stdout is not None:
            stdin.write(f"{seed}\n")
            stdin.flush()
            times["baseline"].append(float(stdout.readline()))
    if child is not None and stdin is not None:
        stdin.close()
        child.wait()
    return {k: 1 / sorted(v)[len(v) // 2] for k, v in times.items()}


#: What :func:`stage_times` times: the model's stages, its build, and the work after the
#: last step (``module:attribute``; a class's method as ``module:Class.method``).
_STAGES = ("contagion.model:ContagionModel.__init__",
           *(f"contagion.model:ContagionModel._stage_{s}" for s in (
               "market", "oracles", "traders", "liquidations", "clearing_houses",
               "shortfalls", "record")),
           "contagion.events:EventLog.to_frame", "contagion.runner:run_summary",
           "contagion.metrics:run_record", "contagion.sweep.task:exposure_profile",
           "contagion.sweep.task:build_scenario")


def stage_times(runs: int, traders: int) -> dict[str, float]:
    """Milliseconds per sweep run (:func:`contagion.sweep.task.execute_run`) spent in each of
    :data:`_STAGES` (inclusive), and ``total``, over ``runs`` runs after a warm one."""
    import importlib

    from contagion.threads import limit_blas_threads

    limit_blas_threads()
    spent: dict[str, float] = dict.fromkeys(_STAGES, 0.0)

    def timed(key: str, fn: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - t
        return run

    for key in _STAGES:
        module, _, attr = key.partition(":")
        owner: Any = importlib.import_module(module)
        *path, name = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, name, timed(key, getattr(owner, name)))
    _sweep_run(0, traders)
    for key in spent:
        spent[key] = 0.0
    t = time.perf_counter()
    for seed in range(1, runs + 1):
        _sweep_run(seed, traders)
    total = time.perf_counter() - t
    out = {k.rpartition(":")[2].rpartition(".")[2]: 1000 * v / runs for k, v in spent.items()}
    out["total"] = 1000 * total / runs
    return out


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
    ap.add_argument("--mc-runs", type=int, default=20)
    ap.add_argument("--mc-traders", type=int, default=1000)
    ap.add_argument("--mc-only", action="store_true", help="only the per-core figures")
    ap.add_argument("--baseline-src", help="an older source tree whose sweep run to time too")
    ap.add_argument("--mc-stages", action="store_true",
                    help="only where a sweep run's time goes: ms per run in each model stage "
                         "and each piece of work after the last step")
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--baseline-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        _memory_child(args.memory_child)
        return
    if args.baseline_child:
        _baseline_child(args.mc_traders)
        return
    if args.mc_stages:
        times = stage_times(args.mc_runs, args.mc_traders)
        print(f"a sweep run ({args.mc_traders:,} traders, 144 steps), ms per run over "
              f"{args.mc_runs} runs (each inclusive of what it calls):")
        for name, ms in sorted(times.items(), key=lambda kv: -kv[1]):
            print(f"  {name:24s} {ms:7.1f}")
        return
    rate = per_core(args.mc_runs, args.mc_traders, args.baseline_src)
    full, lean = rate["full"], rate["sweep"]
    print(f"per core, {args.mc_runs} runs each of the default scenario ({args.mc_traders:,} "
          f"traders, 144 steps), median run, in turn:")
    print(f"  full path (every output + run_record) {full:.2f} runs/s ({1000 / full:.0f} ms), "
          f"sweep path (execute_run) {lean:.2f} runs/s ({1000 / lean:.0f} ms), ratio "
          f"{lean / full:.2f}x (target >= 10 runs/s: {'PASS' if lean >= 10 else 'FAIL'})")
    if "baseline" in rate:
        old = rate["baseline"]
        print(f"  baseline {args.baseline_src} sweep path {old:.2f} runs/s ({1000 / old:.0f} ms):"
              f" this tree's sweep path is {lean / old:.2f}x, its full path {full / old:.2f}x")
    if args.mc_only:
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
