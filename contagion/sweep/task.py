"""One run of a sweep: the task sent to a worker, and what comes back.

:func:`execute_run` is the worker function of every backend (in-process, process pool,
Dask): it builds the run's scenario from the preset and its parameters, simulates it with
the run's seed and returns a :class:`RunOutcome`: the one-row record (identity, swept
values, status, metrics) and the run's exposure profile. A run that raises comes back as
a ``failed`` row carrying the error; it never raises itself. Nothing else of the run's
output leaves the worker, so memory stays flat however many runs a sweep has.
"""

from __future__ import annotations

import functools
import logging
import re
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from contagion.scenario import Scenario, override

__all__ = [
    "IDENTITY_COLUMNS",
    "RunOutcome",
    "RunTask",
    "blame_key",
    "build_scenario",
    "execute_run",
    "exposure_profile",
    "failed_outcome",
]

log = logging.getLogger(__name__)

#: Columns every result row has besides the swept parameters and the metrics.
IDENTITY_COLUMNS = ("run_id", "point", "replication", "seed", "status", "error", "elapsed_s")


@dataclass(frozen=True, kw_only=True)
class RunTask:
    """Everything a worker needs for one run (small and picklable).

    ``params`` holds the fixed then the swept parameters, in the order they are applied:
    preset keyword parameters (``shock_frac``) and dotted scenario paths
    (``perps.PerpX.maintenance_margin_frac``), the latter applied after the preset is built.
    """

    scenario: str
    params: Mapping[str, Any]
    values: Mapping[str, Any]
    run_id: str
    point: int
    replication: int
    seed: int
    metrics: tuple[str, ...] | None = None


@dataclass(kw_only=True)
class RunOutcome:
    """What a worker sends back: the result row, the exposure profile (``None`` if the run
    failed) and, for a failure, the traceback (logged, not stored)."""

    row: dict[str, Any]
    profile: pd.DataFrame | None = None
    traceback: str = field(default="", repr=False)

    @property
    def failed(self) -> bool:
        """Whether the run raised."""
        return bool(self.row["status"] == "failed")


def build_scenario(name: str, params: Mapping[str, Any]) -> Scenario:
    """The preset ``name`` built with its keyword parameters in ``params``, then every dotted
    path in ``params`` applied with :func:`contagion.scenario.override`, in order.

    Raises :class:`~contagion.errors.ParameterError` (or ``UnknownScenarioError``) as the
    preset and the scenario do.

    Examples
    --------
    >>> build_scenario("default", {"n_traders": 150, "perps.PerpX.mmr_frac": 0.04})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    contagion.errors.ParameterError: parameter 'perps.PerpX.mmr_frac' = 0.04 is invalid: ...
    >>> build_scenario("default", {"n_traders": 150, "steps": 30}).market.steps
    30
    """
    from models import SCENARIOS, get_scenario, is_scenario_file  # the sweep is a composition root

    preset = _preset_parameters(name) if not is_scenario_file(name) and name in SCENARIOS else None
    if preset is None:
        from models import scenario_parameters

        preset = scenario_parameters(name)
        scenario = get_scenario(name, **{k: v for k, v in params.items() if k in preset})
    else:  # a preset: its parameters are known (get_scenario would look them up again)
        scenario = SCENARIOS[name](**{k: v for k, v in params.items() if k in preset})
    for key, value in params.items():
        if key not in preset:
            scenario = override(scenario, key, value)
    return scenario


@functools.lru_cache(maxsize=64)
def _preset_parameters(name: str) -> dict[str, Any]:
    from models import scenario_parameters

    return scenario_parameters(name)


def blame_key(error_name: str, keys: Mapping[str, Any]) -> str | None:
    """The key of ``keys`` a :class:`ParameterError` named ``error_name`` is about, if any.

    The scenario names fields ``lending[LendB].retail_supply_usd`` where a spec writes
    ``lending.LendB.retail_supply_usd``.

    Examples
    --------
    >>> blame_key("lending[LendB].retail_supply_usd", {"lending.LendB.retail_supply_usd": 1})
    'lending.LendB.retail_supply_usd'
    >>> blame_key("shock_frac", {"n_traders": 1}) is None
    True
    """
    dotted = re.sub(r"\[([^\]]*)\]", r".\1", error_name)
    for key in keys:
        if key in (error_name, dotted):
            return key
    return None


