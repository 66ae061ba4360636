"""Collateral quality maths (contagion.mechanics.collateral).

Sources: Uniswap/v2-periphery ``UniswapV2Library.getAmountOut`` (through
``contagion.mechanics.amm.swap_out``, itself checked on Uniswap's vectors in test_amm.py);
the engine's external market (``Market.quote_sale``); Chaos Labs' and Notional's cap
rules (https://governance.aave.com/t/chaos-labs-aave-v3-supply-cap-methodology/11141,
https://docs.notional.finance/collateral-onboarding-framework/ ,
listing-parameters-selection-methodology/asset-onboarding-models/supply-cap);
Aave v3 Ethereum's launch parameters (Gauntlet's table in
https://governance.aave.com/t/arc-aave-v3-ethereum-deployment-assets-and-configurations/10238/22).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.mechanics.amm import swap_out
from contagion.mechanics.collateral import (
    liquidity_adjusted_threshold,
    market_max_sale_usd,
    market_sale_slippage,
    pool_max_sale_units,
    pool_sale_slippage,
    supply_cap_from_liquidity,
)


@given(x=st.floats(1.0, 1e9), p=st.floats(0.01, 1e5), share=st.floats(1e-6, 10.0),
       fee=st.sampled_from([0.0, 0.0005, 0.003, 0.01]))
@settings(max_examples=60, deadline=None)
def test_pool_slippage_is_getamountout_against_the_spot(x, p, share, fee):
    q = share * x
    out = float(swap_out(q, x, x * p, fee))
    assert pool_sale_slippage(q, x, fee) == pytest.approx(1 - out / (q * p), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("fee", [0.0, 0.003, 0.01])
@pytest.mark.parametrize("s", [0.005, 0.02, 0.05, 0.3])
def test_pool_max_sale_meets_the_bound_exactly(fee, s):
    q = pool_max_sale_units(2_000.0, s, fee)
    if s <= fee:
        assert q == 0.0
    else:
        assert pool_sale_slippage(q, 2_000.0, fee) == pytest.approx(s, rel=1e-12)
        assert pool_sale_slippage(q * 1.001, 2_000.0, fee) > s


def test_market_slippage_matches_the_engines_external_market():
    from contagion.model import ContagionModel
    from models import get_scenario

    model = ContagionModel(get_scenario("default"), seed=0)
    m = model.market
    a = m.index["ETH"]
    units = np.array([1.0, 1e3, 1e5])
    proceeds = m.quote_sale(a, units)
    price, depth = float(m.price[a]), float(m.depth_usd[a])
    expected = 1 - proceeds / (units * price)
    assert np.allclose(market_sale_slippage(units * price, depth), expected, rtol=1e-9)


@pytest.mark.parametrize("s", [1e-4, 0.01, 0.05, 0.2, 0.6])
def test_market_max_sale_is_the_nontrivial_root(s):
    z = market_max_sale_usd(3e7, s)
    assert z > 0
    assert market_sale_slippage(z, 3e7) == pytest.approx(s, rel=1e-9)
    assert market_max_sale_usd(math.inf, s) == math.inf
    assert market_max_sale_usd(3e7, 0.0) == 0.0


def test_threshold_reduces_to_the_engines_own_bound_without_slippage():
    # CollateralParams refuses LT * (1 + bonus) >= 1: with v = s = 0 the bound is equality
    assert liquidity_adjusted_threshold(0.0, 0.05, 0.0) == pytest.approx(1 / 1.05)
    assert liquidity_adjusted_threshold(0.1, 0.05, 0.2) == pytest.approx(0.8 * 0.9 / 1.05)
    # to first order 1 - (v + s + bonus)
    assert liquidity_adjusted_threshold(1e-4, 1e-4, 1e-4) == pytest.approx(1 - 3e-4, abs=1e-7)


def test_aave_v3_launch_parameters_leave_larger_margins_on_thinner_assets():
    # Gauntlet's Aave v3 Ethereum table (LT, liquidation bonus), in bps: the stress margin
    # (1 - v)(1 - s) = LT (1 + bonus) a listing leaves is smallest for the deep majors
    table = {"WETH": (8600, 520), "WBTC": (8200, 520), "LINK": (8250, 720),
             "MKR": (7000, 770), "CRV": (6100, 830)}
    margin = {a: 1 - lt / 1e4 * (1 + lb / 1e4) for a, (lt, lb) in table.items()}
    for a, (lt, lb) in table.items():
        assert lt / 1e4 <= liquidity_adjusted_threshold(0.0, lb / 1e4) + 1e-12
        # the (v, s) these parameters can absorb: WETH 9.5%, CRV 33.9%
        assert liquidity_adjusted_threshold(margin[a], lb / 1e4) == pytest.approx(lt / 1e4)
    assert margin["WETH"] == pytest.approx(0.09528)
    assert margin["CRV"] == pytest.approx(0.33937)
    assert max(margin["WETH"], margin["WBTC"]) < min(margin["MKR"], margin["CRV"])


def test_notional_cap_liquidates_its_stress_share_within_the_bonus():
    bonus, x, fee = 0.075, 10_000.0, 0.003
    cap = supply_cap_from_liquidity(pool_max_sale_units(x, bonus, fee), 0.5)
    assert pool_sale_slippage(0.5 * cap, x, fee) == pytest.approx(bonus)
    assert supply_cap_from_liquidity(math.inf, 0.25) == math.inf


@pytest.mark.parametrize(("call", "name"), [
    (lambda: pool_sale_slippage(1.0, 0.0), "reserve_base"),
    (lambda: pool_sale_slippage(-1.0, 10.0), "units"),
    (lambda: pool_max_sale_units(10.0, 1.0), "slippage_frac"),
    (lambda: market_sale_slippage(1.0, -5.0), "depth_usd"),
    (lambda: market_max_sale_usd(1e6, -0.1), "slippage_frac"),
    (lambda: liquidity_adjusted_threshold(0.1, -0.05), "bonus_frac"),
    (lambda: liquidity_adjusted_threshold(1.5, 0.05), "slippage_frac"),
    (lambda: supply_cap_from_liquidity(10.0, 0.0), "stress_sale_frac"),
])
def test_bad_input_is_refused_naming_it(call, name):
    with pytest.raises(ParameterError, match=name):
        call()
