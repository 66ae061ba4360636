"""Tests of perpetual-futures margining, liquidation prices and dYdX v4 exact maths."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.mechanics.dydx import (
    dydx_bankruptcy_quote,
    dydx_fillable_price,
    dydx_insurance_fund_delta,
    dydx_is_liquidatable,
    dydx_risk,
)
from contagion.mechanics.perp import (
    account_equity,
    bankruptcy_price,
    binance_maintenance_margin,
    hyperliquid_maintenance_margin,
    initial_margin,
    liquidation_price,
    liquidation_price_binance,
    liquidation_price_hyperliquid,
    maintenance_margin,
)

collaterals = st.floats(min_value=1.0, max_value=1e7)
sizes = st.floats(min_value=1e-3, max_value=1e4).flatmap(
    lambda s: st.sampled_from([s, -s]))
entries = st.floats(min_value=1e-2, max_value=1e5)
mmfs = st.floats(min_value=0.0, max_value=0.5)


def test_account_equity_marks_longs_and_shorts_to_market() -> None:
    assert account_equity(100.0, [2.0, -2.0], 50.0, 60.0).tolist() == [120.0, 80.0]
    assert isinstance(account_equity(100.0, 1.0, 50.0, 60.0), float)


def test_margins_use_absolute_size() -> None:
    assert maintenance_margin([-2.0, 2.0], 100.0, 0.05).tolist() == [10.0, 10.0]
    assert initial_margin(-4.0, 100.0, 0.1) == pytest.approx(40.0)


def test_margins_reject_fractions_out_of_range() -> None:
    with pytest.raises(ParameterError, match=r"'maintenance_margin_frac'.*0 <= x < 1"):
        maintenance_margin(1.0, 1.0, 1.0)
    with pytest.raises(ParameterError, match="'initial_margin_frac'"):
        initial_margin(1.0, 1.0, -0.1)
    with pytest.raises(ParameterError, match="'mark_price'"):
        account_equity(1.0, 1.0, 1.0, -1.0)
    with pytest.raises(ParameterError, match="'entry_price'"):
        bankruptcy_price(1.0, 1.0, 0.0)


@settings(max_examples=200, deadline=None)
@given(collaterals, sizes, entries)
def test_equity_is_zero_at_the_bankruptcy_price(c: float, s: float, e: float) -> None:
    price = bankruptcy_price(c, s, e)
    assume(price > 0)
    assert account_equity(c, s, e, price) == pytest.approx(0.0, abs=1e-9 * (c + abs(s) * e))


@settings(max_examples=200, deadline=None)
@given(collaterals, sizes, entries, mmfs)
def test_equity_equals_maintenance_margin_at_the_liquidation_price(
    c: float, s: float, e: float, m: float,
) -> None:
    price = liquidation_price(c, s, e, m)
    assume(price > 0)
    equity = account_equity(c, s, e, price)
    mm = maintenance_margin(s, price, m)
    assert equity == pytest.approx(mm, abs=1e-9 * (c + abs(s) * e + abs(s) * price))


def test_prices_are_nan_for_flat_positions() -> None:
    assert math.isnan(bankruptcy_price(100.0, 0.0, 10.0))
    assert np.isnan(liquidation_price([1.0, 1.0], [0.0, 1.0], 10.0, 0.1)).tolist() == [True,
                                                                                         False]


def test_liquidation_price_lies_between_entry_and_bankruptcy() -> None:
    for size in (1.0, -1.0):
        liq = liquidation_price(100.0, size, 1_000.0, 0.05)
        bust = bankruptcy_price(100.0, size, 1_000.0)
        assert min(1_000.0, bust) < liq < max(1_000.0, bust)


def test_hyperliquid_liquidation_price_matches_generic_isolated_price() -> None:
    entry, size, margin, lev = 173.06, 0.6, 20.735658, 40.0
    mm = hyperliquid_maintenance_margin(entry * size, lev / 2)
    docs = liquidation_price_hyperliquid(entry, "long", size, margin - mm, lev)
    assert docs == pytest.approx(liquidation_price(margin, size, entry, 1 / lev), rel=1e-12)
    both = liquidation_price_hyperliquid(entry, np.array([1.0, -1.0]), size, margin - mm, lev)
    assert both[0] < entry < both[1]


def test_hyperliquid_rejects_bad_side_size_and_leverage() -> None:
    with pytest.raises(ParameterError, match=r"'side'.*'long', 'short'"):
        liquidation_price_hyperliquid(1.0, "buy", 1.0, 1.0, 40.0)
    with pytest.raises(ParameterError, match="'side'"):
        liquidation_price_hyperliquid(1.0, [1.0, 0.0], 1.0, 1.0, 40.0)
    with pytest.raises(ParameterError, match="'position_size'"):
        liquidation_price_hyperliquid(1.0, 1.0, 0.0, 1.0, 40.0)
    with pytest.raises(ParameterError, match=r"'maintenance_leverage'.*1 < x"):
        liquidation_price_hyperliquid(1.0, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(ParameterError, match="'max_leverage'"):
        hyperliquid_maintenance_margin(1.0, 0.5)


def test_binance_isolated_without_cum_matches_generic_price() -> None:
    for side, size in (("long", 3.0), ("short", -3.0)):
        lp = liquidation_price_binance(500.0, side, 3.0, 2_000.0, 0.004, 0.0)
        assert lp == pytest.approx(liquidation_price(500.0, size, 2_000.0, 0.004), rel=1e-12)


def test_binance_cross_margin_uses_other_positions() -> None:
    tmm = binance_maintenance_margin(3683.979, 1335.18, 0.1, 135365.0)
    upnl = 3683.979 * (1335.18 - 1456.84)
    lp = liquidation_price_binance(1535443.01, 1.0, 109.488, 32481.98, 0.025, 16300.0, tmm, upnl)
    assert round(lp, 2) == 26316.89
    with pytest.raises(ParameterError, match="'mmr'"):
        liquidation_price_binance(1.0, 1.0, 1.0, 1.0, 1.0, 0.0)
    with pytest.raises(ParameterError, match="'cum_maintenance_amount'"):
        binance_maintenance_margin(1.0, 1.0, 0.1, -1.0)


BTC = {"sizes": ["1/10"], "oracle_prices": [50_000], "maintenance_fracs": ["1/10"]}


def test_dydx_risk_and_liquidatable() -> None:
    assert dydx_risk(-4_501, **BTC) == (Fraction(499), Fraction(500))
    assert dydx_is_liquidatable(-4_501, **BTC)
    assert not dydx_is_liquidatable(1_000, [0], [1], [0])


def test_dydx_fillable_price_clamps_the_adjusted_bankruptcy_rating() -> None:
    # TNC < 0: ABR clamps at 1, price = oracle less the full spread 0.1 * MMR
    assert dydx_fillable_price(-6_000, **BTC, position_index=0) == 49_500
    # TNC > TMMR: ABR clamps at 0, price = oracle
    assert dydx_fillable_price(-4_000, **BTC, position_index=0) == 50_000
    short = dydx_fillable_price(5_499, ["-1/10"], [50_000], ["1/10"], 0)
    assert short == 50_001


def test_dydx_bankruptcy_quote_rounds_toward_positive_infinity() -> None:
    # TNC = 1/3 of a quantum times something: 1 BTC, tnc*|dmmr|/tmmr has a fraction
    args = (Fraction(-49_999) + Fraction(1, 3 * 10**6), ["1"], [50_000], ["1/10"], 0)
    exact = dydx_bankruptcy_quote(*args, delta_size="-1/3", quote_quantum=None)
    rounded = dydx_bankruptcy_quote(*args, delta_size="-1/3")
    assert rounded >= exact and rounded - exact < Fraction(1, 10**6)
    assert (rounded * 10**6).denominator == 1


def test_dydx_rejects_deltas_that_do_not_reduce_the_position() -> None:
    with pytest.raises(ParameterError, match="'delta_size'"):
        dydx_bankruptcy_quote(-4_501, **BTC, position_index=0, delta_size="1/10")
    with pytest.raises(ParameterError, match="'delta_size'"):
        dydx_bankruptcy_quote(-4_501, **BTC, position_index=0, delta_size="-1/5")
    with pytest.raises(ParameterError, match="'position_index'"):
        dydx_fillable_price(-4_501, **BTC, position_index=1)
    with pytest.raises(ParameterError, match="'sizes'"):
        dydx_fillable_price(-4_501, ["abc"], [50_000], ["1/10"], 0)
    with pytest.raises(ParameterError, match="'maintenance_fracs'"):
        dydx_fillable_price(-4_501, ["1/10"], [50_000], ["3/2"], 0)
    with pytest.raises(ParameterError, match="'oracle_prices'"):
        dydx_risk(0, ["1"], [50_000, 1], ["1/10"])


def test_dydx_insurance_fund_pays_shortfall_and_collects_capped_fee() -> None:
    # long bankrupt at 51,000: selling at 50,000 needs 100 from the fund
    assert dydx_insurance_fund_delta(-5_100, **BTC, position_index=0, fill_size="1/10",
                                     fill_price=50_000) == -100
    # selling at 52,000 leaves 100 above bankruptcy, fee capped at 0.5% of 5,200 = 26
    assert dydx_insurance_fund_delta(-5_100, **BTC, position_index=0, fill_size="1/10",
                                     fill_price=52_000) == 26
    with pytest.raises(ParameterError, match="'fill_size'"):
        dydx_insurance_fund_delta(-5_100, **BTC, position_index=0, fill_size=0,
                                  fill_price=50_000)
    with pytest.raises(ParameterError, match="'max_liquidation_fee'"):
        dydx_insurance_fund_delta(-5_100, **BTC, position_index=0, fill_size="1/10",
                                  fill_price=50_000, max_liquidation_fee=2)