def exposure_profile(exposures: pd.DataFrame, *, run_id: str, point: int,
                     replication: int) -> pd.DataFrame:
    """A run's venue-pair exposures summed over channels: one row per (step, holder,
    counterparty) with ``exposure_usd``, tagged with ``run_id``, ``point`` and ``replication``.

    Examples
    --------
    >>> ex = pd.DataFrame({"step": [0, 0, 1], "holder": ["A", "A", "A"],
    ...     "counterparty": ["B", "B", "B"], "channel": ["loan", "supply", "loan"],
    ...     "exposure_usd": [1.0, 2.0, 4.0]})
    >>> exposure_profile(ex, run_id="p00000-r000", point=0, replication=0)[
    ...     ["step", "exposure_usd"]].to_numpy().tolist()
    [[0.0, 3.0], [1.0, 4.0]]
    """
    cols = ["step", "holder", "counterparty"]
    agg = _unique_pairs_profile(exposures) if len(exposures) else None
    if agg is None and len(exposures):
        agg = exposures.groupby(cols, as_index=False, sort=True)["exposure_usd"].sum()
    elif agg is None:
        agg = pd.DataFrame({"step": pd.Series(dtype="int64"), "holder": pd.Series(dtype=str),
                            "counterparty": pd.Series(dtype=str),
                            "exposure_usd": pd.Series(dtype="float64")})
    # the tags and the typed columns in one frame (inserting columns one by one into the
    # group-by's frame, then retyping it, cost more than the group-by)
    return pd.DataFrame({"run_id": run_id, "point": point, "replication": replication,
                         "step": agg["step"].astype("int64"), "holder": agg["holder"],
                         "counterparty": agg["counterparty"],
                         "exposure_usd": agg["exposure_usd"].astype("float64")},
                        index=agg.index)


def _unique_pairs_profile(exposures: pd.DataFrame) -> pd.DataFrame | None:
    """:func:`exposure_profile`'s sum over channels when no (step, holder, counterparty)
    repeats (each pair through one channel a step, as in most runs): the rows sorted by
    that key, each value as pandas' group sum of one value leaves it (``0.0 + x``; NaN
    counts as 0). ``None`` when a key repeats or is missing: then pandas sums the groups.
    A group-by cost more than the rest of the run's measures."""
    step = exposures["step"].to_numpy()
    holder, counterparty = exposures["holder"].array, exposures["counterparty"].array
    if step.dtype != np.int64 or holder.isna().any() or counterparty.isna().any():
        return None
    keys = list(zip(step.tolist(), holder.tolist(), counterparty.tolist(), strict=True))
    order = sorted(range(len(keys)), key=keys.__getitem__)
    if any(keys[a] == keys[b] for a, b in pairwise(order)):
        return None
    values = exposures["exposure_usd"].to_numpy(dtype=np.float64)[order]
    with np.errstate(invalid="ignore"):
        summed = np.where(np.isnan(values), 0.0, 0.0 + values)
    at = np.asarray(order, dtype=np.int64)
    return pd.DataFrame({"step": step[at], "holder": holder.take(at),
                         "counterparty": counterparty.take(at), "exposure_usd": summed})


def _identity(task: RunTask) -> dict[str, Any]:
    return {"run_id": task.run_id, "point": task.point, "replication": task.replication,
            "seed": task.seed, **task.values}


def failed_outcome(task: RunTask, error: str, *, elapsed_s: float = 0.0, tb: str = "") -> RunOutcome:
    """The outcome of a run that raised (or whose worker died) with message ``error``."""
    row = {**_identity(task), "status": "failed", "error": error, "elapsed_s": elapsed_s}
    return RunOutcome(row=row, traceback=tb)


def _describe(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)
    at = f" (at {where[-1].filename.rsplit('/', 1)[-1]}:{where[-1].lineno})" if where else ""
    return f"{type(exc).__name__}: {exc}{at}"


def execute_run(task: RunTask) -> RunOutcome:
    """Run one task: build, simulate with ``task.seed``, measure. Never raises on a failing
    run; the row then has ``status = "failed"`` and ``error`` the exception's type, message
    and innermost source line.

    Examples
    --------
    >>> task = RunTask(scenario="default", params={"n_traders": 150, "steps": 20},
    ...                values={}, run_id="p00000-r000", point=0, replication=0, seed=1,
    ...                metrics=("defaults", "bad_debt_usd"))
    >>> out = execute_run(task)
    >>> out.row["status"], sorted(out.row)[:3], len(out.profile) > 0
    ('ok', ['bad_debt_usd', 'defaults', 'elapsed_s'], True)
    >>> bad = RunTask(scenario="default", params={"n_traders": 150,
    ...     "lending.LendB.retail_supply_usd": 1000.0}, values={}, run_id="p00001-r000",
    ...     point=1, replication=0, seed=1)
    >>> execute_run(bad).row["error"].startswith("ParameterError: parameter 'lending[LendB]")
    True
    """
    from contagion.metrics import run_record
    from contagion.runner import METRICS, simulate
    from contagion.threads import limit_blas_threads

    limit_blas_threads()  # a Dask worker was not started by our CLI: once per process
    start = time.perf_counter()
    try:
        # no node states, network or event columns but those the measures read
        result = simulate(build_scenario(task.scenario, task.params), seed=task.seed,
                          record=METRICS)
        record = run_record(result.events, result.series, result.venues,
                            summary=result.summary)
        profile = exposure_profile(result.exposures, run_id=task.run_id, point=task.point,
                                   replication=task.replication)
    except Exception as exc:  # a failing run is recorded, never fatal to the sweep
        return failed_outcome(task, _describe(exc), elapsed_s=time.perf_counter() - start,
                              tb=traceback.format_exc())
    if task.metrics is not None:
        record = {k: record.get(k) for k in task.metrics}
    row = {**_identity(task), "status": "ok", "error": "",
           "elapsed_s": time.perf_counter() - start, **record}
    return RunOutcome(row=row, profile=profile)
