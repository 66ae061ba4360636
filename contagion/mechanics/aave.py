"""Aave V3 liquidation arithmetic, exact: the protocol's integer maths ported to Python.

Half-up ``PercentageMath``/``WadRayMath``, the health factor, the close factor of v3.0-3.2
and of v3.3+, and the collateral seized by a liquidation, all in Python integers so that
they agree with the contracts to the last wei. They pin the float model of
:mod:`contagion.mechanics.lending` to the protocol's own numbers.

Units: prices are in the oracle's base currency with 8 decimals, percentages in basis
points (``8250`` is 82.5%), the health factor in wad (``1e18`` is 1.0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contagion.errors import ParameterError
from contagion.validation import check_int

__all__ = [
    "AaveLiquidation",
    "aave_close_factor_bps",
    "aave_close_factor_bps_v33",
    "aave_health_factor_wad",
    "aave_liquidation",
    "aave_max_liquidatable_debt",
    "aave_max_liquidatable_debt_v33",
    "aave_percent_div",
    "aave_percent_mul",
    "aave_value_in_base",
    "aave_wad_div",
]

WAD = 10**18
PERCENTAGE_FACTOR = 10_000
CLOSE_FACTOR_HF_THRESHOLD_WAD = 95 * 10**16
MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 2000 * 10**8


def _nonneg(name: str, value: int) -> int:
    return check_int(name, value, low=0)


def aave_percent_mul(value: int, percentage_bps: int) -> int:
    """``PercentageMath.percentMul``: ``(value * bps + 5000) // 10000`` (half-up).

    References
    ----------
    aave/aave-v3-core @782f519 ``contracts/protocol/libraries/math/PercentageMath.sol``.

    Examples
    --------
    >>> aave_percent_mul(2_000_000_000_000, 8250)
    1650000000000
    """
    return (_nonneg("value", value) * _nonneg("percentage_bps", percentage_bps)
            + PERCENTAGE_FACTOR // 2) // PERCENTAGE_FACTOR


def aave_percent_div(value: int, percentage_bps: int) -> int:
    """``PercentageMath.percentDiv``: ``(value * 10000 + bps // 2) // bps`` (half-up).

    References
    ----------
    aave/aave-v3-core @782f519 ``contracts/protocol/libraries/math/PercentageMath.sol``.

    Examples
    --------
    >>> aave_percent_div(9_975, 10_500)
    9500
    """
    check_int("percentage_bps", percentage_bps, low=1)
    return (_nonneg("value", value) * PERCENTAGE_FACTOR + percentage_bps // 2) // percentage_bps


def aave_wad_div(a: int, b: int) -> int:
    """``WadRayMath.wadDiv``: ``(a * 1e18 + b // 2) // b`` (half-up).

    References
    ----------
    aave/aave-v3-core @782f519 ``contracts/protocol/libraries/math/WadRayMath.sol``.

    Examples
    --------
    >>> aave_wad_div(4, 3)
    1333333333333333333
    """
    check_int("b", b, low=1)
    return (_nonneg("a", a) * WAD + b // 2) // b


def aave_value_in_base(amount: int, price: int, decimals: int, round_up: bool = False) -> int:
    """Value of a token amount in the oracle base currency: ``amount * price // 10**decimals``.

    ``round_up=True`` gives the ceiling that later versions (v3.4+) use for debt.

    References
    ----------
    aave/aave-v3-core @782f519 ``GenericLogic._getUserBalanceInBaseCurrency`` and
    ``_getUserDebtInBaseCurrency``; aave-dao/aave-v3-origin ``MathUtils.mulDivCeil``.

    Examples
    --------
    >>> aave_value_in_base(10 * 10**18, 2000 * 10**8, 18)
    2000000000000
    """
    num = _nonneg("amount", amount) * _nonneg("price", price)
    unit = 10 ** _nonneg("decimals", decimals)
    return -(-num // unit) if round_up else num // unit


def aave_health_factor_wad(
    collateral_base: int | Sequence[int], liquidation_threshold_bps: int | Sequence[int],
    debt_base: int,
) -> int:
    """Exact health factor in wad; ``2**256 - 1`` when there is no debt.

    Notes
    -----
    ``avgLT = sum(c_i * LT_i) // sum(c_i)``;
    ``HF = wadDiv(percentMul(sum(c_i), avgLT), debt)``.

    References
    ----------
    aave/aave-v3-core @782f519 ``GenericLogic.calculateUserAccountData``.

    Examples
    --------
    >>> aave_health_factor_wad(2_000_000_000_000, 8250, 1_900_000_000_000)
    868421052631578947
    """
    colls = [collateral_base] if isinstance(collateral_base, int) else list(collateral_base)
    lts = ([liquidation_threshold_bps] if isinstance(liquidation_threshold_bps, int)
           else list(liquidation_threshold_bps))
    if len(colls) != len(lts):
        raise ParameterError("liquidation_threshold_bps", lts,
                             f"one threshold per collateral ({len(colls)})")
    for c, lt in zip(colls, lts, strict=True):
        _nonneg("collateral_base", c)
        check_int("liquidation_threshold_bps", lt, low=0, high=PERCENTAGE_FACTOR)
    if _nonneg("debt_base", debt_base) == 0:
        return 2**256 - 1
    total = sum(colls)
    avg_lt = sum(c * lt for c, lt in zip(colls, lts, strict=True)) // total if total else 0
    return aave_wad_div(aave_percent_mul(total, avg_lt), debt_base)


def aave_close_factor_bps(health_factor_wad: int) -> int:
    """Close factor in bps, v3.0-3.2: ``5000`` if ``HF > 0.95e18`` else ``10000``.

    References
    ----------
    aave/aave-v3-core @782f519 ``LiquidationLogic._calculateDebt``.

    Examples
    --------
    >>> aave_close_factor_bps(951923076923076923), aave_close_factor_bps(95 * 10**16)
    (5000, 10000)
    """
    return 5000 if _nonneg("health_factor_wad", health_factor_wad) > \
        CLOSE_FACTOR_HF_THRESHOLD_WAD else PERCENTAGE_FACTOR


def aave_max_liquidatable_debt(reserve_debt: int, health_factor_wad: int) -> int:
    """Most debt (token units) one v3.0-3.2 liquidation may repay: ``percentMul(debt, cf)``.

    References
    ----------
    aave/aave-v3-core @782f519 ``LiquidationLogic._calculateDebt``.

    Examples
    --------
    >>> aave_max_liquidatable_debt(1_300_000_000, 951923076923076923)
    650000000
    """
    return aave_percent_mul(reserve_debt, aave_close_factor_bps(health_factor_wad))


def aave_close_factor_bps_v33(
    health_factor_wad: int, reserve_collateral_base: int, reserve_debt_base: int,
    threshold_base: int = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD,
) -> int:
    """Close factor in bps, v3.3+: ``5000`` only if both reserves are ``>= threshold`` and
    ``HF > 0.95e18``, else ``10000`` (the 50% then applies to the account's total debt).

    References
    ----------
    aave-dao/aave-v3-origin ``LiquidationLogic.executeLiquidationCall``.

    Examples
    --------
    >>> aave_close_factor_bps_v33(951923076923076923, 150_000_000_000, 130_000_000_000)
    10000
    """
    big = (_nonneg("reserve_collateral_base", reserve_collateral_base)
           >= _nonneg("threshold_base", threshold_base)
           and _nonneg("reserve_debt_base", reserve_debt_base) >= threshold_base)
    capped = big and _nonneg("health_factor_wad", health_factor_wad) > \
        CLOSE_FACTOR_HF_THRESHOLD_WAD
    return 5000 if capped else PERCENTAGE_FACTOR


def aave_max_liquidatable_debt_v33(
    reserve_debt: int, reserve_debt_base: int, reserve_collateral_base: int,
    total_debt_base: int, health_factor_wad: int, debt_price: int, debt_decimals: int,
    threshold_base: int = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD,
) -> int:
    """Most debt (token units) one v3.3+ liquidation may repay.

    Notes
    -----
    ``reserve_debt``, unless the close factor applies (:func:`aave_close_factor_bps_v33`)
    and ``reserve_debt_base > percentMul(total_debt_base, 5000)``; then
    ``percentMul(total_debt_base, 5000) * 10**decimals // debt_price``.

    References
    ----------
    aave-dao/aave-v3-origin ``LiquidationLogic.executeLiquidationCall`` (v3.3).

    Examples
    --------
    >>> aave_max_liquidatable_debt_v33(10**10, 10**12, 10**12, 10**12, 96 * 10**16, 10**8, 6)
    5000000000
    """
    if aave_close_factor_bps_v33(health_factor_wad, reserve_collateral_base, reserve_debt_base,
                                 threshold_base) == PERCENTAGE_FACTOR:
        return _nonneg("reserve_debt", reserve_debt)
    half_total = aave_percent_mul(total_debt_base, 5000)
    if reserve_debt_base > half_total:
        check_int("debt_price", debt_price, low=1)
        return half_total * 10 ** _nonneg("debt_decimals", debt_decimals) // debt_price
    return _nonneg("reserve_debt", reserve_debt)


@dataclass(frozen=True)
class AaveLiquidation:
    """Exact outcome of an Aave V3 liquidation, in token units."""

    debt_repaid: int
    collateral_seized_total: int
    collateral_to_liquidator: int
    protocol_fee_collateral: int


def aave_liquidation(
    debt_to_cover: int, collateral_balance: int, collateral_price: int,
    collateral_decimals: int, debt_price: int, debt_decimals: int, bonus_bps: int,
    protocol_fee_bps: int,
) -> AaveLiquidation:
    """Collateral seized for repaying ``debt_to_cover`` (already capped by the close factor).

    Notes
    -----
    ``base = debt_price * cover * 10**cd // (coll_price * 10**dd)``;
    ``max = percentMul(base, bonus)``; if ``max > balance``: seize the balance and repay
    ``percentDiv(coll_price * balance * 10**dd // (debt_price * 10**cd), bonus)``.
    ``fee = percentMul(seized - percentDiv(seized, bonus), protocol_fee)``, taken out of the
    seized collateral.

    References
    ----------
    aave/aave-v3-core @782f519 ``LiquidationLogic._calculateAvailableCollateralToLiquidate``.

    Examples
    --------
    >>> aave_liquidation(19_000 * 10**6, 10 * 10**18, 2000 * 10**8, 18, 10**8, 6, 10500, 1000)
    AaveLiquidation(debt_repaid=19000000000, collateral_seized_total=9975000000000000000, \
collateral_to_liquidator=9927500000000000000, protocol_fee_collateral=47500000000000000)
    """
    cover = _nonneg("debt_to_cover", debt_to_cover)
    balance = _nonneg("collateral_balance", collateral_balance)
    c_price = check_int("collateral_price", collateral_price, low=1)
    d_price = check_int("debt_price", debt_price, low=1)
    c_unit = 10 ** _nonneg("collateral_decimals", collateral_decimals)
    d_unit = 10 ** _nonneg("debt_decimals", debt_decimals)
    bonus = check_int("bonus_bps", bonus_bps, low=PERCENTAGE_FACTOR)
    fee_bps = check_int("protocol_fee_bps", protocol_fee_bps, low=0, high=PERCENTAGE_FACTOR)
    base_collateral = d_price * cover * c_unit // (c_price * d_unit)
    max_collateral = aave_percent_mul(base_collateral, bonus)
    if max_collateral > balance:
        seized = balance
        repaid = aave_percent_div(c_price * seized * d_unit // (d_price * c_unit), bonus)
    else:
        seized, repaid = max_collateral, cover
    fee = aave_percent_mul(seized - aave_percent_div(seized, bonus), fee_bps) if fee_bps else 0
    return AaveLiquidation(repaid, seized, seized - fee, fee)

