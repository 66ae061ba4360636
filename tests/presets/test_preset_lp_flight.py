"""LPs leave a concentrated pool in a crash (issue 12): liquidators sell into depth that is gone.

What the preset must show (models/lp_flight.py): the V3 pool is deeper near the price than a
V2 pool of the same value; once it is 5% below its start its LPs pull 30% of their in-range
liquidity a step (``liquidity_withdrawal`` events) until almost nothing is left; the
liquidators' sales then move the pool further than before, liquidations stop paying and stop,
and hundreds of accounts are left under a health factor of 1. With the LPs staying, or a V2
pool of the same value (seed 0 all), the same crash is liquidated to the end.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.model import ContagionModel
from models import PRESET_INFO, SCENARIOS, get_scenario
from models.lp_flight import CONCENTRATED_RANGES, lp_flight

POOL = "ETH/USDC"


def _run(**kw: object) -> ContagionModel:
    m = ContagionModel(get_scenario("lp_flight", **kw), seed=0, check_conservation=True)
    m.run()
    return m


@pytest.fixture(scope="module")
def flight() -> ContagionModel:
    return _run()


@pytest.fixture(scope="module")
def stay() -> ContagionModel:
    return _run(lp_withdraw_frac_per_step=0.0)


@pytest.fixture(scope="module")
def v2() -> ContagionModel:
    return _run(pool_kind="v2")


def _of(m: ContagionModel, kind: str) -> pd.DataFrame:
    ev = m.events_frame
    return ev[ev["kind"] == kind]


def _slippage(m: ContagionModel, units: float = 100.0) -> float:
    """What selling ``units`` ETH into the pool costs, as a share of its value at the spot
    (the pool's fee included)."""
    pool = m.pools[POOL]
    return 1.0 - pool.quote_sell(units) / (units * pool.spot)


def _under_water(m: ContagionModel) -> tuple[int, float]:
    """Accounts left under a health factor of 1, and their debt."""
    lend = m.lending[0]
    rows = np.flatnonzero(lend.health() < 1.0)
    return int(rows.size), float(lend.debt_usd(rows).sum())


def test_registered_with_its_menu_entry() -> None:
    assert SCENARIOS["lp_flight"] is lp_flight
    assert PRESET_INFO["lp_flight"].date == "5 August 2024"
    (pool,) = get_scenario("lp_flight").pools
    assert pool.kind == "v3" and pool.v3_ranges == CONCENTRATED_RANGES
    assert CONCENTRATED_RANGES == ((0.5, 0.8), (math.inf, 0.2))
    (plain,) = get_scenario("lp_flight", pool_kind="v2").pools
    assert plain.kind == "v2" and plain.lp_withdraw_frac_per_step == 0.0
    assert plain.reserve_base == pool.reserve_base  # the same dollars


def test_the_concentrated_pool_starts_deeper_than_v2() -> None:
    v3 = ContagionModel(get_scenario("lp_flight"), seed=0)
    plain = ContagionModel(get_scenario("lp_flight", pool_kind="v2"), seed=0)
    fee = 0.003
    # price impact of a 100 ETH sale, fee aside: V2's is about 4.5 times V3's near the price
    ratio = (_slippage(plain) - fee) / (_slippage(v3) - fee)
    assert 3.5 < ratio < 5.5


def test_lps_pull_thirty_percent_a_step_until_the_pool_is_empty(flight: ContagionModel) -> None:
    w = _of(flight, "liquidity_withdrawal")
    first = w.iloc[0]
    assert first["drawdown_frac"] > 0.05 and first["liquidity_frac"] == pytest.approx(0.3)
    assert first["cause_id"] >= 0
    # ten steps of 30% leave 0.7 ** 10 of the starting depth
    assert w["liquidity_left_frac"].iloc[9] == pytest.approx(0.7 ** 10, rel=1e-6)
    pool = flight.pools[POOL]
    start_value = 2 * flight.scenario.pools[0].reserve_base * pool.start_price
    assert w["value_usd"].sum() > 0.85 * start_value  # the LPs took nearly all of it
    assert _slippage(flight) > 0.99  # nothing is left to sell into


def test_the_liquidators_stop_and_loans_are_left_under_water(
        flight: ContagionModel, stay: ContagionModel, v2: ContagionModel) -> None:
    liq = {name: _of(m, "liquidation") for name, m in
           (("flight", flight), ("stay", stay), ("v2", v2))}
    assert len(liq["flight"]) < 0.25 * len(liq["stay"])
    assert len(liq["flight"]) < 0.5 * len(liq["v2"])
    # liquidations stop within a few steps of the LPs' flight; the others go on for hours
    assert liq["flight"]["step"].max() < _of(flight, "liquidity_withdrawal")["step"].min() + 12
    assert min(liq["stay"]["step"].max(), liq["v2"]["step"].max()) > 60
    # the thin pool moved further below the market while they still sold
    gap = {name: (m.datacollector.get_model_vars_dataframe()[f"pool_{POOL}"]
                  / m.datacollector.get_model_vars_dataframe()["price_ETH"] - 1).min()
           for name, m in (("flight", flight), ("stay", stay))}
    assert gap["flight"] < -0.06 < -0.035 < gap["stay"]
    n, debt = _under_water(flight)
    assert n > 400 and debt > 1e7
    assert _under_water(stay)[0] <= 5 and _under_water(v2)[0] <= 5


def test_a_deeper_pool_that_can_leave_does_not_help(flight: ContagionModel) -> None:
    """Lesson 13's exercise: twice the ETH in the pool, the same flight: a few more
    liquidations before it empties, and as many loans left under water."""
    deep = _run(pool_eth=16_000.0)
    assert len(_of(flight, "liquidation")) < len(_of(deep, "liquidation")) < 1.5 * len(
        _of(flight, "liquidation"))
    assert _under_water(deep)[0] > 0.9 * _under_water(flight)[0]


def test_same_seed_same_run(flight: ContagionModel) -> None:
    again = _run()
    pd.testing.assert_frame_equal(flight.events_frame, again.events_frame)
    assert flight.pools[POOL].liquidity == again.pools[POOL].liquidity


@pytest.mark.parametrize(("key", "value"), [
    ("pool_kind", "v4"), ("lp_withdraw_frac_per_step", 1.5), ("lp_withdraw_below_frac", -0.1),
    ("pool_eth", 0.0), ("shock_frac", 0.95), ("shock_duration_steps", 0)])
def test_bad_parameters_are_refused_by_name(key: str, value: object) -> None:
    with pytest.raises(ParameterError, match=key):
        get_scenario("lp_flight", **{key: value})
