"""What a run records (``simulate(record=...)``): a sweep's lean run skips node states and
the network but every number it keeps is the full run's, bit for bit (issue 14)."""

from __future__ import annotations

import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.metrics import (
    METRIC_EVENT_COLUMNS,
    METRIC_FINAL_SERIES,
    METRIC_SERIES_COLUMNS,
    run_record,
)
from contagion.runner import FULL, METRICS, SWEEP, RecordOptions, simulate
from models import get_scenario


@pytest.fixture(scope="module")
def pair() -> tuple:
    sc = get_scenario("default", n_traders=200, steps=40)
    return simulate(sc, seed=5), simulate(sc, seed=5, record=SWEEP)


def test_sweep_run_keeps_every_number_of_the_full_run(pair: tuple) -> None:
    full, lean = pair
    for name in ("events", "series", "venues", "exposures"):
        a, b = getattr(full, name), getattr(lean, name)
        assert a.equals(b), name
        assert list(a.dtypes) == list(b.dtypes), name
    assert full.summary == lean.summary
    records = [run_record(r.events, r.series, r.venues) for r in (full, lean)]
    records.append(run_record(lean.events, lean.series, lean.venues, summary=lean.summary))
    for rec in records[1:]:  # as a sweep computes it: the summary the run already made
        assert pd.DataFrame([records[0]]).equals(pd.DataFrame([rec]))  # NaN == NaN here
    assert len(full.events) > 0 and full.summary["liquidations"] > 0  # a run that did something


def test_metrics_run_builds_only_the_events_and_series_the_measures_read(pair: tuple) -> None:
    full, _ = pair
    lean = simulate(get_scenario("default", n_traders=200, steps=40), seed=5, record=METRICS)
    assert list(lean.events.columns) == list(METRIC_EVENT_COLUMNS)
    assert lean.events.equals(full.events[list(METRIC_EVENT_COLUMNS)])
    kept = [c for c in full.series.columns if c in METRIC_SERIES_COLUMNS
            or any(c.startswith(p[:-1]) for p in METRIC_SERIES_COLUMNS if p.endswith("*"))]
    assert list(lean.series.columns) == kept and len(kept) < len(full.series.columns)
    final = list(METRIC_FINAL_SERIES)  # computed at the end only: NaN before
    assert lean.series[final].iloc[:-1].isna().all().all()
    assert lean.series[final].iloc[-1].equals(full.series[final].iloc[-1])
    assert lean.series.drop(columns=final).equals(full.series[kept].drop(columns=final))
    assert list(lean.series.dtypes) == list(full.series[kept].dtypes)
    for name in ("venues", "exposures"):
        assert getattr(full, name).equals(getattr(lean, name)), name
    assert full.summary == lean.summary
    a = run_record(full.events, full.series, full.venues)
    b = run_record(lean.events, lean.series, lean.venues, summary=lean.summary)
    assert pd.DataFrame([a]).equals(pd.DataFrame([b]))  # NaN == NaN here


def test_unknown_event_column_is_refused() -> None:
    with pytest.raises(ParameterError, match="event_columns"):
        simulate(get_scenario("default", n_traders=200, steps=2),
                 record=RecordOptions(event_columns=("kind", "no_such_column")))


def test_sweep_run_skips_node_states_and_network(pair: tuple) -> None:
    full, lean = pair
    assert len(full.node_states) > 0 and full.network.number_of_nodes() > 0
    assert len(lean.node_states) == 0
    assert list(lean.node_states.columns) == ["step", "node", "kind", "state", "exposure_usd"]
    assert lean.network.number_of_nodes() == 0


def test_options_one_at_a_time() -> None:
    sc = get_scenario("default", n_traders=200, steps=5)
    nodes_only = simulate(sc, seed=1, record=RecordOptions(network=False))
    assert len(nodes_only.node_states) > 0 and nodes_only.network.number_of_nodes() == 0
    net_only = simulate(sc, seed=1, record=RecordOptions(node_states=False))
    assert len(net_only.node_states) == 0 and net_only.network.number_of_nodes() > 0
    assert FULL == RecordOptions()


def test_bad_record_option_is_refused_before_any_work() -> None:
    with pytest.raises(ParameterError, match="record"):
        simulate(get_scenario("default", n_traders=200, steps=5), record="sweep")  # type: ignore[arg-type]


def test_empty_node_state_frame_is_a_frame() -> None:
    lean = simulate(get_scenario("default", n_traders=200, steps=2), seed=0, record=SWEEP)
    assert isinstance(lean.node_states, pd.DataFrame)


def test_event_field_checks_still_refuse_after_a_valid_event_of_that_kind() -> None:
    from contagion.events import EventLog

    log = EventLog()
    for _ in range(2):  # the second time from the cache of valid shapes
        log.add("bad_debt", step=1, venue="V", value_usd=1.0, reason="collateral_exhausted",
                accounts=1, debt_asset="USDC")
    with pytest.raises(ValueError, match="has no field"):
        log.add("bad_debt", step=1, reason="collateral_exhausted", accounts=1, pool="X")
    with pytest.raises(ValueError, match="needs reason"):
        log.add("bad_debt", step=1, venue="V", value_usd=1.0, reason="other", accounts=1,
                debt_asset="USDC")
    with pytest.raises(ValueError, match="unknown event kind"):
        log.add("no_such_kind", step=1)
