"""Aave v3.3's leftover rule, exact: a liquidation must repay the whole reserve debt, take all
the collateral, or leave both worth at least ``MIN_LEFTOVER_BASE`` (half the close-factor
threshold); and the amounts ``LiquidationDataProvider`` hands a liquidator never revert.

Sources: aave-dao/aave-v3-origin v3.3.0 (commit 5431379f8beb4d7128c84a81ced3917d856efa84):
``docs/3.3/Aave-v3.3-features.md`` section 2.3 (the example below),
``src/contracts/protocol/libraries/logic/LiquidationLogic.sol`` and
``src/contracts/helpers/LiquidationDataProvider.sol``;
``tests/protocol/pool/Pool.Liquidations.CloseFactor.t.sol``
(``test_liquidationdataprovider_edge_range``: the provider's amounts are accepted by
``liquidationCall`` where ``type(uint256).max`` reverts with ``MUST_NOT_LEAVE_DUST``).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.mechanics.aave import (
    MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD,
    MIN_LEFTOVER_BASE,
    AaveRevert,
    aave_leaves_dust,
    aave_liquidation_call_v33,
    aave_liquidation_info_v33,
)
from contagion.mechanics.lending import leftover_adjusted, liquidation_amounts

E8 = 10**8
# Section 2.3 assumes MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 1_000e8 (deployed: 2_000e8), so
# MIN_LEFTOVER_BASE = 500e8. Its position: collateral A 400e8, B 1000e8; debt A 900e8,
# B 400e8; health factor 0.94 (so the close factor is 100%). Every token here is worth $1
# with 8 decimals (amounts are base values); the doc's statements ignore the bonus, so the
# bonus is 100.00% (10_000 bps: the collateral seized equals the debt repaid).
DOC_THRESHOLD = 1000 * E8
COLL = {"A": 400 * E8, "B": 1000 * E8}
DEBT = {"A": 900 * E8, "B": 400 * E8}
HF_094 = 94 * 10**16
TOTAL_DEBT = sum(DEBT.values())


def _call(debt: str, coll: str, repay: int) -> None:
    aave_liquidation_call_v33(repay, DEBT[debt], COLL[coll], E8, 8, E8, 8, 10_000, 0, HF_094,
                              TOTAL_DEBT, DOC_THRESHOLD)


def _allowed(debt: str, coll: str, repay: int) -> bool:
    try:
        _call(debt, coll, repay)
    except AaveRevert as e:
        assert (e.code, e.name) == ("103", "MUST_NOT_LEAVE_DUST")
        return False
    return True


def test_constants_are_the_deployed_ones() -> None:
    assert MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD == 2000 * E8
    assert MIN_LEFTOVER_BASE == 1000 * E8


def test_doc_example_liquidate_all_of_debt_b() -> None:
    """'liquidate 100% of debt B': against either collateral, and nothing less."""
    assert _allowed("B", "B", 400 * E8)
    assert _allowed("B", "A", 400 * E8)  # also takes all of collateral A
    assert not _allowed("B", "B", 399 * E8)
    assert not _allowed("B", "B", 100 * E8)


def test_doc_example_liquidate_all_of_collateral_a() -> None:
    """'liquidate 100% of collateral A': seizing less of A leaves under $500 of it."""
    assert _allowed("A", "A", 400 * E8)
    assert not _allowed("A", "A", 399 * E8)
    assert not _allowed("A", "A", 1 * E8)


def test_doc_example_debt_a_up_to_400_or_all() -> None:
    """'liquidate up to 400e8 of debt A or liquidate 100% of debt A' (against collateral B)."""
    for repay in (1, 100 * E8, 400 * E8):
        assert _allowed("A", "B", repay), repay
    assert not _allowed("A", "B", 400 * E8 + 1)
    assert not _allowed("A", "B", 450 * E8)
    assert _allowed("A", "B", 900 * E8)


def test_doc_example_collateral_b_up_to_500_or_all() -> None:
    """'liquidate up to 500e8 of collateral B or 100% of collateral B': the collateral side
    of the rule alone (the debt left is large enough: a $2,000 debt reserve)."""
    debt_a = 2000 * E8
    for seize, ok in ((500 * E8, True), (500 * E8 + E8, False), (999 * E8, False)):
        dusty = aave_leaves_dust(debt_a - seize, E8, 8, COLL["B"] - seize, E8, 8,
                                 DOC_THRESHOLD // 2)
        assert dusty is (not ok), seize
    # taking all of B is allowed whatever debt is left
    assert not aave_leaves_dust(debt_a - COLL["B"], E8, 8, 0, E8, 8, DOC_THRESHOLD // 2)


def test_provider_shrinks_to_the_floor() -> None:
    """Asked for 450e8 of debt A, the provider offers 400e8 (the largest amount that keeps
    $500 of debt), which the pool accepts; asked for everything it offers all 900e8."""
    info = aave_liquidation_info_v33(DEBT["A"], COLL["B"], E8, 8, E8, 8, 10_000, 0, HF_094,
                                     TOTAL_DEBT, 450 * E8, DOC_THRESHOLD)
    assert info.debt_repaid == 400 * E8 and info.collateral_seized_total == 400 * E8
    everything = aave_liquidation_info_v33(DEBT["A"], COLL["B"], E8, 8, E8, 8, 10_000, 0,
                                           HF_094, TOTAL_DEBT, None, DOC_THRESHOLD)
    assert everything.debt_repaid == 900 * E8


def test_edge_range_max_reverts_but_the_providers_amount_does_not() -> None:
    """The shape of v3.3.0's ``test_liquidationdataprovider_edge_range``: both reserves above
    the $2,000 threshold at HF 0.98, so the close factor caps the repayment at half the total
    debt; passing ``type(uint256).max`` then leaves dust and reverts, the provider's amount
    goes through. USDC collateral $4,000, USDC debt $4,200 of a $6,200 total: the cap is
    $3,100, which seizes $3,255 at a 5% bonus and would leave $745 of collateral."""
    usdc = 10**6
    debt, coll, total, hf = 4200 * usdc, 4000 * usdc, 6200 * E8, 98 * 10**16
    args = (debt, coll, E8, 6, E8, 6, 10_500, 1000, hf, total)
    with pytest.raises(AaveRevert, match="MUST_NOT_LEAVE_DUST"):
        aave_liquidation_call_v33(2**256 - 1, *args)
    info = aave_liquidation_info_v33(*args)
    out = aave_liquidation_call_v33(info.debt_repaid, *args)
    assert out == info
    left = (coll - out.collateral_seized_total) * E8 // usdc
    # the provider takes the $255 shortfall off the liquidator's share, so the $15.50
    # protocol fee of the first sizing stays with the borrower: $1,015.50 is left
    assert left == MIN_LEFTOVER_BASE + 1550 * 10**6
    assert out.debt_repaid < 3100 * usdc


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    debt_usd=st.integers(1, 20_000), coll_usd=st.integers(1, 40_000),
    other_debt_usd=st.integers(0, 20_000), hf_bp=st.integers(5_000, 9_999),
    bonus=st.integers(10_001, 11_500), fee=st.sampled_from([0, 1000, 2000]),
    coll_price_usd=st.integers(1, 5000), ask_frac=st.floats(0.0, 1.0),
)
def test_providers_amounts_never_revert(debt_usd: int, coll_usd: int, other_debt_usd: int,
                                        hf_bp: int, bonus: int, fee: int, coll_price_usd: int,
                                        ask_frac: float) -> None:
    """The provider's offer is what ``liquidationCall`` does with it, up to rounding: when it
    leaves collateral, the call with its debt amount seizes what it said within a
    hundredth of a cent or, where the call's half-up rounding re-derives a few wei more
    collateral than the provider's, reverts with the leftover a hair under the floor (an
    edge of v3.3.0 itself; v3.7 replaced these roundings, ``docs/3.7/liquidation-rounding.md``).
    When it takes all the collateral, the liquidator's own request is accepted as is. The
    provider underflows (as the contract would) only where shrinking cannot reach the floor:
    a reserve at or under it, liquidated in part."""
    d_unit, c_unit, c_price = 10**6, 10**18, coll_price_usd * E8
    debt = debt_usd * d_unit
    coll = coll_usd * c_unit // coll_price_usd
    total = (debt_usd + other_debt_usd) * E8
    hf = hf_bp * 10**14
    ask = max(int(debt * ask_frac), 1)
    args = (debt, coll, c_price, 18, E8, 6, bonus, fee, hf, total)
    try:
        info = aave_liquidation_info_v33(*args, ask)
    except AaveRevert as e:
        assert e.code == "0x11"
        assert min(coll * c_price // c_unit, debt_usd * E8) <= MIN_LEFTOVER_BASE
        return
    if info.collateral_seized_total >= coll:
        assert aave_liquidation_call_v33(ask, *args) == info
        return
    try:
        out = aave_liquidation_call_v33(info.debt_repaid, *args)
    except AaveRevert as e:
        assert e.name == "MUST_NOT_LEAVE_DUST"
        left = min((coll - info.collateral_seized_total) * c_price // c_unit,
                   (debt - info.debt_repaid) * E8 // d_unit)
        assert MIN_LEFTOVER_BASE - 10**6 <= left, left  # within a cent of the floor
        return
    assert out.debt_repaid == info.debt_repaid
    assert abs(out.collateral_seized_total - info.collateral_seized_total) * c_price \
        <= c_unit * 10**4 + c_price  # a hundredth of a cent, or one wei


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    debt_usd=st.integers(1, 20_000), coll_usd=st.integers(1, 40_000),
    bonus=st.integers(10_001, 11_500), fee=st.sampled_from([0, 1000, 2000]),
    coll_price_usd=st.integers(1, 5000), ask_frac=st.floats(0.01, 1.0),
)
def test_float_twin_matches_the_provider(debt_usd: int, coll_usd: int, bonus: int, fee: int,
                                         coll_price_usd: int, ask_frac: float) -> None:
    """The engine's vectorised :func:`leftover_adjusted` sizes what the integer provider
    sizes (within rounding: a millionth of the amounts or a cent), and refuses exactly the
    liquidations the provider cannot size (HF 0.94: close factor 100%)."""
    d_unit, c_unit, c_price = 10**6, 10**18, coll_price_usd * E8
    debt, coll = debt_usd * d_unit, coll_usd * c_unit // coll_price_usd
    ask = max(int(debt * ask_frac), 1)
    try:
        info = aave_liquidation_info_v33(debt, coll, c_price, 18, E8, 6, bonus, fee, HF_094,
                                         debt_usd * E8, ask)
    except AaveRevert:
        info = None
    b, f = bonus / 10_000 - 1, fee / 10_000
    units = coll / c_unit
    amounts = liquidation_amounts([debt_usd], [units], coll_price_usd, b, 1.0, f, [ask / d_unit])
    out, ok = leftover_adjusted(amounts, [debt_usd], [units], coll_price_usd, b, f, 1000.0)
    if info is None:
        assert not ok[0]
        return
    assert ok[0]
    tol = 1e-6 * debt_usd + 0.01
    assert abs(out.debt_repaid_usd[0] - info.debt_repaid / d_unit) <= tol
    seized_usd = out.collateral_seized_units[0] * coll_price_usd
    assert abs(seized_usd - info.collateral_seized_total / c_unit * coll_price_usd) <= tol * 1.2
