"""Tests of lending mechanics: health factor, close factor, liquidation (Aave V3, Compound V2)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.mechanics.aave import (
    aave_close_factor_bps,
    aave_close_factor_bps_v33,
    aave_health_factor_wad,
    aave_liquidation,
    aave_max_liquidatable_debt,
    aave_max_liquidatable_debt_v33,
    aave_percent_div,
    aave_percent_mul,
    aave_value_in_base,
    aave_wad_div,
)
from contagion.mechanics.compound import (
    compound_account_liquidity,
    compound_liquidation,
    compound_seize_tokens,
)
from contagion.mechanics.lending import (
    close_factor,
    close_factor_v33,
    health_factor,
    liquidation_amounts,
)

WAD = 10**18


def test_health_factor_doc_example_is_four_thirds() -> None:
    assert health_factor(10_000, 0.8, 6_000) == pytest.approx(4 / 3, rel=1e-15)


def test_health_factor_sums_collateral_times_threshold_over_assets() -> None:
    coll = np.array([[100.0, 50.0, 0.0], [10.0, 0.0, 40.0]])
    lt = np.array([0.8, 0.5, 0.7])
    hf = health_factor(coll, lt, [105.0, 36.0])
    np.testing.assert_allclose(hf, [1.0, 1.0])


def test_health_factor_is_infinite_without_debt() -> None:
    assert health_factor([1.0, 0.0], 0.8, [0.0, -1.0]).tolist() == [math.inf, math.inf]
    assert health_factor(0.0, 0.8, 0.0) == math.inf


def test_health_factor_rejects_threshold_above_one_and_negative_collateral() -> None:
    with pytest.raises(ParameterError, match=r"'liquidation_threshold'.*0 <= x <= 1"):
        health_factor(1.0, 1.2, 1.0)
    with pytest.raises(ParameterError, match="'collateral_usd'"):
        health_factor([-1.0], 0.8, [1.0])
    with pytest.raises(ParameterError, match="'debt_usd'"):
        health_factor(1.0, 0.8, math.nan)


def test_close_factor_is_full_at_or_below_095() -> None:
    assert close_factor([0.5, 0.95, 0.951, math.inf]).tolist() == [1.0, 1.0, 0.5, 0.5]
    assert isinstance(close_factor(0.99), float)
    with pytest.raises(ParameterError, match="'default_close_factor'"):
        close_factor(0.99, default_close_factor=1.5)
    with pytest.raises(ParameterError, match="'health_factor'"):
        close_factor(math.nan)


def test_close_factor_v33_lifts_small_positions_to_full() -> None:
    cf = close_factor_v33([0.97, 0.97, 0.97, 0.90], [1_999.0, 5_000.0, 5_000.0, 5_000.0],
                          [5_000.0, 1_999.0, 5_000.0, 5_000.0])
    assert cf.tolist() == [1.0, 1.0, 0.5, 1.0]


def test_close_factor_v33_caps_at_half_of_total_debt() -> None:
    cf = close_factor_v33(0.97, 5_000.0, 3_000.0, total_debt_usd=4_000.0)
    assert cf == pytest.approx(2_000.0 / 3_000.0)
    assert close_factor_v33(0.97, 5_000.0, 2_500.0, total_debt_usd=10_000.0) == 1.0
    with pytest.raises(ParameterError, match="'total_debt_usd'"):
        close_factor_v33(0.97, 5_000.0, 2_500.0, total_debt_usd=-1.0)


amounts = st.floats(min_value=0.0, max_value=1e9)
positive = st.floats(min_value=1e-3, max_value=1e6)
fracs = st.floats(min_value=0.0, max_value=1.0)


@settings(max_examples=200, deadline=None)
@given(amounts, amounts, positive, st.floats(0.0, 0.3), fracs, fracs)
def test_liquidation_conserves_collateral_and_value(
    debt: float, coll: float, price: float, bonus: float, cf: float, fee: float,
) -> None:
    out = liquidation_amounts(debt, coll, price, bonus, cf, fee)
    seized = float(out.collateral_seized_units)
    to_liquidator = float(out.collateral_to_liquidator_units)
    fee_units = float(out.protocol_fee_units)
    repaid = float(out.debt_repaid_usd)
    assert 0.0 <= seized <= coll
    assert 0.0 <= repaid <= cf * debt * (1 + 1e-12)
    assert seized == pytest.approx(to_liquidator + fee_units, rel=1e-12, abs=1e-300)
    assert seized * price == pytest.approx(repaid * (1 + bonus), rel=1e-12, abs=1e-9)
    gain_usd = to_liquidator * price - repaid
    assert gain_usd == pytest.approx(repaid * bonus - fee_units * price, rel=1e-9, abs=1e-6)


def test_liquidation_caps_at_available_collateral_and_scales_repay_down() -> None:
    out = liquidation_amounts([1_900.0, 1_900.0], [10.0, 1.0], 200.0, 0.05, 1.0, 0.0)
    assert out.collateral_seized_units.tolist() == [9.975, 1.0]
    np.testing.assert_allclose(out.debt_repaid_usd, [1_900.0, 200.0 / 1.05])
    assert out.protocol_fee_units.tolist() == [0.0, 0.0]


def test_liquidation_respects_the_liquidators_debt_to_cover() -> None:
    out = liquidation_amounts([1_000.0, 1_000.0], 100.0, 10.0, 0.1, 0.5,
                              debt_to_cover_usd=[100.0, math.inf])
    np.testing.assert_allclose(out.debt_repaid_usd, [100.0, 500.0])
    np.testing.assert_allclose(out.collateral_seized_units, [11.0, 55.0])
    np.testing.assert_allclose(out.protocol_fee_units, [0.1, 0.5])


def test_liquidation_rejects_bad_inputs_by_name() -> None:
    with pytest.raises(ParameterError, match=r"'collateral_price_usd'.*0 < x"):
        liquidation_amounts(1.0, 1.0, 0.0, 0.05, 0.5)
    with pytest.raises(ParameterError, match=r"'close_factor'.*0 <= x <= 1"):
        liquidation_amounts(1.0, 1.0, 1.0, 0.05, 1.5)
    with pytest.raises(ParameterError, match="'liquidation_bonus'"):
        liquidation_amounts(1.0, 1.0, 1.0, -0.05, 0.5)
    with pytest.raises(ParameterError, match="'protocol_fee_frac'"):
        liquidation_amounts(1.0, 1.0, 1.0, 0.05, 0.5, protocol_fee_frac=2.0)
    with pytest.raises(ParameterError, match="'debt_to_cover_usd'"):
        liquidation_amounts(1.0, 1.0, 1.0, 0.05, 0.5, debt_to_cover_usd=-1.0)


def test_aave_percentage_and_wad_maths_round_half_up() -> None:
    assert aave_percent_mul(1, 5_000) == 1  # 0.5 rounds up
    assert aave_percent_mul(1, 4_999) == 0
    assert aave_percent_div(1, 20_000) == 1  # 0.5 rounds up
    assert aave_wad_div(2, 3) == 666_666_666_666_666_667
    with pytest.raises(ParameterError, match="'b'"):
        aave_wad_div(1, 0)
    with pytest.raises(ParameterError, match="'percentage_bps'"):
        aave_percent_div(1, 0)


def test_aave_value_in_base_floors_or_ceils() -> None:
    assert aave_value_in_base(1, 1, 1) == 0
    assert aave_value_in_base(1, 1, 1, round_up=True) == 1
    with pytest.raises(ParameterError, match="'amount'"):
        aave_value_in_base(-1, 1, 1)


def test_aave_health_factor_averages_thresholds_over_collateral() -> None:
    hf = aave_health_factor_wad([1_000 * 10**8, 1_000 * 10**8], [8_000, 7_000], 1_500 * 10**8)
    assert hf == WAD
    assert aave_health_factor_wad(10**8, 8_000, 0) == 2**256 - 1
    with pytest.raises(ParameterError, match="'liquidation_threshold_bps'"):
        aave_health_factor_wad([1, 2], [8_000], 1)
    with pytest.raises(ParameterError, match="'liquidation_threshold_bps'"):
        aave_health_factor_wad(1, 10_001, 1)


def test_aave_close_factor_rules_v30_and_v33() -> None:
    assert aave_close_factor_bps(95 * 10**16 + 1) == 5_000
    assert aave_max_liquidatable_debt(1_001, 96 * 10**16) == 501  # percentMul rounds half up
    big, small = 2_000 * 10**8, 1_999 * 10**8
    assert aave_close_factor_bps_v33(96 * 10**16, big, big) == 5_000
    assert aave_close_factor_bps_v33(96 * 10**16, small, big) == 10_000
    assert aave_close_factor_bps_v33(95 * 10**16, big, big) == 10_000
    # 50% of total debt 6000e8 = 3000e8 < this reserve's 4000e8 debt -> 3000 USDC (6 dp)
    assert aave_max_liquidatable_debt_v33(4_000 * 10**6, 4_000 * 10**8, big, 6_000 * 10**8,
                                          96 * 10**16, 10**8, 6) == 3_000 * 10**6
    # the reserve is only a third of the debt: whole reserve
    assert aave_max_liquidatable_debt_v33(2_000 * 10**6, 2_000 * 10**8, big, 6_000 * 10**8,
                                          96 * 10**16, 10**8, 6) == 2_000 * 10**6


def test_aave_liquidation_with_too_little_collateral_seizes_it_all() -> None:
    # 1 ETH at $2000 against $3000 debt, 5% bonus: repay 2000/1.05 USDC
    liq = aave_liquidation(3_000 * 10**6, 10**18, 2_000 * 10**8, 18, 10**8, 6, 10_500, 1_000)
    assert liq.collateral_seized_total == 10**18
    assert liq.debt_repaid == aave_percent_div(2_000 * 10**6, 10_500)
    assert liq.collateral_to_liquidator + liq.protocol_fee_collateral == 10**18
    with pytest.raises(ParameterError, match="'bonus_bps'"):
        aave_liquidation(1, 1, 1, 18, 1, 6, 9_000, 0)


@settings(max_examples=150, deadline=None)
@given(st.integers(10**6, 10**12), st.integers(10**15, 10**22), st.integers(10**8, 10**12),
       st.integers(10_000, 11_500), st.integers(0, 5_000))
def test_aave_exact_liquidation_agrees_with_the_float_model(
    debt: int, coll: int, price: int, bonus_bps: int, fee_bps: int,
) -> None:
    exact = aave_liquidation(debt, coll, price, 18, 10**8, 6, bonus_bps, fee_bps)
    flt = liquidation_amounts(debt / 1e6, coll / 1e18, price / 1e8, bonus_bps / 1e4 - 1, 1.0,
                              fee_bps / 1e4)
    assert exact.collateral_seized_total == exact.collateral_to_liquidator + \
        exact.protocol_fee_collateral
    assert float(flt.collateral_seized_units) == pytest.approx(
        exact.collateral_seized_total / 1e18, rel=1e-6, abs=1e-15)
    assert float(flt.debt_repaid_usd) == pytest.approx(exact.debt_repaid / 1e6, rel=1e-6,
                                                        abs=1e-5)


def test_compound_seize_tokens_truncates_at_each_step() -> None:
    assert compound_seize_tokens(10**18, WAD, WAD, WAD, WAD) == 10**18
    assert compound_seize_tokens(3, WAD, 3 * WAD, WAD, WAD) == 0
    with pytest.raises(ParameterError, match="'exchange_rate_mantissa'"):
        compound_seize_tokens(1, WAD, 1, 1, WAD)
    with pytest.raises(ParameterError, match="'price_collateral_mantissa'"):
        compound_seize_tokens(1, WAD, 0, WAD, WAD)


COMPOUND = {
    "borrow_balance": 101 * WAD, "borrower_ctokens": 50 * 10**9,
    "price_borrowed_mantissa": WAD, "price_collateral_mantissa": WAD,
    "exchange_rate_mantissa": 4 * 10**27, "liquidation_incentive_mantissa": 11 * 10**17,
    "close_factor_mantissa": 10**17,
}


def test_compound_liquidation_splits_seizure_between_liquidator_and_reserves() -> None:
    r = compound_liquidation(2 * WAD, **COMPOUND)
    assert (r.seize_tokens, r.liquidator_tokens, r.protocol_tokens) == (
        550_000_000, 534_600_000, 15_400_000)
    assert r.borrow_balance_after == 99 * WAD
    assert compound_account_liquidity(r.borrower_tokens_after, 4 * 10**27, WAD // 2, WAD,
                                      r.borrow_balance_after, WAD) == -(10**17)


def test_compound_liquidation_rejects_repay_above_close_factor() -> None:
    with pytest.raises(ParameterError, match=r"'repay_amount'.*TOO_MUCH_REPAY"):
        compound_liquidation(20 * WAD, **COMPOUND)
    compound_liquidation(101 * WAD // 10, **COMPOUND)  # exactly maxClose is allowed


def test_compound_liquidation_rejects_seizing_more_than_the_borrower_has() -> None:
    small = {**COMPOUND, "borrower_ctokens": 1_000}
    with pytest.raises(ParameterError, match=r"'borrower_ctokens'.*SEIZE_TOO_MUCH"):
        compound_liquidation(2 * WAD, **small)
