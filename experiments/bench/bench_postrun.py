"""Benchmark: what a user waits for after the last step of a large run (issue 14).

Run from the repository root::

    .venv/bin/python experiments/bench/bench_postrun.py                    # 1e6 traders
    .venv/bin/python experiments/bench/bench_postrun.py --traders 100000   # quick

One run of the default scenario (``--steps`` steps, seed 1, one BLAS thread as the CLI runs),
then, on that same run, every piece of work ``contagion run`` does after the last step: the
result's frames (``simulate``'s collection: series, events, venues, node states, exposures,
network, summary, and the positions table ``write_run`` builds), each timed once as a run
builds it once, and each file ``write_run`` writes, the two CSV files included, ``--repeat``
times into a fresh directory. Reported per piece: the time (for files the fastest of the
repeats) and the file's size, then the totals with CSV (the old default) and without (the
default since issue 14: ``contagion run --csv`` opts in), and the positions file written both ways,
alternating and warm: from the Arrow table (now) and through ``RunResult.positions``, a
pandas frame (before). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The fastest of ``repeat`` calls (seconds) and the last call's value."""
    best, value = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t)
    return best, value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--traders", type=int, default=1_000_000)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    if args.traders < 1 or args.steps < 1 or args.repeat < 1:
        p.error("--traders, --steps and --repeat must be positive integers")

    from contagion.threads import limit_blas_threads

    limit_blas_threads()

    from contagion.metrics import run_summary
    from contagion.model import ContagionModel
    from contagion.network import write_network
    from contagion.output import _jsonable
    from contagion.positions import positions_table
    from contagion.runner import RunResult
    from contagion.scenario_file import dumps
    from contagion.world import write_world
    from models import get_scenario

    scenario = get_scenario("default", n_traders=args.traders, steps=args.steps)
    model = ContagionModel(scenario, seed=1)
    t = time.perf_counter()
    model.run()
    run_s = time.perf_counter() - t

    def series() -> Any:
        s = model.datacollector.get_model_vars_dataframe()
        s.index.name = "step"
        return s

    collect: list[tuple[str, Callable[[], Any]]] = [
        ("series frame", series),
        ("events frame", lambda: model.events_frame),
        ("venue frame", model.venue_frame),
        ("node-state frame", model.node_state_frame),
        ("exposure frame", model.exposure_frame),
        ("network", lambda: model.network),
    ]
    frames: dict[str, Any] = {}
    rows: list[tuple[str, str, float, int | None]] = []
    for name, fn in collect:  # once each, as simulate() does (some are cached after)
        sec, frames[name] = _timed(fn, 1)
        rows.append(("collect", name, sec, None))
    sec, summary = _timed(lambda: run_summary(frames["events frame"], frames["series frame"],
                                              frames["venue frame"]), 1)
    rows.append(("collect", "summary", sec, None))
    result = RunResult(scenario=scenario, seed=1, events=frames["events frame"],
                       series=frames["series frame"], venues=frames["venue frame"],
                       node_states=frames["node-state frame"], network=frames["network"],
                       exposures=frames["exposure frame"], summary=summary,
                       starting_books=model.starting_books, world=model.graph)
    sec, positions = _timed(lambda: positions_table(model.starting_books), 1)
    rows.append(("collect", "positions table", sec, None))

    # The files write_run writes, in its order (contagion/output.py), CSV included.
    files: list[tuple[str, bool, Callable[[Path], Any]]] = [
        ("events.parquet", False, lambda f: result.events.to_parquet(f, index=False)),
        ("series.parquet", False, lambda f: result.series.to_parquet(f)),
        ("events.csv", True, lambda f: result.events.to_csv(f, index=False)),
        ("series.csv", True, lambda f: result.series.to_csv(f)),
        ("venues.parquet", False, lambda f: result.venues.to_parquet(f, index=False)),
        ("node_states.parquet", False, lambda f: result.node_states.to_parquet(f, index=False)),
        ("exposures.parquet", False, lambda f: result.exposures.to_parquet(f, index=False)),
        ("network.json", False, lambda f: write_network(result.network, f)),
        ("summary.json", False,
         lambda f: f.write_text(json.dumps(_jsonable(result.summary), indent=2))),
        ("scenario.toml", False, lambda f: f.write_text(dumps(result.scenario),
                                                         encoding="utf-8")),
        ("positions.parquet", False, lambda f: pq.write_table(positions, f)),
        ("world.json", False, lambda f: write_world(result.world, f)),
    ]
    csv_names = {name for name, is_csv, _ in files if is_csv}
    root = Path(tempfile.mkdtemp(prefix="bench_postrun."))
    try:
        for name, _, write in files:
            best = float("inf")
            size = 0
            for k in range(args.repeat):
                target = root / f"{k}" / name
                target.parent.mkdir(exist_ok=True)
                t = time.perf_counter()
                write(target)
                best = min(best, time.perf_counter() - t)
                size = target.stat().st_size
                target.unlink()
            rows.append(("write", name, best, size))
        # the positions file both ways, alternating, warm (the first call above paid the
        # process's cold costs): from the Arrow table (now) and through RunResult.positions,
        # a pandas frame (before)
        arrow_best = pandas_best = float("inf")
        for k in range(args.repeat):
            target = root / f"{k}" / "positions.parquet"
            t = time.perf_counter()
            pq.write_table(positions_table(model.starting_books), target)
            arrow_best = min(arrow_best, time.perf_counter() - t)
            target.unlink()
            t = time.perf_counter()
            result.positions.to_parquet(target, index=False)
            pandas_best = min(pandas_best, time.perf_counter() - t)
            target.unlink()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    accounts = (sum(len(v.book) for v in model.lending) + sum(len(v.book) for v in model.perps))
    print(f"default scenario, {args.traders:,} traders, {args.steps} steps, seed 1; run "
          f"{run_s:.2f} s; {accounts:,} accounts; {len(result.events):,} events; fastest of "
          f"{args.repeat} for files")
    print()
    print("| stage | piece | s | MB |")
    print("|---|---|---:|---:|")
    for stage, name, sec, nbytes in rows:
        mb = "" if nbytes is None else f"{nbytes / 1e6:.1f}"
        print(f"| {stage} | {name} | {sec:.3f} | {mb} |")
    collect_s = sum(sec for stage, _, sec, _ in rows if stage == "collect")
    write_all = sum(sec for stage, _, sec, _ in rows if stage == "write")
    write_csv = sum(sec for stage, name, sec, _ in rows if name in csv_names)
    print()
    print(f"after the last step, with CSV (before issue 14): {collect_s + write_all:.2f} s "
          f"(collect {collect_s:.2f} s, write {write_all:.2f} s, of which CSV {write_csv:.2f} s)")
    now = collect_s + write_all - write_csv
    print(f"after the last step, without CSV (the default): {now:.2f}"
          f" s; CSV was {write_csv / (collect_s + write_all):.0%} of it")
    print(f"positions.parquet, warm, fastest of {args.repeat} alternating: from the Arrow table "
          f"{arrow_best:.2f} s, through a pandas frame (before) {pandas_best:.2f} s "
          f"({pandas_best / arrow_best:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
