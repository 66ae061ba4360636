"""Parameter sweeps: many seeded runs of a scenario, described by a TOML spec, recorded run
by run as Parquet part files, on one process, a local process pool or a Dask cluster.

A spec (``experiments/leverage_shock.toml``)::

    [sweep]
    name = "leverage_shock"            # default: the file's stem
    scenario = "default"               # a preset of models.SCENARIOS
    design = "grid"                    # grid | paired | random | lhs
    # points = 20                      # random and lhs only: how many points
    replications = 8                   # runs per point, each with its own seed
    root_seed = 20261124               # per-run seeds: SeedSequence(root_seed).spawn(n_runs)
    out = "experiments/results/leverage_shock"   # default runs/sweeps/<name>; --out wins
    metrics = ["cross_venue", "defaults", "bad_debt_usd"]   # optional; default: every
                                       # key of contagion.metrics.run_record

    [fixed]                            # the same in every run
    n_traders = 500                    # a keyword parameter of the preset...
    "perps.PerpX.maintenance_margin_frac" = 0.04   # ...or a dotted scenario path, quoted

    [swept]                            # grid / paired: lists of values
    mean_leverage = [2.0, 4.0, 6.0, 8.0]
    shock_frac = [0.1, 0.2, 0.3, 0.4, 0.5]
    # random / lhs: a range table, or a list of choices (sampled uniformly / stratified)
    # oracle_delay_steps = { low = 0, high = 12, integer = true }
    # liquidator_capital_usd = { low = 1e6, high = 1e8, log = true }
    # cross_margin = [true, false]

    [smoke]                            # what --smoke runs instead: seconds, not hours
    replications = 2
    swept.mean_leverage = [2.0, 8.0]   # (same as a [smoke.swept] table)
    fixed.n_traders = 150              # (same as a [smoke.fixed] table)
    # points = 3                       # random / lhs
    # out = "..."                      # default: <out>-smoke

``grid`` runs every combination (the first swept key varies slowest), ``paired`` the i-th
value of every list (lists of equal length). Preset parameters are passed to the preset;
dotted paths are then applied with :func:`contagion.scenario.override`, fixed ones first.
Without ``[smoke]``, ``--smoke`` runs one replication of the first and last value of each
list (at most 3 random/lhs points).

The spec is checked before any run starts and before anything is written: unknown tables,
keys, scenario or design, values of the wrong type, empty ranges, and values the preset
or the scenario rejects (the scenario of every point is built once). The
:class:`SpecError` names the key, e.g. ``swept.mean_levrage: unknown parameter of
scenario 'default' (did you mean 'mean_leverage'? ...)``.

Run ``i`` is (point ``p``, replication ``r``), ``i = p * replications + r``, with id
``p00012-r003`` and seed ``SeedSequence(root_seed).spawn(n_runs)[i].generate_state(1,
uint32)[0]``. The output directory holds ``manifest.json`` (the spec, the design points,
every run id and seed, the package version and git commit), ``parts/<run_id>.parquet``
(one row per run: ``run_id``, ``point``, ``replication``, ``seed``, one column per swept
key, ``status`` ``"ok"``/``"failed"``, ``error``, ``elapsed_s``, the metrics) and
``profiles/<run_id>.parquet`` (the run's exposure per step and venue pair, summed over
channels). Each file is written to a temporary name and renamed, as its run finishes:
killing a sweep loses only the runs in flight, and ``resume=True`` runs only the missing
ones. A run that raises is recorded (``status = "failed"``) and the sweep goes on.

Examples
--------
>>> import tempfile, pathlib
>>> spec = parse_spec({"sweep": {"name": "demo", "root_seed": 1, "replications": 2,
...                              "metrics": ["defaults", "bad_debt_usd"]},
...                    "fixed": {"n_traders": 150, "steps": 20},
...                    "swept": {"shock_frac": [0.1, 0.4]}})
>>> out = pathlib.Path(tempfile.mkdtemp()) / "demo"
>>> report = run_sweep(spec, backend="serial", out=out)
>>> report.ok, report.failed
(4, 0)
>>> df = load_results(out)
>>> df["run_id"].tolist()
['p00000-r000', 'p00000-r001', 'p00001-r000', 'p00001-r001']
>>> df["shock_frac"].tolist(), df["status"].unique().tolist()
([0.1, 0.1, 0.4, 0.4], ['ok'])
>>> (df["seed"].tolist() == derive_seeds(1, 4), sorted(df.columns)[:3])
(True, ['bad_debt_usd', 'defaults', 'elapsed_s'])
"""

