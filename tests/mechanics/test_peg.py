"""Algorithmic-peg mechanics: the mint/burn round trip, queue sales, exit thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.mechanics.amm import swap_in, swap_out
from contagion.mechanics.peg import (
    burn_rate,
    conversion_arbitrage,
    exit_thresholds,
    heavy_tailed_sizes,
    mint_rate,
    queue_sale_proceeds,
)

FEE = 0.003


def _profit(x: np.ndarray, r1: float, q1: float, r2: float, q2: float, k: float) -> np.ndarray:
    """Brute-force profit of buying x in pool 1, converting at k, selling in pool 2."""
    return np.asarray(swap_out(k * x, r2, q2, FEE)) - np.asarray(swap_in(x, q1, r1, FEE))


def test_burn_pays_one_dollar_of_token_less_the_spread() -> None:
    # Terra: 1 UST -> $1 of LUNA at the oracle price, less the 0.5% minimum spread
    assert burn_rate(80.0, 0.005) * 80.0 == pytest.approx(0.995)
    assert mint_rate(80.0, 0.005) == pytest.approx(79.6)
    assert burn_rate(2.0, 0.0) == 0.5


def test_rates_reject_a_zero_price_and_a_full_spread() -> None:
    with pytest.raises(ParameterError, match=r"token_price_usd' = 0.0"):
        burn_rate(0.0, 0.005)
    with pytest.raises(ParameterError, match=r"spread_frac' = 1.0 .* 0 <= x < 1"):
        mint_rate(80.0, 1.0)


def test_arbitrage_size_is_the_brute_force_optimum() -> None:
    r1, q1, r2, q2, k = 1e6, 9.0e5, 2e4, 1.6e6, burn_rate(80.0, 0.005)
    t = conversion_arbitrage(r1, q1, r2, q2, k)
    grid = np.linspace(1.0, 60_000.0, 600_001)
    best = grid[np.argmax(_profit(grid, r1, q1, r2, q2, k))]
    assert t.bought_units == pytest.approx(best, abs=0.2)
    assert t.profit_usd == pytest.approx(float(_profit(np.array([best]), r1, q1, r2, q2, k)[0]),
                                         rel=1e-6)
    assert t.converted_units == pytest.approx(k * t.bought_units)
    # first-order condition: the marginal unit costs what its conversion fetches
    g, x = 1 - FEE, t.bought_units
    marginal_cost = q1 * r1 / (g * (r1 - x) ** 2)
    marginal_value = k * g * q2 * r2 / (r2 + g * k * x) ** 2
    assert marginal_cost == pytest.approx(marginal_value, rel=1e-9)


def test_no_arbitrage_inside_the_spread_and_fee_band() -> None:
    k = burn_rate(80.0, 0.005)
    # UST at 0.99 > (1 - 0.005)(1 - 0.003)^2 = 0.989: nothing to earn
    assert conversion_arbitrage(1e6, 9.9e5, 2e4, 1.6e6, k).bought_units == 0.0
    assert conversion_arbitrage(1e6, 9.88e5, 2e4, 1.6e6, k).bought_units > 0.0


def test_capacity_caps_the_trade_which_still_pays() -> None:
    k = burn_rate(80.0, 0.005)
    free = conversion_arbitrage(1e6, 8e5, 2e4, 1.6e6, k)
    capped = conversion_arbitrage(1e6, 8e5, 2e4, 1.6e6, k, max_units=1_000.0)
    assert free.bought_units > 1_000.0
    assert capped.bought_units == 1_000.0
    assert 0 < capped.profit_usd < free.profit_usd
    assert conversion_arbitrage(1e6, 8e5, 2e4, 1.6e6, k, max_units=0.0).paid_usd == 0.0


def test_arbitrage_rejects_empty_pools() -> None:
    with pytest.raises(ParameterError, match=r"sell_reserve_quote' = 0.0"):
        conversion_arbitrage(1e6, 9e5, 2e4, 0.0, 0.01)
    with pytest.raises(ParameterError, match=r"max_units' = -1"):
        conversion_arbitrage(1e6, 9e5, 2e4, 1.6e6, 0.01, max_units=-1)


@settings(max_examples=200, deadline=None)
@given(ust=st.floats(0.05, 1.2), r1=st.floats(1e3, 1e8), r2=st.floats(1e2, 1e7),
       luna=st.floats(1e-4, 1e3), oracle_ratio=st.floats(0.5, 2.0),
       cap=st.floats(0.0, 1e7))
def test_the_round_trip_never_loses_and_respects_capacity(ust: float, r1: float, r2: float,
                                                          luna: float, oracle_ratio: float,
                                                          cap: float) -> None:
    k = burn_rate(luna * oracle_ratio, 0.005)
    t = conversion_arbitrage(r1, ust * r1, r2, luna * r2, k, max_units=cap)
    assert t.bought_units <= cap
    assert t.profit_usd >= 0.0
    if t.bought_units > 0:
        assert t.bought_units < r1
        # a little more or a little less would not earn more (unless capped)
        for x in (t.bought_units * 0.99, min(t.bought_units * 1.01, cap)):
            assert float(_profit(np.array([x]), r1, ust * r1, r2, luna * r2, k)[0]) <= \
                t.profit_usd * (1 + 1e-9) + 1e-9


def test_queue_sales_add_up_to_one_swap_and_the_first_gets_the_best_price() -> None:
    units = np.array([500.0, 300.0, 200.0])
    got = queue_sale_proceeds(units, 1e4, 9e3, fee_frac=FEE)
    assert got.sum() == pytest.approx(float(swap_out(1000.0, 1e4, 9e3, FEE)), rel=1e-12)
    price = got / units
    assert np.all(np.diff(price) < 0)
    assert queue_sale_proceeds(np.array([]), 1e4, 9e3).size == 0


def test_queue_sales_reject_negative_units() -> None:
    with pytest.raises(ParameterError, match=r"units"):
        queue_sale_proceeds(np.array([1.0, -1.0]), 1e4, 1e4)


def test_larger_holders_have_lower_exit_thresholds_when_ordered() -> None:
    rng = np.random.default_rng(3)
    sizes = heavy_tailed_sizes(500, 1e7, 1.2, rng)
    th = exit_thresholds(sizes, 0.005, 0.6, ordered=True, rng=rng)
    order = np.argsort(-sizes)
    assert np.all(np.diff(th[order]) >= 0)
    assert th.min() == pytest.approx(0.005) and th.max() == pytest.approx(0.6)
    assert th[np.argmax(sizes)] == pytest.approx(0.005)
    # the money leaves evenly over log(depeg): half of it by the geometric mean
    mid = math.sqrt(0.005 * 0.6)
    assert sizes[th <= mid].sum() / sizes.sum() == pytest.approx(0.5, abs=0.05)


def test_unordered_thresholds_do_not_follow_size() -> None:
    rng = np.random.default_rng(4)
    sizes = heavy_tailed_sizes(2000, 1e7, 1.2, rng)
    th = exit_thresholds(sizes, 0.005, 0.6, ordered=False, rng=np.random.default_rng(5))
    assert 0.005 <= th.min() and th.max() <= 0.6 + 1e-12
    rank_corr = np.corrcoef(np.argsort(np.argsort(sizes)), np.argsort(np.argsort(th)))[0, 1]
    assert abs(rank_corr) < 0.1
    again = exit_thresholds(sizes, 0.005, 0.6, ordered=False, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(th, again)


def test_exit_thresholds_reject_a_zero_or_inverted_range() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ParameterError, match=r"low_frac' = 0.0"):
        exit_thresholds([1.0, 2.0], 0.0, 0.5, ordered=True, rng=rng)
    with pytest.raises(ParameterError, match=r"high_frac' = 0.1 .* 0.2 <= x <= 1"):
        exit_thresholds([1.0, 2.0], 0.2, 0.1, ordered=True, rng=rng)


def test_heavy_tailed_sizes_sum_to_the_total_and_concentrate() -> None:
    s = heavy_tailed_sizes(1000, 1.3e7, 1.2, np.random.default_rng(2))
    assert s.sum() == pytest.approx(1.3e7) and np.all(s > 0)
    top = np.sort(s)[-100:].sum() / s.sum()
    thin = heavy_tailed_sizes(1000, 1.3e7, 20.0, np.random.default_rng(2))
    assert top > 0.4 > np.sort(thin)[-100:].sum() / thin.sum()
    with pytest.raises(ParameterError, match=r"tail_alpha' = 0"):
        heavy_tailed_sizes(10, 1.0, 0, np.random.default_rng(0))
