"""Benchmark: milliseconds per step before, during and after the crash, this tree against a
baseline revision, side by side in one run.

Run from the repository root::

    .venv/bin/python experiments/bench/bench_hotpath.py                 # 1e6 traders, vs main
    .venv/bin/python experiments/bench/bench_hotpath.py --n 200000 --against HEAD~3

Each side runs in a fresh subprocess (one model at a time: a 1e6-trader model is ~100 MB):
the baseline is ``git archive <rev> contagion models`` unpacked into a temporary folder and
put first on ``PYTHONPATH``; this tree is the working tree. The sides alternate
``--repeat`` times and each step's fastest time is kept, so the load of a shared machine
hits both alike. Every run is the default scenario (``get_scenario("default",
n_traders=n, steps=steps)``, seed 1) and times each ``model.step()`` with
``perf_counter``. The phases come from the scenario's crash path: before (steps before
``shock_start_step``), during (the shock's steps) and after (the rest); each phase reports
the median ms/step and account-steps/s (accounts = rows of every lending, perp and
deposit book). Both sides run with one BLAS thread (``OPENBLAS_NUM_THREADS=1`` and the
like, unless set), as the CLI and sweep workers do. Both sides also hash their series,
events, venue table and exposures: the last line says whether the outputs are byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from statistics import median
from typing import Any

__all__ = ["main", "phases", "time_steps"]

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                         "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def time_steps(n: int, steps: int, seed: int) -> dict[str, Any]:
    """Build the default scenario at ``n`` traders and time every step (in this process)."""
    import pandas as pd

    import contagion
    from contagion.model import ContagionModel
    from models import get_scenario

    sc = get_scenario("default", n_traders=n, steps=steps)
    warm = ContagionModel(get_scenario("default", n_traders=200, steps=3), seed=seed)
    warm.run(3)  # lazy imports and caches outside the timings
    model = ContagionModel(sc, seed=seed)
    accounts = (sum(len(v.book) for v in model.lending) + sum(len(v.book) for v in model.perps)
                + sum(len(v.book) for v in model.custodial))
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - t)
    digest = hashlib.sha256()
    for frame in (model.datacollector.get_model_vars_dataframe(), model.events_frame,
                  model.venue_frame(), model.exposure_frame()):
        digest.update(pd.util.hash_pandas_object(frame, index=True).values.tobytes())
    shock = next(p for p in sc.paths if p.kind == "crash")
    return {"tree": os.path.dirname(os.path.dirname(os.path.abspath(contagion.__file__))),
            "accounts": accounts, "times": times, "digest": digest.hexdigest(),
            "shock": [shock.shock_start_step, shock.shock_start_step + shock.shock_duration_steps]}


def phases(times: list[float], shock: list[int]) -> dict[str, list[float]]:
    """Step times by phase (step k is ``times[k - 1]``): before, during, after the crash."""
    start, end = shock
    return {"before": times[1:start - 1],  # step 1 also wires the model: left out
            "during": times[start - 1:end],
            "after": times[end:]}


def _run_side(tree: str | None, n: int, steps: int, seed: int) -> dict[str, Any]:
    env = dict(os.environ)
    for name in BLAS_THREAD_VARIABLES:  # one BLAS thread, as the CLI and sweep workers run
        env.setdefault(name, "1")
    if tree is not None:
        env["PYTHONPATH"] = tree + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    cmd = [sys.executable, os.path.abspath(__file__), "--one", "--n", str(n),
           "--steps", str(steps), "--seed", str(seed)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env,
                         cwd=tree or ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"side {tree or 'this tree'} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _unpack(rev: str, into: str) -> None:
    blob = subprocess.run(["git", "archive", rev, "contagion", "models"], cwd=ROOT,
                          capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000, help="traders (default %(default)s)")
    p.add_argument("--steps", type=int, default=100, help="steps (default %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="model seed (default %(default)s)")
    p.add_argument("--against", default=None,
                   help="baseline git revision (default: where HEAD forked from main)")
    p.add_argument("--repeat", type=int, default=2,
                   help="runs per side, alternating; per-step fastest kept (default %(default)s)")
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.n < 1 or args.steps < 50 or args.repeat < 1:
        p.error("--n >= 1, --steps >= 50 (the crash runs from step 12 to 48), --repeat >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Time both sides and print the table; 0 unless a side crashed."""
    args = _parse(argv)
    if args.one:
        print(json.dumps(time_steps(args.n, args.steps, args.seed)))
        return 0
    if args.against is None:
        args.against = subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT,
                                      capture_output=True, text=True,
                                      check=True).stdout.strip()
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "this tree": []}
    with tempfile.TemporaryDirectory(prefix="bench-hotpath-") as base:
        _unpack(args.against, base)
        try:
            for r in range(args.repeat):
                for side, tree in (("baseline", base), ("this tree", None)):
                    print(f"[{side}] run {r + 1}/{args.repeat} ...", file=sys.stderr, flush=True)
                    runs[side].append(_run_side(tree, args.n, args.steps, args.seed))
        except RuntimeError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
    rev = subprocess.run(["git", "rev-parse", "--short", args.against], cwd=ROOT,
                         capture_output=True, text=True, check=False).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True, check=False).stdout.strip()
    best = {side: [min(step) for step in zip(*(x["times"] for x in rs), strict=True)]
            for side, rs in runs.items()}
    first = runs["this tree"][0]
    accounts, shock = first["accounts"], first["shock"]
    lines = [f"# ms per step, default scenario, n_traders={args.n:,} ({accounts:,} accounts), "
             f"{args.steps} steps, seed {args.seed}; fastest of {args.repeat} per step",
             f"baseline: {args.against} ({rev}); this tree: HEAD {head} + working tree", "",
             "| phase (steps) | baseline ms/step | this tree ms/step | speed-up "
             "| baseline account-steps/s | this tree account-steps/s |",
             "|---|---:|---:|---:|---:|---:|"]
    ph = {side: phases(t, shock) for side, t in best.items()}
    spans = {"before": f"2-{shock[0] - 1}", "during": f"{shock[0]}-{shock[1]}",
             "after": f"{shock[1] + 1}-{args.steps}"}
    for name in ("before", "during", "after"):
        old, new = median(ph["baseline"][name]), median(ph["this tree"][name])
        lines.append(f"| {name} ({spans[name]}) | {old * 1e3:,.1f} | {new * 1e3:,.1f} "
                     f"| {old / new:,.2f}x | {accounts / old / 1e6:,.1f} M "
                     f"| {accounts / new / 1e6:,.1f} M |")
    total_old, total_new = sum(best["baseline"]), sum(best["this tree"])
    lines.append(f"| all (1-{args.steps}) | {total_old / args.steps * 1e3:,.1f} "
                 f"| {total_new / args.steps * 1e3:,.1f} | {total_old / total_new:,.2f}x "
                 f"| {accounts * args.steps / total_old / 1e6:,.1f} M "
                 f"| {accounts * args.steps / total_new / 1e6:,.1f} M |")
    digests = {x["digest"] for rs in runs.values() for x in rs}
    lines += ["", "outputs (series, events, venues, exposures): "
              + ("byte-identical" if len(digests) == 1 else "DIFFER")]
    print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
