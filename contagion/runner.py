"""Run a scenario headless and collect everything it produced as DataFrames.

:func:`simulate` is what the CLI, the sweeps and the tests call; :class:`RunResult`
carries the event log, the series, the venue table, node states, the final network and
the summary, so nothing downstream reaches into agents.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd

from contagion.errors import ParameterError, RunCancelled
from contagion.events import EVENT_COLUMNS
from contagion.metrics import (
    METRIC_EVENT_COLUMNS,
    METRIC_FINAL_SERIES,
    METRIC_SERIES_COLUMNS,
    run_summary,
)
from contagion.model import ContagionModel
from contagion.positions import COLUMNS, StartingBooks, positions_frame
from contagion.scenario import Scenario

__all__ = ["FULL", "METRICS", "SWEEP", "RecordOptions", "RunResult", "simulate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class RecordOptions:
    """Which of a run's outputs :func:`simulate` builds.

    ``node_states``: record every node's state each ``market.record_network_every`` steps
    (the dashboard's network replay; in a run of 1,000 traders more than half the run's
    time). ``network``: build the final exposure graph (``RunResult.network``). Outputs
    switched off come back empty (an empty node-state table with its columns, an empty
    graph). ``event_columns``: the event log's columns to build (``None``: every one);
    ``series_columns``: the series to record (``None``: every one; a name ending in ``*``
    stands for every series it begins); the rows and the values of the columns kept are
    the same. ``final_series``: series computed at the run's last step only (NaN before
    it), for readers of their last value. Every other output (venues, exposures, summary)
    is the same whatever the options, so a run's numbers do not depend on them.
    :data:`FULL` (the default) builds everything; :data:`SWEEP` no node states or network;
    :data:`METRICS` also only the event columns and series the run's measures read
    (:func:`contagion.metrics.run_record`), the insolvent debt at the end only: what a
    sweep's worker keeps.
    """

    node_states: bool = True
    network: bool = True
    event_columns: tuple[str, ...] | None = None
    series_columns: tuple[str, ...] | None = None
    final_series: tuple[str, ...] = ()


#: Every output (the CLI, the dashboard, the tests).
FULL = RecordOptions()
#: Events, series, venues and exposures; no node states, no network.
SWEEP = RecordOptions(node_states=False, network=False)
#: What a sweep's worker reads (:func:`contagion.sweep.task.execute_run`): :data:`SWEEP` with
#: only the event columns and series of :data:`contagion.metrics.METRIC_EVENT_COLUMNS` and
#: ``METRIC_SERIES_COLUMNS`` (building the log's ~170 columns cost more than the run's
#: measures; the series no measure reads, ~3% of a 1,000-trader run; the insolvent debt,
#: which the measures read at the end only, ~6% of it, is computed then).
METRICS = RecordOptions(node_states=False, network=False, event_columns=METRIC_EVENT_COLUMNS,
                        series_columns=METRIC_SERIES_COLUMNS, final_series=METRIC_FINAL_SERIES)


@dataclass
class RunResult:
    """The outputs of one run."""

    scenario: Scenario
    seed: int | None
    events: pd.DataFrame
    series: pd.DataFrame
    venues: pd.DataFrame
    node_states: pd.DataFrame
    network: nx.MultiDiGraph
    exposures: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: dict[str, Any] = field(default_factory=dict)
    starting_books: StartingBooks | None = None
    world: nx.MultiDiGraph | None = None  # the world graph the run's agents ran over

    @property
    def positions(self) -> pd.DataFrame:
        """The books the run started from, as a positions table (``positions.parquet``; see
        :mod:`contagion.positions`), built on demand from :attr:`starting_books`."""
        if self.starting_books is None:
            return pd.DataFrame(columns=list(COLUMNS))
        return positions_frame(self.starting_books)


def simulate(scenario: Scenario, *, seed: int | None = 0, steps: int | None = None,
             check_conservation: bool = False, record_cohorts: bool = False,
             on_step: Callable[[int, int], bool | None] | None = None,
             world: Any = None, positions: Any = None,
             record: RecordOptions = FULL) -> RunResult:
    """Build a model, run it ``steps`` steps (default: the scenario's horizon), collect.

    ``world``: the world graph to run over (default: the scenario's own, see
    :func:`contagion.world.build_world`). ``positions``: the books to start from instead of
    random ones (a positions table, or a CSV/Parquet file's path; see
    :mod:`contagion.positions`); ``RunResult.positions`` gives back the books a run started
    from.

    ``record``: which outputs to build (:class:`RecordOptions`; sweeps pass :data:`METRICS`).

    ``on_step(done, total)`` is called after every step (progress bars); if it returns
    ``False`` the run stops with :class:`~contagion.errors.RunCancelled`.

    Examples
    --------
    >>> from models import get_scenario
    >>> r = simulate(get_scenario("default", n_traders=200, steps=10), seed=3)
    >>> len(r.series), r.summary["steps"]
    (11, 10)
    """
    if not isinstance(record, RecordOptions):
        raise ParameterError("record", type(record).__name__, "a contagion.runner.RecordOptions",
                             "e.g. runner.FULL or runner.SWEEP")
    unknown = [c for c in record.event_columns or () if c not in EVENT_COLUMNS]
    if unknown:
        raise ParameterError("record.event_columns", unknown, "columns of the event log",
                             "see contagion.events.EVENT_COLUMNS")
    model = ContagionModel(scenario, seed=seed, check_conservation=check_conservation,
                           record_cohorts=record_cohorts, world=world, positions=positions,
                           record_nodes=record.node_states, series=record.series_columns,
                           final_series=record.final_series)
    log.info("running %s for %s steps (seed %s)", scenario.name, steps or "all", seed)
    if on_step is None:
        model.run(steps)
    else:
        total = scenario.market.steps if steps is None else steps
        for done in range(1, total + 1):
            model.run(1)
            if on_step(done, total) is False:
                raise RunCancelled(f"run of {scenario.name} cancelled at step {done} of {total}")
    model.record_final_series()
    series = model.datacollector.get_model_vars_dataframe()
    series.index.name = "step"
    events = (model.events_frame if record.event_columns is None
              else model.events.to_frame(record.event_columns))
    venues = model.venue_frame()
    summary = run_summary(events, series, venues)
    summary.update(scenario=scenario.name, seed=seed, n_traders=scenario.traders.n_traders)
    return RunResult(scenario=scenario, seed=seed, events=events, series=series,
                     venues=venues, node_states=model.node_state_frame(),
                     network=model.network if record.network else nx.MultiDiGraph(),
                     exposures=model.exposure_frame(),
                     summary=summary, starting_books=model.starting_books, world=model.graph)
