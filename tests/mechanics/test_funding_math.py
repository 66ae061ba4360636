"""Funding maths (contagion.mechanics.funding) against the exchanges' own numbers.

dYdX v4 vectors: dydxprotocol/v4-chain at commit 84d4664bae71e3a077adaac67fb77ad19cd28d30,
``protocol/x/perpetuals/funding/funding_test.go`` (``TestGetFundingIndexDelta``) and
``protocol/x/perpetuals/types/liquidity_tier_test.go``
(``TestLiquidityTierGetMaxAbsFundingClampPpm``); the premium equation of
``protocol/x/clob/memclob/memclob.go`` (``GetPricePremium``). Binance: "Introduction to
Binance Futures Funding Rates" (``F = P + clamp(I - P, 0.05%, -0.05%)``, interest 0.01% per
8-hour interval, impact margin notional 200 USDT / IMR: 4,000 USDT for BNBUSDT at 20x).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.mechanics.funding import (
    BINANCE_INTEREST_RATE_FRAC,
    FUNDING_CLAMP_FRAC,
    capped_funding_rate,
    funding_cap_from_margins,
    funding_payment_usd,
    funding_rate,
    imbalance_premium,
    impact_margin_notional,
    premium_index,
    prorated_rate,
)

# TestGetFundingIndexDelta: (atomic resolution, price, price exponent, 8h rate ppm,
# seconds since the last funding, expected index delta). The index delta is the funding
# per base quantum in ppm of quote quantums (1e-6 USD), truncated toward zero.
DYDX_INDEX_DELTA = [
    (-12, 1_000, 0, 1_001_999, 8 * 3600, 1_001),
    (-12, 1_000, 0, -1_001_999, 8 * 3600, -1_001),
    (-4, 1_000, 2, -1_001_999, 8 * 3600 // 2, -5_009_995_000_000),
    (0, 1_000, -6, -1_001_999, 8 * 3600 // 8, -125_249_875),
]


@pytest.mark.parametrize(("atomic", "price", "exponent", "rate_ppm", "seconds", "expected"),
                         DYDX_INDEX_DELTA)
def test_prorated_payment_matches_dydx_funding_index_delta(atomic, price, exponent, rate_ppm,
                                                           seconds, expected):
    usd_per_coin = price * 10.0 ** exponent
    rate = prorated_rate(rate_ppm / 1e6, seconds / 60.0)
    pay_usd_per_coin = funding_payment_usd(1.0, usd_per_coin, rate)
    delta = pay_usd_per_coin * 1e6 * 10.0 ** atomic * 1e6  # quote quantums, base quantum, ppm
    assert math.trunc(round(delta, 6)) == expected


# (clamp factor ppm, initial margin ppm, maintenance fraction ppm of IM, expected bound ppm)
DYDX_CLAMP = [
    (6_000_000, 150_000, 800_000, 180_000),
    (6_000_000, 450_000, 1_000_000, 0),
    (3_000_000, 1_000_000, 0, 3_000_000),
    (0, 1_000_000, 1_000_000, 0),
    (423_978_721, 745_345, 564_947, 137_481_459),
]


@pytest.mark.parametrize(("factor", "imf", "fraction", "expected"), DYDX_CLAMP)
def test_cap_from_margins_matches_dydx_liquidity_tier(factor, imf, fraction, expected):
    # dYdX's maintenance margin: IM x maintenance fraction, truncated to a whole ppm
    # (``GetMaintenanceMarginPpm``, ``lib.BigIntMulPpm``: 421,079.6 -> 421,079); the bound
    # is truncated too
    mmf = math.floor(imf * fraction / 1e6) / 1e6
    cap = funding_cap_from_margins(imf / 1e6, mmf, factor / 1e6)
    assert math.floor(round(cap * 1e6, 3)) == expected


def test_binance_rate_is_the_interest_rate_while_the_premium_is_near_it():
    # Binance: I = 0.01% per interval; F = I for any premium within 0.05% of it
    for premium in np.linspace(-0.0004, 0.0006, 11):
        assert funding_rate(premium) == pytest.approx(BINANCE_INTEREST_RATE_FRAC, abs=1e-15)
    # beyond the clamp the rate follows the premium, 0.05% closer to the interest rate
    assert funding_rate(0.0030) == pytest.approx(0.0025, abs=1e-15)
    assert funding_rate(-0.0030) == pytest.approx(-0.0025, abs=1e-15)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(p=st.floats(-0.1, 0.1), i=st.floats(-0.01, 0.01), c=st.floats(0, 0.01))
def test_funding_rate_is_within_the_clamp_of_the_premium(p, i, c):
    f = funding_rate(p, i, c)
    assert abs(f - p) <= c + 1e-15
    if abs(i - p) <= c:
        assert f == pytest.approx(i, abs=1e-15)


def test_cap_holds_the_rate_in_band():
    assert capped_funding_rate([0.02, -0.02, 0.003], 0.0075).tolist() == [0.0075, -0.0075, 0.003]
    with pytest.raises(ParameterError, match="cap_frac"):
        capped_funding_rate(0.01, -0.1)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(bid=st.floats(1, 1000), spread=st.floats(0, 50), index=st.floats(1, 1000))
def test_premium_index_is_dydx_piecewise(bid, spread, index):
    ask = bid + spread
    p = premium_index(bid, ask, index)
    if index < bid:
        expected = bid / index - 1
    elif index > ask:
        expected = ask / index - 1
    else:
        expected = 0.0
    assert p == pytest.approx(expected, abs=1e-12)


def test_binance_impact_margin_notional():
    assert impact_margin_notional(0.05) == pytest.approx(4_000.0)


def test_payment_signs_longs_pay_when_positive_and_zero_sum():
    sizes = np.array([3.0, -1.0, -2.0])
    pay = funding_payment_usd(sizes, 2_000.0, 0.0001)
    assert pay.tolist() == pytest.approx([0.6, -0.2, -0.4])
    assert abs(pay.sum()) < 1e-15


def test_imbalance_premium_grows_with_crowding_and_is_bounded():
    p = imbalance_premium([1e6, 1e7, 1e9, -1e9], 1e8, sensitivity=1.0, max_frac=0.05)
    assert p.tolist() == pytest.approx([0.01, 0.05, 0.05, -0.05])
    with pytest.raises(ParameterError, match="depth_usd"):
        imbalance_premium(1.0, 0.0)
    with pytest.raises(ParameterError, match="period_hours"):
        prorated_rate(0.001, 60.0, period_hours=0.0)
    assert FUNDING_CLAMP_FRAC == 0.0005
