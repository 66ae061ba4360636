"""Tests of the constant-product AMM (Uniswap V2)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.mechanics.amm import (
    arbitrage_to_price,
    arbitrage_with_impact,
    get_amount_in,
    get_amount_out,
    k_invariant_holds,
    pair_swap_succeeds,
    price_impact_frac,
    quote,
    spot_price,
    swap_in,
    swap_out,
)

big_ints = st.integers(min_value=1, max_value=10**30)
float_ints = st.integers(min_value=1, max_value=2**40)
fees_bps = st.integers(min_value=0, max_value=9_999)
reserves = st.floats(min_value=1e-3, max_value=1e12)
price_ratios = st.floats(min_value=-3.0, max_value=3.0).map(lambda e: 10.0**e)
fee_fracs = st.floats(min_value=0.0, max_value=0.05)


def test_get_amount_out_matches_uniswap_formula_for_default_fee() -> None:
    a, r_in, r_out = 10**18, 5 * 10**18, 10 * 10**18
    assert get_amount_out(a, r_in, r_out) == a * 997 * r_out // (r_in * 1000 + a * 997)


def test_get_amount_out_rejects_nonpositive_amount_and_reserves() -> None:
    with pytest.raises(ParameterError, match="'amount_in'"):
        get_amount_out(0, 100, 100)
    with pytest.raises(ParameterError, match="'reserve_in'"):
        get_amount_out(1, 0, 100)
    with pytest.raises(ParameterError, match="'reserve_out'"):
        get_amount_out(1, 100, -5)
    with pytest.raises(ParameterError, match=r"'amount_in'.*integer"):
        get_amount_out(1.5, 100, 100)  # type: ignore[arg-type]


def test_fee_bps_outside_range_is_rejected_with_the_allowed_range() -> None:
    with pytest.raises(ParameterError, match=r"'fee_bps'.*0 <= x < 10000"):
        get_amount_out(1, 100, 100, fee_bps=10_000)
    with pytest.raises(ParameterError, match="'fee_bps'"):
        get_amount_in(1, 100, 100, fee_bps=-1)
    with pytest.raises(ParameterError, match="'fee_bps'"):
        k_invariant_holds(1, 1, 0, 0, 1, 1, fee_bps=True)  # type: ignore[arg-type]


def test_get_amount_in_rejects_output_at_or_above_reserve() -> None:
    with pytest.raises(ParameterError, match=r"'amount_out'.*reserve_out = 100"):
        get_amount_in(100, 100, 100)
    with pytest.raises(ParameterError, match="'amount_out'"):
        get_amount_in(0, 100, 100)


def test_quote_floors_and_rejects_empty_reserves() -> None:
    assert quote(3, 200, 100) == 1
    with pytest.raises(ParameterError, match="'reserve_a'"):
        quote(1, 0, 100)


def test_k_invariant_rejects_negative_balances() -> None:
    with pytest.raises(ParameterError, match="'balance0'"):
        k_invariant_holds(-1, 1, 0, 0, 1, 1)


def test_pair_swap_fails_without_output_or_input() -> None:
    assert not pair_swap_succeeds(0, 0, 10, 0, 100, 100)
    assert not pair_swap_succeeds(0, 1, 0, 0, 100, 100)
    assert not pair_swap_succeeds(0, 100, 10**9, 0, 100, 100)


@settings(max_examples=200, deadline=None)
@given(big_ints, big_ints, big_ints, fees_bps)
def test_get_amount_out_is_the_largest_output_the_pair_accepts(
    a: int, r_in: int, r_out: int, fee: int,
) -> None:
    out = get_amount_out(a, r_in, r_out, fee)
    assume(0 < out)
    assert pair_swap_succeeds(0, out, a, 0, r_in, r_out, fee)
    assert not pair_swap_succeeds(0, out + 1, a, 0, r_in, r_out, fee)
    assert (r_in + a) * (r_out - out) >= r_in * r_out  # k never decreases


@settings(max_examples=200, deadline=None)
@given(big_ints, big_ints, big_ints, fees_bps)
def test_get_amount_in_buys_at_least_the_requested_output(
    out: int, r_in: int, r_out: int, fee: int,
) -> None:
    assume(out < r_out)
    amount_in = get_amount_in(out, r_in, r_out, fee)
    assert pair_swap_succeeds(0, out, amount_in, 0, r_in, r_out, fee)


@settings(max_examples=200, deadline=None)
@given(float_ints, float_ints, float_ints)
def test_float_swap_out_is_within_one_unit_of_the_integer_swap(
    a: int, r_in: int, r_out: int,
) -> None:
    exact = get_amount_out(a, r_in, r_out)
    approx = swap_out(float(a), float(r_in), float(r_out))
    assert exact - 1e-9 * exact <= approx <= exact + 1 + 1e-9 * exact


@settings(max_examples=200, deadline=None)
@given(float_ints, float_ints, float_ints)
def test_float_swap_in_is_within_one_unit_of_the_integer_swap(
    out: int, r_in: int, r_out: int,
) -> None:
    assume(out < r_out)
    exact = get_amount_in(out, r_in, r_out)
    approx = swap_in(float(out), float(r_in), float(r_out))
    assert exact - 1 - 1e-9 * exact <= approx <= exact + 1e-9 * exact


def test_swap_functions_broadcast_and_return_floats_for_scalars() -> None:
    out = swap_out(np.array([1.0, 2.0, 3.0]), 100.0, np.array([[100.0], [200.0]]))
    assert isinstance(out, np.ndarray) and out.shape == (2, 3)
    assert isinstance(swap_out(1.0, 100.0, 100.0), float)
    assert swap_in([0.0, 50.0, 100.0, 150.0], 100.0, 100.0, 0.0).tolist() == [0.0, 100.0,
                                                                               math.inf, math.inf]


def test_float_swaps_reject_bad_inputs_by_name() -> None:
    with pytest.raises(ParameterError, match=r"'reserve_in'.*0 < x"):
        swap_out(1.0, [100.0, 0.0], 100.0)
    with pytest.raises(ParameterError, match=r"'fee_frac'.*0 <= x < 1"):
        swap_in(1.0, 100.0, 100.0, fee_frac=1.0)
    with pytest.raises(ParameterError, match="'amount_in'"):
        swap_out(-1.0, 100.0, 100.0)
    with pytest.raises(ParameterError, match="'amount_in'"):
        swap_out(float("nan"), 100.0, 100.0)
    with pytest.raises(ParameterError, match="'reserve_base'"):
        spot_price(0.0, 1.0)
    with pytest.raises(ParameterError, match="'amount_in_base'"):
        price_impact_frac("lots", 1.0, 1.0)


def test_spot_price_is_quote_per_base() -> None:
    assert spot_price([2.0, 4.0], 8.0).tolist() == [4.0, 2.0]


@settings(max_examples=100, deadline=None)
@given(st.floats(0.0, 1e9), reserves, reserves, fee_fracs)
def test_price_impact_matches_the_post_swap_spot_price(
    a: float, x: float, y: float, fee: float,
) -> None:
    out = swap_out(a, x, y, fee)
    expected = ((y - out) / (x + a)) / (y / x) - 1.0
    impact = price_impact_frac(a, x, y, fee)
    assert impact <= 0.0
    assert impact == pytest.approx(expected, rel=1e-9, abs=1e-12)


def _fee_adjusted_k(x: float, y: float, db: float, dq: float, g: float) -> float:
    """k of the pool after the trade with the input counted net of fee."""
    if db < 0:  # base bought: quote in
        return (x + db) * (y + g * dq)
    return (x + g * db) * (y + dq)


@settings(max_examples=300, deadline=None)
@given(reserves, reserves, price_ratios, fee_fracs)
def test_uncapped_arbitrage_leaves_no_profitable_trade(
    x: float, y: float, ratio: float, fee: float,
) -> None:
    # target within 1e-3..1e3 of spot: beyond that, float cancellation in the deltas dominates
    target = y / x * ratio
    g = 1.0 - fee
    db, dq = arbitrage_to_price(x, y, target, fee)
    new_spot = (y + dq) / (x + db)
    assert g * target * (1 - 1e-9) <= new_spot <= target / g * (1 + 1e-9)
    assert (x + db) * (y + dq) >= x * y * (1 - 1e-12)  # k never decreases
    if db or dq:
        assert db * dq < 0
        assert _fee_adjusted_k(x, y, db, dq, g) == pytest.approx(x * y, rel=1e-9)
    else:  # inside the fee band (up to rounding at its edges)
        assert g * target * (1 - 1e-12) <= y / x <= target / g * (1 + 1e-12)


@settings(max_examples=300, deadline=None)
@given(reserves, reserves, price_ratios, fee_fracs, st.floats(1e-9, 1.0))
def test_capped_arbitrage_trades_exactly_the_cap_and_stays_a_valid_swap(
    x: float, y: float, ratio: float, fee: float, cap_share: float,
) -> None:
    target = y / x * ratio
    full_db, full_dq = arbitrage_to_price(x, y, target, fee)
    cap = abs(full_dq) * cap_share
    db, dq = arbitrage_to_price(x, y, target, fee, max_notional_quote=cap)
    if cap_share < 1.0 and cap > 0.0:
        assert abs(dq) == pytest.approx(cap, rel=1e-12)
        assert np.sign(db) == np.sign(full_db) and abs(db) <= abs(full_db) * (1 + 1e-9)
        g = 1.0 - fee
        assert _fee_adjusted_k(x, y, db, dq, g) >= x * y * (1 - 1e-9)
    assert abs(dq) <= cap * (1 + 1e-12) + 1e-300


def test_arbitrage_buys_base_from_a_cheap_pool_and_sells_into_a_dear_one() -> None:
    db, dq = arbitrage_to_price(100.0, 100_000.0, 1_200.0)
    assert db < 0 < dq
    db, dq = arbitrage_to_price(100.0, 100_000.0, 800.0)
    assert dq < 0 < db


def test_arbitrage_inside_the_fee_band_does_nothing() -> None:
    assert arbitrage_to_price(100.0, 100_000.0, 1_000.0 * 1.002) == (0.0, 0.0)
    assert arbitrage_to_price(100.0, 100_000.0, 1_000.0 * 0.998) == (0.0, 0.0)


def test_arbitrage_trade_is_profit_maximising() -> None:
    x, y, target, fee = 100.0, 100_000.0, 1_250.0, 0.003
    _, dq = arbitrage_to_price(x, y, target, fee)

    def profit(quote_in: float) -> float:
        return target * float(swap_out(quote_in, y, x, fee)) - quote_in

    best = profit(dq)
    assert best > 0
    assert best >= profit(dq * 0.99) and best >= profit(dq * 1.01)


def test_arbitrage_rejects_bad_parameters() -> None:
    with pytest.raises(ParameterError, match="'target_price'"):
        arbitrage_to_price(1.0, 1.0, 0.0)
    with pytest.raises(ParameterError, match="'max_notional_quote'"):
        arbitrage_to_price(1.0, 1.0, 2.0, max_notional_quote=-1.0)
    with pytest.raises(ParameterError, match="'fee_frac'"):
        arbitrage_to_price(1.0, 1.0, 2.0, fee_frac=1.0)
    with pytest.raises(ParameterError, match="'reserve_base'"):
        arbitrage_to_price(-1.0, 1.0, 2.0)


# ---------------------------------------------------------------- arbitrage with impact
# Hand-worked cases on a pool of 100 base / 10,000 quote (k = 1e6, spot 100). The depth is
# chosen so that the unwind moves the external price by exactly a factor 1.28.
LN_1_28 = math.log(1.28)
depth_ratios = st.floats(min_value=-3.0, max_value=3.0).map(lambda e: 10.0**e)


def _impacted(price: float, depth: float, db: float) -> float:
    """External price after the unwind (``Market.impact`` of ``-db`` units sold)."""
    return price * math.exp(db * price / depth)


def test_impact_arbitrage_buys_until_spot_meets_the_impacted_price() -> None:
    # u = 80 left: pool spot 1e6 / 80**2 = 156.25 = 200 exp(-20 * 200 / D) with D = 4000/ln 1.28
    depth = 4_000.0 / LN_1_28
    db, dq = arbitrage_with_impact(100.0, 10_000.0, 200.0, depth, fee_frac=0.0)
    assert db == pytest.approx(-20.0, rel=1e-12)
    assert dq == pytest.approx(1e6 / 80.0 - 10_000.0, rel=1e-12)  # 2,500
    assert (10_000.0 + dq) / (100.0 + db) == pytest.approx(156.25, rel=1e-12)
    assert _impacted(200.0, depth, db) == pytest.approx(156.25, rel=1e-12)
    # the arbitrage that ignores the impact buys 100 - sqrt(5000) = 29.29 base and overshoots
    old_db, old_dq = arbitrage_to_price(100.0, 10_000.0, 200.0, fee_frac=0.0)
    assert old_db == pytest.approx(-(100.0 - math.sqrt(5_000.0)), rel=1e-12)
    assert (10_000.0 + old_dq) / (100.0 + old_db) > _impacted(200.0, depth, old_db)


def test_impact_arbitrage_sells_until_spot_meets_the_impacted_price() -> None:
    # s = 125: pool spot 1e6 / 125**2 = 64 = 50 exp(25 * 50 / D) with D = 1250/ln 1.28
    depth = 1_250.0 / LN_1_28
    db, dq = arbitrage_with_impact(100.0, 10_000.0, 50.0, depth, fee_frac=0.0)
    assert db == pytest.approx(25.0, rel=1e-12)
    assert dq == pytest.approx(-2_000.0, rel=1e-12)
    assert (10_000.0 + dq) / (100.0 + db) == pytest.approx(64.0, rel=1e-12)
    assert _impacted(50.0, depth, db) == pytest.approx(64.0, rel=1e-12)


def test_impact_arbitrage_with_a_fee_meets_at_the_fee_adjusted_marginal_price() -> None:
    # g = 0.8, u = 80: k / (g u**2) = 195.3125 = 250 exp(-20 * 250 / D), D = 5000/ln 1.28;
    # quote paid (k/u - y) / g = 3,125; spot after (10,000 + 3,125) / 80 = 164.0625
    depth = 5_000.0 / LN_1_28
    db, dq = arbitrage_with_impact(100.0, 10_000.0, 250.0, depth, fee_frac=0.2)
    assert db == pytest.approx(-20.0, rel=1e-12)
    assert dq == pytest.approx(3_125.0, rel=1e-12)
    after = _impacted(250.0, depth, db)
    assert after == pytest.approx(195.3125, rel=1e-12)
    spot = (10_000.0 + dq) / (100.0 + db)
    assert spot == pytest.approx(164.0625, rel=1e-12)
    assert 0.8 * after <= spot < after  # inside the fee band, still on the cheap side


def test_impact_arbitrage_recovers_the_old_trade_as_depth_grows() -> None:
    x, y, fee = 100.0, 100_000.0, 0.003
    for target in (1_250.0, 800.0):
        old = arbitrage_to_price(x, y, target, fee)
        assert arbitrage_with_impact(x, y, target, math.inf, fee) == old
        errors = []
        for depth in (1e6, 1e8, 1e10, 1e12, 1e14):
            db, dq = arbitrage_with_impact(x, y, target, depth, fee)
            assert abs(db) < abs(old[0]) and abs(dq) < abs(old[1])  # impact only shrinks it
            errors.append(abs(db / old[0] - 1.0))
        assert errors == sorted(errors, reverse=True)
        assert errors[-1] < 1e-9


@settings(max_examples=300, deadline=None)
@given(reserves, reserves, price_ratios, depth_ratios)
def test_impact_arbitrage_without_fee_ends_with_spot_at_the_impacted_price(
    x: float, y: float, ratio: float, depth_ratio: float,
) -> None:
    target = y / x * ratio
    depth = x * target * depth_ratio  # the pool's base side, valued outside, over the depth
    db, dq = arbitrage_with_impact(x, y, target, depth, fee_frac=0.0)
    assume(db != 0.0)
    assert (y + dq) / (x + db) == pytest.approx(_impacted(target, depth, db), rel=1e-9)
    assert (x + db) * (y + dq) == pytest.approx(x * y, rel=1e-9)  # a valid fee-less swap


@settings(max_examples=300, deadline=None)
@given(reserves, reserves, price_ratios, fee_fracs, depth_ratios,
       st.one_of(st.just(math.inf), st.floats(1e-6, 1e12)))
def test_impact_arbitrage_never_overshoots(
    x: float, y: float, ratio: float, fee: float, depth_ratio: float, cap: float,
) -> None:
    target = y / x * ratio
    depth = x * target * depth_ratio
    g = 1.0 - fee
    db, dq = arbitrage_with_impact(x, y, target, depth, fee, cap)
    spot, after = (y + dq) / (x + db), _impacted(target, depth, db)
    gap_before, gap_after = y / x / target - 1.0, spot / after - 1.0
    assert abs(dq) <= cap * (1 + 1e-12)
    if db == 0.0:
        assert dq == 0.0
        return
    assert db * dq < 0 and np.sign(db) == np.sign(gap_before)  # sells into a dear pool
    assert gap_after * np.sign(gap_before) >= -1e-9  # the gap never changes sign
    assert abs(gap_after) <= abs(gap_before) + 1e-9
    if cap == math.inf:  # ends inside the fee band of the impacted price
        assert g * after * (1 - 1e-9) <= spot <= after / g * (1 + 1e-9)
        assert _fee_adjusted_k(x, y, db, dq, g) == pytest.approx(x * y, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(reserves, reserves, price_ratios, fee_fracs, depth_ratios, st.floats(1e-9, 1.0))
def test_impact_arbitrage_capacity_binds_as_before(
    x: float, y: float, ratio: float, fee: float, depth_ratio: float, cap_share: float,
) -> None:
    target = y / x * ratio
    depth = x * target * depth_ratio
    full_db, full_dq = arbitrage_with_impact(x, y, target, depth, fee)
    assume(full_dq != 0.0 and abs(math.log(ratio)) > 1e-9)  # not a trade of rounding dust
    cap = abs(full_dq) * cap_share
    db, dq = arbitrage_with_impact(x, y, target, depth, fee, max_notional_quote=cap)
    if cap_share < 1.0:  # the same capped swap as the arbitrage that ignores impact
        assert (db, dq) == arbitrage_to_price(x, y, target, fee, max_notional_quote=cap)
        assert abs(dq) == pytest.approx(cap, rel=1e-12)
        assert abs(db) <= abs(full_db) * (1 + 1e-9)
    else:
        assert (db, dq) == (full_db, full_dq)


def test_impact_arbitrage_inside_the_fee_band_does_nothing() -> None:
    assert arbitrage_with_impact(100.0, 100_000.0, 1_000.0 * 1.002, 1e5) == (0.0, 0.0)
    assert arbitrage_with_impact(100.0, 100_000.0, 1_000.0 * 0.998, 1e5) == (0.0, 0.0)


def test_impact_arbitrage_rejects_bad_parameters() -> None:
    with pytest.raises(ParameterError, match=r"'external_depth_usd'.*0 < x"):
        arbitrage_with_impact(1.0, 1.0, 2.0, 0.0)
    with pytest.raises(ParameterError, match="'external_depth_usd'"):
        arbitrage_with_impact(1.0, 1.0, 2.0, float("nan"))
    with pytest.raises(ParameterError, match="'external_price'"):
        arbitrage_with_impact(1.0, 1.0, -2.0, 1e6)
    with pytest.raises(ParameterError, match="'max_notional_quote'"):
        arbitrage_with_impact(1.0, 1.0, 2.0, 1e6, max_notional_quote=-1.0)
    with pytest.raises(ParameterError, match="'fee_frac'"):
        arbitrage_with_impact(1.0, 1.0, 2.0, 1e6, fee_frac=1.0)
