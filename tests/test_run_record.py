"""Tests of the per-run sweep row (contagion.metrics.run_record): the per-fund
``exhausted__<fund>`` flags, and P(a fund ran dry) with Wilson intervals from them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contagion.analytics import cascade_probability, wilson_interval
from contagion.metrics import fund_names, run_record
from contagion.runner import RunResult, simulate
from contagion.sweep import load_results
from models import get_scenario

DEFAULT_FUNDS = ["LendA-SafetyModule", "LendB-Fund", "PerpX-Insurance"]


def _flags(record: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in record.items() if k.startswith("exhausted__")}


def _exhausted_agents(run: RunResult) -> set[str]:
    return set(run.events.loc[run.events["kind"] == "fund_exhausted", "agent"])


@pytest.fixture(scope="module")
def default_runs() -> pd.DataFrame:
    """A sweep-like table: the default market (300 traders) at two shocks x seeds 0-2."""
    rows = []
    for shock in (0.2, 0.45):
        for seed in range(3):
            r = simulate(get_scenario("default", n_traders=300, shock_frac=shock), seed=seed)
            rows.append({"run_id": f"{shock}-{seed}", "status": "ok", "shock_frac": shock,
                         "seed": seed, **run_record(r.events, r.series, r.venues),
                         "_exhausted": ";".join(sorted(_exhausted_agents(r)))})
    return pd.DataFrame(rows)


def test_every_fund_of_the_default_market_has_a_flag_set_by_its_fund_exhausted_event() -> None:
    r = simulate(get_scenario("default", n_traders=300), seed=0)
    flags = _flags(run_record(r.events, r.series, r.venues))
    assert list(flags) == [f"exhausted__{f}" for f in DEFAULT_FUNDS]
    assert all(type(v) is int and v in (0, 1) for v in flags.values())
    ran_dry = {k.removeprefix("exhausted__") for k, v in flags.items() if v}
    assert ran_dry == _exhausted_agents(r) == set(r.summary["funds_exhausted"])
    assert "LendB-Fund" in ran_dry and "LendA-SafetyModule" not in ran_dry


def test_a_peg_reserve_is_flagged_like_an_insurance_fund() -> None:
    r = simulate(get_scenario("terra", n_traders=200), seed=0)
    flags = _flags(run_record(r.events, r.series, r.venues))
    assert flags == {"exhausted__LendT-Fund": 1, "exhausted__Terra reserve": 1}
    assert _exhausted_agents(r) == {"LendT-Fund", "Terra reserve"}


def test_the_flags_exist_before_any_fund_is_drawn_so_a_sweeps_schema_has_them() -> None:
    """A sweep types its columns from a one-step probe run: the flags must be there, 0."""
    for name, funds in (("default", DEFAULT_FUNDS), ("terra", ["LendT-Fund", "Terra reserve"])):
        r = simulate(get_scenario(name, n_traders=200), seed=0, steps=1)
        assert _flags(run_record(r.events, r.series, r.venues)) == {
            f"exhausted__{f}": 0 for f in funds}
    banks = simulate(get_scenario("classic_eisenberg_noe"), seed=0)
    assert _flags(run_record(banks.events, banks.series, banks.venues)) == {}


def test_fund_names_keep_an_exhausted_agent_without_a_series() -> None:
    events = pd.DataFrame({"kind": ["fund_draw", "fund_exhausted"], "agent": ["F", "Other"]})
    series = pd.DataFrame(columns=["fund_F", "fund_balance_usd", "reserve_P"])
    assert fund_names(events, series) == ["F", "P reserve", "Other"]


def test_flags_agree_with_the_event_log_of_every_run(default_runs: pd.DataFrame) -> None:
    for _, row in default_runs.iterrows():
        for f in DEFAULT_FUNDS:
            assert row[f"exhausted__{f}"] == int(f in row["_exhausted"].split(";")), (row["run_id"], f)


def test_probability_a_fund_ran_dry_from_a_couple_of_runs(default_runs: pd.DataFrame) -> None:
    metric = "exhausted__PerpX-Insurance"
    t = cascade_probability(default_runs, "shock_frac", metric=metric)
    assert t["shock_frac"].tolist() == [0.2, 0.45]
    assert t["runs"].tolist() == [3, 3]
    by_shock = default_runs.groupby("shock_frac")[metric].sum()
    assert t["successes"].tolist() == by_shock.astype(int).tolist() == [0, 2]
    low, high = wilson_interval(t["successes"].to_numpy(), t["runs"].to_numpy())
    assert t["low"].to_numpy() == pytest.approx(low)
    assert t["high"].to_numpy() == pytest.approx(high)
    assert t["low"].iloc[0] == 0.0 < t["high"].iloc[0] < 1.0  # informative even at p = 0


def test_probability_a_fund_ran_dry_from_a_tiny_sweep_frame() -> None:
    runs = pd.DataFrame({"lev": [2, 2, 2, 2, 5, 5, 5, 5],
                         "status": ["ok"] * 7 + ["failed"],
                         "exhausted__PerpX-Insurance": [0, 0, 1, 0, 1, 1, 0, None]})
    t = cascade_probability(runs, "lev", metric="exhausted__PerpX-Insurance")
    assert t[["lev", "runs", "successes"]].values.tolist() == [[2, 4, 1], [5, 3, 2]]
    assert t["p"].tolist() == pytest.approx([0.25, 2 / 3])
    assert t[["low", "high"]].round(3).values.tolist() == [[0.046, 0.699], [0.208, 0.939]]


def test_results_stored_before_the_flags_existed_still_load(tmp_path: Path,
                                                            default_runs: pd.DataFrame) -> None:
    """An older part lacks the ``exhausted__`` columns: it loads with nulls there, and the
    probability counts only the runs that recorded the flag."""
    parts = tmp_path / "parts"
    parts.mkdir()
    new = default_runs.drop(columns=["_exhausted"])
    old = new.drop(columns=[c for c in new.columns if c.startswith("exhausted__")])
    for i, (_, row) in enumerate(old.iterrows()):
        pq.write_table(pa.Table.from_pylist([row.to_dict()]), parts / f"a{i}.parquet")
    for i, (_, row) in enumerate(new.iterrows()):
        pq.write_table(pa.Table.from_pylist([row.to_dict()]), parts / f"b{i}.parquet")
    loaded = load_results(tmp_path)
    assert len(loaded) == 2 * len(default_runs)
    assert loaded["exhausted__PerpX-Insurance"].isna().sum() == len(default_runs)
    t = cascade_probability(loaded, "shock_frac", metric="exhausted__PerpX-Insurance")
    assert t["runs"].tolist() == [3, 3] and t["successes"].tolist() == [0, 2]


def test_option_liquidations_count_among_liquidations() -> None:
    """An option position closed by a margin call is a liquidation: the run's count and its
    dollars traded include them (the example run closes 23 perp and 7 option positions)."""
    from contagion.scenario_file import load

    r = simulate(load(Path(__file__).resolve().parent / "data" / "options_pm_run.toml"), seed=0)
    kinds = r.events["kind"]
    perp, option = r.events[kinds == "perp_liquidation"], r.events[kinds == "option_liquidation"]
    assert len(option) > 0 and len(perp) > 0
    record = run_record(r.events, r.series, r.venues)
    assert record["liquidations"] == len(perp) + len(option)
    assert record["liquidation_volume_usd"] == pytest.approx(
        perp["value_usd"].sum() + option["value_usd"].sum(), rel=1e-12)
