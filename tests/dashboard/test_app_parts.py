"""The dashboard's server-side parts: run store and jobs, form validation, tours."""

from __future__ import annotations

import time

import networkx as nx
import pytest

from contagion.runner import RunResult, simulate
from dashboard.callbacks import counterparties, form_values
from dashboard.forms import build, fields_for, validate
from dashboard.store import RunStore
from dashboard.tour import load_tour, resolve_step
from models import get_scenario


@pytest.fixture(scope="module")
def small() -> RunResult:
    return simulate(get_scenario("default", n_traders=150, steps=60), seed=2)


def _wait(store: RunStore, run_id: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = store.job(run_id)
        assert job is not None
        if job.finished:
            return job.status
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_store_keeps_at_most_max_runs_but_never_the_pinned_one(small: RunResult) -> None:
    store = RunStore(max_runs=2)
    pinned = store.put(small, run_id="preset", pinned=True)
    ids = [store.put(small) for _ in range(4)]
    store.flush()
    assert len(store) == 3  # two in memory, and the pinned one
    assert store.get(pinned) is small
    assert [store.status(i) for i in ids] == ["disk", "disk", "memory", "memory"]  # oldest out
    assert store.get(ids[2]) is small and store.get(ids[3]) is small
    back = store.get(ids[0])  # read back from disk (tests/dashboard/test_store.py: equal)
    assert back is not None and back is not small and back.summary == small.summary
    assert store.get(None) is None and store.get("unknown") is None
    store.close()


def test_a_job_reports_progress_and_lands_in_the_store() -> None:
    store = RunStore(max_runs=2)
    job = store.submit(get_scenario("default", n_traders=100, steps=20), seed=1)
    assert _wait(store, job.run_id) == "done"
    assert job.done == job.total == 20
    result = store.get(job.run_id)
    assert result is not None and result.seed == 1 and len(result.series) == 21


def test_a_cancelled_job_stops_and_stores_nothing() -> None:
    store = RunStore(max_runs=2, workers=1)
    job = store.submit(get_scenario("default", n_traders=200_000, steps=144), seed=1)
    while job.done == 0 and not job.finished:
        time.sleep(0.01)
    assert store.cancel(job.run_id)
    assert _wait(store, job.run_id) == "cancelled"
    assert job.done < job.total
    assert store.get(job.run_id) is None
    assert not store.cancel(job.run_id)  # already finished


def test_a_failing_run_is_reported_not_raised() -> None:
    from contagion.scenario import override

    store = RunStore()
    sc = override(get_scenario("default", n_traders=100), "lending.LendB.retail_supply_usd", 1e3)
    job = store.submit(sc, seed=0)
    assert _wait(store, job.run_id) == "failed"
    assert "retail_supply_usd" in job.error


def test_form_validation_names_the_allowed_range_per_field() -> None:
    errors = validate("default", {"shock_frac": 1.5, "n_traders": 500, "mean_leverage": 50})
    assert errors["n_traders"] == ""
    assert "0 <= x < 1" in errors["shock_frac"]
    assert "1 <= x <= 10" in errors["mean_leverage"]
    assert "empty" in validate("default", {"seed_like": 1, "n_traders": None})["n_traders"]


def test_form_builds_the_scenario_and_knows_every_issue_knob() -> None:
    keys = {f.key for f, _ in fields_for("default")}
    assert {"shock_frac", "shock_duration_steps", "mean_leverage", "oracle_delay_steps",
            "oracle_heartbeat_steps", "liquidator_capital_usd", "insurance_fund_scale",
            "amm_depth_scale", "cross_margin", "shortfall_policy", "n_traders"} <= keys
    sc = build("default", {"cross_margin": False, "n_traders": 321.0})
    assert sc.traders.n_traders == 321 and sc.traders.cross_margin is False
    values = form_values([["on"], [], 7], [{"key": "a"}, {"key": "b"}, {"key": "c"}])
    assert values == {"a": True, "b": False, "c": 7}


def test_tour_stages_land_on_the_steps_they_describe(small: RunResult) -> None:
    stages = load_tour("default")
    assert len(stages) >= 6 and all(s.title and s.body for s in stages)
    ev, series = small.events, small.series
    first_liq = int(ev.loc[ev["kind"] == "liquidation", "step"].min())
    assert resolve_step("first:liquidation", ev, series) == first_liq
    cex = ev.loc[(ev["kind"] == "default") & (ev["venue"] == "CEX"), "step"]
    if len(cex):
        assert resolve_step("default:CEX", ev, series) == int(cex.min())
    assert resolve_step("default:Nobody", ev, series) == 0
    assert resolve_step(10_000, ev, series) == int(series.index.max())
    gap = resolve_step("max_gap:ETH-twap/ETH", ev, series)
    diff = (series["oracle_ETH-twap"] / series["price_ETH"] - 1).abs()
    assert diff.iloc[gap] == diff.max()


def test_counterparties_lists_exposures_largest_first(small: RunResult) -> None:
    table = counterparties(small.network, "CEX")
    assert list(table.columns) == ["counterparty", "type", "direction", "usd"]
    assert table["usd"].is_monotonic_decreasing
    assert "AlphaFund" in set(table["counterparty"])
    assert counterparties(nx.MultiDiGraph(), "X").empty


def test_every_presets_defaults_fit_their_fields_step() -> None:
    """A number input whose value is not a multiple of its ``step`` shows as invalid (red) in
    the browser, so each preset's default must sit on its field's step grid."""
    from dashboard.forms import fields_for
    from models import SCENARIOS

    off = []
    for name in SCENARIOS:
        for field, default in fields_for(name):
            if field.kind in ("number", "int") and field.step and default is not None:
                q = default / field.step
                if abs(q - round(q)) > 1e-9 * max(1.0, abs(q)):
                    off.append(f"{name}.{field.key} = {default} (step {field.step})")
    assert not off, off


def test_the_seed_field_says_what_is_wrong() -> None:
    from dashboard.callbacks import form_scenario, seed_message
    assert seed_message(None) == "the seed is empty: give a whole number >= 0"
    assert seed_message(-1) == "-1 is not allowed: a whole number >= 0"
    assert seed_message(2.5) == "2.5 is not allowed: a whole number >= 0"
    assert seed_message(3.0) == seed_message(7) == ""
    assert form_scenario("default", {}, 3.0)[1] == 3  # a browser may send 3 as 3.0


def test_every_preset_parameter_has_a_field() -> None:
    """What a lesson asks a student to change must be on the form (and so on Compare): every
    parameter of every preset but the run's length, which the player's slider covers."""
    from dashboard.forms import FIELDS
    from models import SCENARIOS, scenario_parameters

    keys = {f.key for f in FIELDS}
    missing = [f"{name}.{k}" for name in SCENARIOS for k in scenario_parameters(name)
               if k not in keys and k != "steps"]
    assert not missing, missing
