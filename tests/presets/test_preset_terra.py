"""Terra/UST (May 2022): the run on Anchor, the mint/burn death spiral, and its controls."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.events import trace_cause
from contagion.model import ContagionModel
from contagion.params import AssetParams, PegParams, PoolManipulationParams, YieldVenueParams
from contagion.runner import RunResult, simulate
from contagion.scenario import override
from dashboard.forms import FIELDS
from models import SCENARIOS, get_scenario, scenario_parameters
from models.terra import terra_ust

SMALL: dict[str, Any] = {"n_traders": 300}
SEEDS = (1, 2, 3)


@dataclasses.dataclass
class Run:
    """A finished model and its outputs (what RunResult carries, plus the agents)."""

    model: ContagionModel
    series: pd.DataFrame
    events: pd.DataFrame
    venues: pd.DataFrame


def _run(seed: int, **kwargs: Any) -> Run:
    model = ContagionModel(terra_ust(**{**SMALL, **kwargs}), seed=seed, check_conservation=True)
    model.run()
    return Run(model, model.datacollector.get_model_vars_dataframe(), model.events_frame,
               model.venue_frame())


@pytest.fixture(scope="module")
def crashes() -> dict[int, Run]:
    """The preset as calibrated, three seeds, with the conservation check on."""
    return {s: _run(s) for s in SEEDS}


@pytest.fixture(scope="module")
def no_reflexivity() -> RunResult:
    """The same run on Anchor, but no UST is ever burned for newly minted LUNA."""
    return simulate(terra_ust(mint_capacity_usd_per_step=0.0, **SMALL), seed=1,
                    check_conservation=True)


def _lendt(r: Run | RunResult) -> pd.Series:
    v = r.venues
    return v[v["venue"] == "LendT"].iloc[-1]


def test_ust_depegs_and_does_not_recover(crashes: dict[int, Run]) -> None:
    for r in crashes.values():
        ust = r.series["price_UST"]
        assert 0.97 < ust.iloc[3] < 0.995  # the Curve sale: ~0.9857 on 8 May
        assert ust.iloc[72] < 0.75  # "$0.6x" on 10 May
        assert ust.iloc[-48:].max() < 0.6  # no way back to the peg
        assert r.series["deposits_Anchor"].iloc[-1] < 0.1 * r.series["deposits_Anchor"].iloc[0]


def test_luna_collapses_as_its_supply_balloons(crashes: dict[int, Run]) -> None:
    for r in crashes.values():
        s = r.series
        assert s["price_LUNA"].iloc[-1] < 0.001 * s["price_LUNA"].iloc[0]  # > 99.9%
        assert s["supply_LUNA"].iloc[-1] > 10 * s["supply_LUNA"].iloc[0]
        assert s["supply_UST"].iloc[0] - s["supply_UST"].iloc[-1] > 1e6  # scaled $1B burned
        assert s["reserve_Terra"].iloc[-1] < 1.0  # LFG's reserve is spent
        assert ((r.events["kind"] == "fund_exhausted") & (r.events["agent"] == "Terra reserve")).any()


def test_the_lender_takes_bad_debt_that_traces_back_to_the_ust_sale(
        crashes: dict[int, Run]) -> None:
    for r in crashes.values():
        lendt = _lendt(r)
        assert lendt["bad_debt_usd"] > 2e4 and bool(lendt["defaulted"])
        ev = r.events
        kinds = ev.set_index("event_id")["kind"]
        bad = ev[(ev["kind"] == "bad_debt") & (ev["venue"] == "LendT")]
        root = trace_cause(ev, int(bad["event_id"].iloc[0]))[-1]
        assert kinds[root] == "pool_manipulation"


def test_without_mint_burn_luna_holds_and_the_lender_loses_far_less(
        crashes: dict[int, Run], no_reflexivity: RunResult) -> None:
    s = no_reflexivity.series
    assert s["price_UST"].min() < 0.9  # the run still breaks the peg ...
    assert s["price_LUNA"].iloc[-1] > 0.5 * s["price_LUNA"].iloc[0]  # ... but LUNA holds
    assert s["supply_LUNA"].iloc[-1] == s["supply_LUNA"].iloc[0]
    assert (no_reflexivity.events["kind"] != "token_sale").all()
    base = min(_lendt(r)["bad_debt_usd"] for r in crashes.values())
    assert _lendt(no_reflexivity)["bad_debt_usd"] < 0.25 * base


def test_without_the_initial_sale_the_peg_holds() -> None:
    r = simulate(terra_ust(initial_sell_usd=0.0, **SMALL), seed=1, check_conservation=True)
    s = r.series
    assert s["price_UST"].min() > 0.98
    assert s["price_LUNA"].iloc[-1] > 0.5 * s["price_LUNA"].iloc[0]
    assert not (r.events["kind"] == "withdrawal").any()
    assert _lendt(r)["bad_debt_usd"] == 0.0


def test_a_reserve_deep_enough_and_fast_enough_defends_the_peg() -> None:
    sc = override(terra_ust(reserve_usd=5e7, **SMALL), "pegs.Terra.reserve_spend_usd_per_step",
                  1e6)
    s = simulate(sc, seed=1).series
    assert s["price_UST"].min() > 0.98
    assert s["price_LUNA"].iloc[-1] > 0.5 * s["price_LUNA"].iloc[0]


def _value_per_unit(model: ContagionModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Anchor depositors' deposits, first exit step and what they got per UST (unsold UST
    at the final price)."""
    yv = model.yield_venues[0]
    final = model.pools["UST/USDC"].spot
    value = (yv.proceeds_usd + yv.remaining_units * final) / yv.deposit_units
    return yv.deposit_units, yv.exit_step, value


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_large_holders_run_first_and_lose_least(crashes: dict[int, Run], seed: int) -> None:
    ordered = crashes[seed].model
    size, step, value = _value_per_unit(ordered)
    order = np.argsort(-size)
    top, bottom = order[: size.size // 10], order[size.size // 2:]
    when = np.where(step >= 0, step, 10**6)
    assert np.median(when[top]) < np.median(when[bottom])
    assert np.average(value[top], weights=size[top]) > value[bottom].mean() + 0.15
    # the exits are in the event log too: who, when, how much and at what price
    ev = crashes[seed].events
    w = ev[(ev["kind"] == "withdrawal") & (ev["venue"] == "Anchor")]
    owners = ordered.yield_venues[0].owner
    first_price = w.groupby("account")["price"].first()
    assert first_price[owners[top]].mean() > first_price.reindex(owners[bottom]).mean()
    # a random exit order takes the large holders' advantage away
    shuffled = ContagionModel(terra_ust(sophistication_ordered=False, **SMALL), seed=seed)
    shuffled.run()
    size, _, value = _value_per_unit(shuffled)
    order = np.argsort(-size)
    top, bottom = order[: size.size // 10], order[size.size // 2:]
    assert np.average(value[top], weights=size[top]) < value[bottom].mean() + 0.05


def test_minting_and_burning_are_netted_out_of_the_conservation_check(
        crashes: dict[int, Run]) -> None:
    model = crashes[2].model
    peg = model.pegs[0]
    i_ust, i_luna = model.market.index["UST"], model.market.index["LUNA"]
    assert peg.stable_burned > 0 and peg.token_minted > 0
    raw = model.total_units() + np.bincount(list(peg.net_issued_units()),
                                            weights=list(peg.net_issued_units().values()),
                                            minlength=len(model.market.assets))
    change = raw - model._baseline_units
    assert change[i_ust] == pytest.approx(-peg.stable_burned)
    assert change[i_luna] == pytest.approx(peg.token_minted)
    assert peg.stable_supply_units == pytest.approx(18.6e6 - peg.stable_burned)


def test_above_the_peg_arbitrage_mints_ust_and_burns_luna() -> None:
    sc = terra_ust(initial_sell_usd=0.0, **SMALL)
    pump = PoolManipulationParams(pool="UST/USDC", start_step=2, duration_steps=2,
                                  notional_usd_per_step=2e5, direction="pump")
    model = ContagionModel(dataclasses.replace(sc, manipulations=(pump,)), seed=1,
                           check_conservation=True)
    model.run(40)
    peg = model.pegs[0]
    assert peg.stable_minted > 0 and peg.token_burned > 0 and peg.stable_burned == 0
    assert peg.token_supply_units < 3.5e5 < 1.86e7 < peg.stable_supply_units
    series = model.datacollector.get_model_vars_dataframe()["pool_UST/USDC"]
    assert series.iloc[3] > 1.1 and 1.0 < series.iloc[-1] < 1.03  # pulled back toward $1


def test_runs_are_reproducible() -> None:
    a = simulate(terra_ust(n_traders=200, steps=40), seed=7)
    b = simulate(terra_ust(n_traders=200, steps=40), seed=7)
    pd.testing.assert_frame_equal(a.series, b.series)
    pd.testing.assert_frame_equal(a.events, b.events)


def test_the_preset_is_registered_with_a_form_field_per_knob() -> None:
    assert SCENARIOS["terra"] is terra_ust
    keys = {f.key for f in FIELDS}
    knobs = set(scenario_parameters("terra")) - {"steps"}
    assert knobs <= keys
    assert get_scenario("terra", n_traders=50).traders.n_traders == 50


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"mint_capacity_usd_per_step": -1.0}, r"'mint_capacity_usd_per_step' = -1.0"),
    ({"initial_sell_usd": float("nan")}, r"'initial_sell_usd'"),
    ({"sophistication_ordered": 1}, r"'sophistication_ordered' = 1 .* true or false"),
    ({"reserve_usd": -5.0}, r"'reserve_usd' = -5.0"),
    ({"amm_depth_scale": 0}, r"'amm_depth_scale' = 0"),
])
def test_bad_knobs_are_rejected_by_name(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        terra_ust(**kwargs)  # type: ignore[arg-type]


def _peg(**kw: object) -> PegParams:
    base: dict[str, object] = dict(name="Terra", stable="UST", token="LUNA",
                                   stable_pool="UST/USDC", token_pool="LUNA/USDC",
                                   stable_supply_units=1e6, token_supply_units=1e5)
    base.update(kw)
    return PegParams(**base)  # type: ignore[arg-type]


def test_peg_and_yield_venue_parameters_are_validated() -> None:
    with pytest.raises(ParameterError, match=r"pegs\[Terra\].swap_spread_frac' = 1.0"):
        _peg(swap_spread_frac=1.0)
    with pytest.raises(ParameterError, match=r"pegs\[Terra\].token' = 'UST'"):
        _peg(token="UST")
    with pytest.raises(ParameterError, match=r"pegs\[Terra\].defend_below_price' = 0"):
        _peg(defend_below_price=0)
    with pytest.raises(ParameterError, match=r"max_exit_depeg_frac' = 0.001 .* 0.005 <= x"):
        YieldVenueParams(name="Anchor", asset="UST", pool="UST/USDC", deposits_usd=1.0,
                         max_exit_depeg_frac=0.001)
    with pytest.raises(ParameterError, match=r"assets\[UST\].initial_price_usd' = 0.98"):
        AssetParams(name="UST", kind="algo_stable", initial_price_usd=0.98)


def test_the_scenario_checks_that_pegs_and_venues_fit_together() -> None:
    sc = terra_ust(n_traders=50)
    with pytest.raises(ParameterError, match=r"pegs\[Terra\].stable' = 'LUNA'"):
        dataclasses.replace(sc, pegs=(_peg(stable="LUNA", token="BTC"),))
    with pytest.raises(ParameterError, match=r"pegs\[Terra\].token_pool' = 'UST/USDC'"):
        dataclasses.replace(sc, pegs=(_peg(token_pool="UST/USDC"),))
    with pytest.raises(ParameterError, match=r"pegs\[Terra\].token_oracle' = 'UST-feed'"):
        dataclasses.replace(sc, pegs=(_peg(token_oracle="UST-feed"),))
    with pytest.raises(ParameterError, match=r"pegs \(one per stablecoin\)"):
        dataclasses.replace(sc, pegs=(_peg(), _peg(name="Terra2")))
    bad_venue = dataclasses.replace(sc.yield_venues[0], pool="LUNA/USDC")
    with pytest.raises(ParameterError, match=r"yield_venues\[Anchor\].pool' = 'LUNA/USDC'"):
        dataclasses.replace(sc, yield_venues=(bad_venue,))
    clash = dataclasses.replace(sc.yield_venues[0], name="LendT")
    with pytest.raises(ParameterError, match=r"'LendT' is used twice"):
        dataclasses.replace(sc, yield_venues=(clash,))