from __future__ import annotations

import sys
from typing import TextIO

from contagion.sweep.check import check_points, check_spec
from contagion.sweep.design import (
    MAX_RUNS,
    check_size,
    count_points,
    derive_seeds,
    design_points,
    plan_runs,
    run_id,
)
from contagion.sweep.paths import describe_os_error
from contagion.sweep.runner import (
    BACKENDS,
    MAX_WORKERS,
    BackendError,
    SweepReport,
    check_scheduler,
    run_sweep,
)
from contagion.sweep.spec import SpecError, SweepSpec, SweptRange, apply_smoke, load_spec, parse_spec
from contagion.sweep.store import load_profiles, load_results, read_manifest
from contagion.sweep.task import RunOutcome, RunTask, execute_run

__all__ = [
    "BACKENDS",
    "MAX_RUNS",
    "MAX_WORKERS",
    "BackendError",
    "RunOutcome",
    "RunTask",
    "SpecError",
    "SweepReport",
    "SweepSpec",
    "SweptRange",
    "apply_smoke",
    "check_points",
    "check_scheduler",
    "check_size",
    "check_spec",
    "count_points",
    "derive_seeds",
    "design_points",
    "execute_run",
    "load_profiles",
    "load_results",
    "load_spec",
    "parse_spec",
    "plan_runs",
    "read_manifest",
    "run_id",
    "run_sweep",
    "sweep_command",
]


def sweep_command(spec_path: str, *, workers: int | None, scheduler: str | None, out: str | None,
                  resume: bool, smoke: bool, serial: bool,
                  stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """``contagion sweep SPEC``: run the sweep, progress on stderr, a summary on stdout.

    Backend: ``serial`` (in-process) with ``serial``, Dask with ``scheduler``, otherwise a
    local process pool of ``workers`` processes. Returns the exit status: 0 when the sweep
    finished (failed runs are recorded in the results, and counted in the summary), 2 for
    a bad spec or arguments (nothing is run), 1 if the backend failed (e.g. no scheduler)
    or the output cannot be written, 130 on Ctrl-C; a sweep interrupted part way (Ctrl-C,
    kill, crash) is finished with ``resume``.
    """
    out_stream = stdout or sys.stdout
    err_stream = stderr or sys.stderr
    try:
        if serial and scheduler:
            raise SpecError("--serial", "cannot be combined with --scheduler")
        if scheduler is not None:
            check_scheduler(scheduler)
        backend = "serial" if serial else ("dask" if scheduler else "local")
        spec = load_spec(spec_path)
        report = run_sweep(spec, backend=backend, workers=workers, scheduler=scheduler, out=out,
                           resume=resume, smoke=smoke, progress=err_stream)
    except SpecError as exc:
        print(f"contagion: error: {exc}", file=err_stream)
        return 2
    except BackendError as exc:
        print(f"contagion: error: {exc}", file=err_stream)
        return 1
    except OSError as exc:  # a disk fault while writing: one line, what and why
        hint = "runs already finished are kept; finish the sweep with --resume once fixed"
        print(f"contagion: error: {describe_os_error(exc, hint)}", file=err_stream)
        return 1
    except KeyboardInterrupt:
        print("contagion: sweep interrupted; finished runs are saved, finish it with --resume",
              file=err_stream)
        return 130
    print(report.summary(), file=out_stream)
    return 0
