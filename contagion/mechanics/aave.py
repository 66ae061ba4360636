"""Aave V3 lending arithmetic, exact: the protocol's integer maths ported to Python.

Half-up ``PercentageMath``/``WadRayMath``, the health factor, the close factor of v3.0-3.2
and of v3.3+, the collateral seized by a liquidation, and interest: the kinked rate curve
(``DefaultReserveInterestRateStrategyV2.calculateInterestRates``), ``MathUtils``' linear and
compounded interest and ``ReserveLogic._updateIndexes``, all in Python integers so that
they agree with the contracts to the last wei. They pin the float model of
:mod:`contagion.mechanics.lending` to the protocol's own numbers.

Units: prices are in the oracle's base currency with 8 decimals, percentages in basis
points (``8250`` is 82.5%), the health factor in wad (``1e18`` is 1.0), rates and indices
in ray (``1e27`` is 1.0; a rate is per year), time in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contagion.errors import ParameterError
from contagion.validation import check_int

__all__ = [
    "MIN_LEFTOVER_BASE",
    "AaveLiquidation",
    "AaveRevert",
    "aave_close_factor_bps",
    "aave_close_factor_bps_v33",
    "aave_compounded_interest",
    "aave_health_factor_wad",
    "aave_interest_rates",
    "aave_leaves_dust",
    "aave_linear_interest",
    "aave_liquidation",
    "aave_liquidation_call_v33",
    "aave_liquidation_info_v33",
    "aave_max_liquidatable_debt",
    "aave_max_liquidatable_debt_v33",
    "aave_percent_div",
    "aave_percent_mul",
    "aave_ray_div",
    "aave_ray_mul",
    "aave_update_indexes",
    "aave_value_in_base",
    "aave_wad_div",
]

WAD = 10**18
PERCENTAGE_FACTOR = 10_000
CLOSE_FACTOR_HF_THRESHOLD_WAD = 95 * 10**16
MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 2000 * 10**8
#: ``LiquidationLogic.MIN_LEFTOVER_BASE`` (v3.3+): half the close-factor threshold, $1,000.
MIN_LEFTOVER_BASE = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD // 2
RAY = 10**27
SECONDS_PER_YEAR = 365 * 24 * 3600  # MathUtils.SECONDS_PER_YEAR: 365 days, no leap years


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



class AaveRevert(ValueError):
    """A call the protocol would revert, with its ``Errors`` code and name
    (``"103"``, ``"MUST_NOT_LEAVE_DUST"``)."""

    def __init__(self, code: str, name: str) -> None:
        super().__init__(f"{name} ({code})")
        self.code, self.name = code, name


def aave_leaves_dust(
    debt_left: int, debt_price: int, debt_decimals: int, collateral_left: int,
    collateral_price: int, collateral_decimals: int, min_leftover_base: int = MIN_LEFTOVER_BASE,
) -> bool:
    """Whether a liquidation that leaves ``debt_left`` and ``collateral_left`` (token units)
    breaks v3.3's leftover rule: both are non-zero and either is worth less than
    ``min_leftover_base`` (base currency, floor rounding as v3.3.0 values them).

    References
    ----------
    aave-dao/aave-v3-origin v3.3.0 (5431379f) ``LiquidationLogic.executeLiquidationCall``
    ("to prevent accumulation of dust ... leave more than MIN_LEFTOVER_BASE of collateral &
    debt") and ``docs/3.3/Aave-v3.3-features.md`` section 2.3.

    Examples
    --------
    >>> aave_leaves_dust(400 * 10**8, 10**8, 8, 0, 10**8, 8)     # all collateral taken
    False
    >>> aave_leaves_dust(400 * 10**8, 10**8, 8, 600 * 10**8, 10**8, 8)
    True
    """
    if _nonneg("debt_left", debt_left) == 0 or _nonneg("collateral_left", collateral_left) == 0:
        return False
    debt_base = aave_value_in_base(debt_left, debt_price, debt_decimals)
    coll_base = aave_value_in_base(collateral_left, collateral_price, collateral_decimals)
    floor = _nonneg("min_leftover_base", min_leftover_base)
    return debt_base < floor or coll_base < floor


def _max_debt_v33(reserve_debt: int, collateral_balance: int, collateral_price: int,
                  collateral_decimals: int, debt_price: int, debt_decimals: int,
                  health_factor_wad: int, total_debt_base: int, threshold_base: int) -> int:
    return aave_max_liquidatable_debt_v33(
        reserve_debt, aave_value_in_base(reserve_debt, debt_price, debt_decimals),
        aave_value_in_base(collateral_balance, collateral_price, collateral_decimals),
        total_debt_base, health_factor_wad, debt_price, debt_decimals, threshold_base)


def aave_liquidation_call_v33(
    debt_to_cover: int, reserve_debt: int, collateral_balance: int, collateral_price: int,
    collateral_decimals: int, debt_price: int, debt_decimals: int, bonus_bps: int,
    protocol_fee_bps: int, health_factor_wad: int, total_debt_base: int,
    threshold_base: int = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD,
) -> AaveLiquidation:
    """``Pool.liquidationCall`` of v3.3: the close factor by position size
    (:func:`aave_max_liquidatable_debt_v33`), the collateral seized
    (:func:`aave_liquidation`), then the leftover rule: unless the call repays the whole
    reserve debt or takes all the collateral, both must stay worth at least
    ``threshold_base / 2`` (:data:`MIN_LEFTOVER_BASE`), else it reverts.

    Raises
    ------
    AaveRevert
        ``MUST_NOT_LEAVE_DUST`` (``"103"``), as the contract does.

    References
    ----------
    aave-dao/aave-v3-origin v3.3.0 (5431379f)
    ``src/contracts/protocol/libraries/logic/LiquidationLogic.sol``
    (``executeLiquidationCall``, ``_calculateAvailableCollateralToLiquidate``).

    Examples
    --------
    Section 2.3's position (threshold 1,000e8): repaying 450e8 of debt A ($900) leaves
    $450 of it, under the $500 floor:

    >>> aave_liquidation_call_v33(450 * 10**8, 900 * 10**8, 1000 * 10**8, 10**8, 8, 10**8, 8,
    ...                           10_000, 0, 94 * 10**16, 1300 * 10**8, 1000 * 10**8)
    Traceback (most recent call last):
    ...
    contagion.mechanics.aave.AaveRevert: MUST_NOT_LEAVE_DUST (103)
    """
    cover = min(_nonneg("debt_to_cover", debt_to_cover),
                _max_debt_v33(reserve_debt, collateral_balance, collateral_price,
                              collateral_decimals, debt_price, debt_decimals, health_factor_wad,
                              total_debt_base, threshold_base))
    out = aave_liquidation(cover, collateral_balance, collateral_price, collateral_decimals,
                           debt_price, debt_decimals, bonus_bps, protocol_fee_bps)
    if out.debt_repaid < reserve_debt and out.collateral_seized_total < collateral_balance \
            and aave_leaves_dust(reserve_debt - out.debt_repaid, debt_price, debt_decimals,
                                 collateral_balance - out.collateral_seized_total,
                                 collateral_price, collateral_decimals, threshold_base // 2):
        raise AaveRevert("103", "MUST_NOT_LEAVE_DUST")
    return out


def _checked_sub(a: int, b: int) -> int:
    """Solidity 0.8's checked ``a - b``: an underflow reverts (panic 0x11)."""
    if b > a:
        raise AaveRevert("0x11", "ARITHMETIC_UNDERFLOW")
    return a - b


def aave_liquidation_info_v33(
    reserve_debt: int, collateral_balance: int, collateral_price: int,
    collateral_decimals: int, debt_price: int, debt_decimals: int, bonus_bps: int,
    protocol_fee_bps: int, health_factor_wad: int, total_debt_base: int,
    debt_to_cover: int | None = None,
    threshold_base: int = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD,
) -> AaveLiquidation:
    """What a liquidator may pass to a v3.3 ``liquidationCall`` without reverting: the
    largest liquidation (up to ``debt_to_cover``, default all the close factor allows),
    shrunk, if it would leave dust, until the smaller of the two leftovers is back at the
    floor (``LiquidationDataProvider.getLiquidationInfo``).

    References
    ----------
    aave-dao/aave-v3-origin v3.3.0 (5431379f) ``src/contracts/helpers/LiquidationDataProvider.sol``
    (``_getMaxDebtToLiquidate``, ``_getAvailableCollateralAndDebtToLiquidate``,
    ``_adjustAmountsForGoodLeftovers``); its tests
    (``tests/protocol/pool/Pool.Liquidations.CloseFactor.t.sol``,
    ``test_liquidationdataprovider_edge_range``) pass its amounts to ``liquidationCall``.

    Examples
    --------
    >>> aave_liquidation_info_v33(900 * 10**8, 1000 * 10**8, 10**8, 8, 10**8, 8, 10_000, 0,
    ...                           94 * 10**16, 1300 * 10**8, 450 * 10**8, 1000 * 10**8)
    AaveLiquidation(debt_repaid=40000000000, collateral_seized_total=40000000000, \
collateral_to_liquidator=40000000000, protocol_fee_collateral=0)
    """
    cap = _max_debt_v33(reserve_debt, collateral_balance, collateral_price, collateral_decimals,
                        debt_price, debt_decimals, health_factor_wad, total_debt_base,
                        threshold_base)
    if debt_to_cover is not None:
        cap = min(cap, _nonneg("debt_to_cover", debt_to_cover))
    out = aave_liquidation(cap, collateral_balance, collateral_price, collateral_decimals,
                           debt_price, debt_decimals, bonus_bps, protocol_fee_bps)
    seized, repaid = out.collateral_seized_total, out.debt_repaid
    if not (seized < collateral_balance and repaid < reserve_debt):
        return out
    floor = threshold_base // 2
    c_price, d_price = collateral_price, debt_price
    c_unit, d_unit = 10 ** collateral_decimals, 10 ** debt_decimals
    coll_left = (collateral_balance - seized) * c_price // c_unit
    debt_left = (reserve_debt - repaid) * d_price // d_unit
    if coll_left >= floor and debt_left >= floor:
        return out
    coll_short = floor - coll_left if coll_left < floor else 0
    debt_short = floor - debt_left if debt_left < floor else 0
    to_liquidator = out.collateral_to_liquidator
    if coll_short > debt_short:
        to_liquidator = _checked_sub(to_liquidator, coll_short * c_unit // c_price)
        repaid = aave_percent_div(c_price * to_liquidator * d_unit // (d_price * c_unit),
                                  bonus_bps)
    else:
        repaid = _checked_sub(repaid, debt_short * d_unit // d_price)
        to_liquidator = aave_percent_mul(d_price * repaid * c_unit // (c_price * d_unit),
                                         bonus_bps)
    fee = 0
    if protocol_fee_bps:
        fee = aave_percent_mul(to_liquidator - aave_percent_div(to_liquidator, bonus_bps),
                               protocol_fee_bps)
    return AaveLiquidation(repaid, to_liquidator, to_liquidator - fee, fee)


# ---------------------------------------------------------------------------- interest

def aave_ray_mul(a: int, b: int) -> int:
    """``WadRayMath.rayMul``: ``(a * b + 0.5e27) // 1e27`` (half-up).

    References
    ----------
    aave-dao/aave-v3-origin @fd1fbd9 ``src/contracts/protocol/libraries/math/WadRayMath.sol``.

    Examples
    --------
    >>> aave_ray_mul(3 * 10**27, 5 * 10**26)
    1500000000000000000000000000
    """
    return (_nonneg("a", a) * _nonneg("b", b) + RAY // 2) // RAY


def aave_ray_div(a: int, b: int) -> int:
    """``WadRayMath.rayDiv``: ``(a * 1e27 + b // 2) // b`` (half-up).

    References
    ----------
    aave-dao/aave-v3-origin @fd1fbd9 ``src/contracts/protocol/libraries/math/WadRayMath.sol``.

    Examples
    --------
    >>> aave_ray_div(8 * 10**17, 10**18)
    800000000000000000000000000
    """
    check_int("b", b, low=1)
    return (_nonneg("a", a) * RAY + b // 2) // b


def aave_linear_interest(rate_ray: int, seconds: int) -> int:
    """``MathUtils.calculateLinearInterest``: ``1e27 + rate * seconds // SECONDS_PER_YEAR``.

    The factor by which a supplier's balance (the liquidity index) grows over ``seconds``
    at the yearly ``rate_ray``.

    References
    ----------
    aave-dao/aave-v3-origin @fd1fbd9 ``src/contracts/protocol/libraries/math/MathUtils.sol``
    (same in aave/aave-v3-core @782f519); test vector ``tests/protocol/libraries/math/
    MathUtils.t.sol::test_calculateLinearInterest``.

    Examples
    --------
    >>> aave_linear_interest(8 * 10**25, 7 * SECONDS_PER_YEAR) == 156 * 10**25
    True
    """
    return RAY + _nonneg("rate_ray", rate_ray) * _nonneg("seconds", seconds) // SECONDS_PER_YEAR


def aave_compounded_interest(rate_ray: int, seconds: int, version: str = "v3.4") -> int:
    """``MathUtils.calculateCompoundedInterest``: the borrow index's growth over ``seconds``.

    A three-term approximation of ``(1 + rate / year)^seconds`` (it slightly undercharges
    borrowers). ``version="v3.4"`` (aave-v3-origin, Aave V3.4+):
    ``x = rate * seconds // SECONDS_PER_YEAR``, ``1e27 + x + rayMul(x, x // 2 + rayMul(x,
    x // 6))``. ``version="v3.0"`` (aave-v3-core): the binomial terms per second,
    ``1e27 + rate*n//Y + n(n-1) b2 // 2 + n(n-1)(n-2) b3 // 6`` with
    ``b2 = rayMul(rate, rate) // Y**2`` and ``b3 = rayMul(b2, rate) // Y``.

    References
    ----------
    aave-dao/aave-v3-origin @fd1fbd9 ``src/contracts/protocol/libraries/math/MathUtils.sol``
    and its ``tests/protocol/libraries/math/MathUtils.t.sol``; aave/aave-v3-core @782f519
    ``contracts/protocol/libraries/math/MathUtils.sol``.

    Examples
    --------
    >>> aave_compounded_interest(1000 * RAY, 10_000 * SECONDS_PER_YEAR)
    166666716666676666667666666666666600000000000000
    """
    rate = _nonneg("rate_ray", rate_ray)
    n = _nonneg("seconds", seconds)
    if n == 0:
        return RAY
    if version == "v3.4":
        x = rate * n // SECONDS_PER_YEAR
        return RAY + x + aave_ray_mul(x, x // 2 + aave_ray_mul(x, x // 6))
    if version != "v3.0":
        raise ParameterError("version", version, "'v3.4' or 'v3.0'")
    base2 = aave_ray_mul(rate, rate) // (SECONDS_PER_YEAR * SECONDS_PER_YEAR)
    base3 = aave_ray_mul(base2, rate) // SECONDS_PER_YEAR
    second = n * (n - 1) * base2 // 2
    third = n * (n - 1) * max(n - 2, 0) * base3 // 6
    return RAY + rate * n // SECONDS_PER_YEAR + second + third


def aave_interest_rates(
    total_debt: int, available_liquidity: int, optimal_usage_ratio_ray: int,
    base_rate_ray: int, slope1_ray: int, slope2_ray: int, reserve_factor_bps: int,
    unbacked: int = 0,
) -> tuple[int, int]:
    """``DefaultReserveInterestRateStrategyV2.calculateInterestRates``: (liquidity rate,
    variable borrow rate), both yearly, in ray.

    Notes
    -----
    ``U = rayDiv(debt, liquidity + debt)`` (the borrow usage ratio); the borrow rate is
    ``base + rayDiv(rayMul(slope1, U), optimal)`` up to the optimal ratio, and
    ``base + slope1 + rayMul(slope2, rayDiv(U - optimal, 1e27 - optimal))`` above it. The
    liquidity (supply) rate is ``percentMul(rayMul(borrow rate, Us), 10000 - reserve
    factor)`` with ``Us = rayDiv(debt, liquidity + debt + unbacked)``; ``(0, base)`` when
    nothing is borrowed.

    References
    ----------
    aave-dao/aave-v3-origin @fd1fbd9 ``src/contracts/misc/DefaultReserveInterestRateStrategyV2.sol``;
    tests ``tests/misc/rates/RateStrategy.calculateRates.t.sol``.

    Examples
    --------
    >>> bps = 10**23  # one basis point in ray
    >>> aave_interest_rates(8 * 10**17, 2 * 10**17, 8000 * bps, 100 * bps, 400 * bps,
    ...                     6000 * bps, 1000) == (36 * 10**24, 5 * 10**25)
    True
    """
    debt = _nonneg("total_debt", total_debt)
    liquidity = _nonneg("available_liquidity", available_liquidity)
    optimal = check_int("optimal_usage_ratio_ray", optimal_usage_ratio_ray, low=1, high=RAY - 1)
    base = _nonneg("base_rate_ray", base_rate_ray)
    slope1, slope2 = _nonneg("slope1_ray", slope1_ray), _nonneg("slope2_ray", slope2_ray)
    rf = check_int("reserve_factor_bps", reserve_factor_bps, low=0, high=PERCENTAGE_FACTOR)
    if debt == 0:
        return 0, base
    usage = aave_ray_div(debt, liquidity + debt)
    supply_usage = aave_ray_div(debt, liquidity + debt + _nonneg("unbacked", unbacked))
    if usage > optimal:
        borrow = base + slope1 + aave_ray_mul(slope2, aave_ray_div(usage - optimal, RAY - optimal))
    else:
        borrow = base + aave_ray_div(aave_ray_mul(slope1, usage), optimal)
    return aave_percent_mul(aave_ray_mul(borrow, supply_usage), PERCENTAGE_FACTOR - rf), borrow


def aave_update_indexes(
    liquidity_index: int, borrow_index: int, liquidity_rate_ray: int, borrow_rate_ray: int,
    seconds: int, scaled_variable_debt: int = 1, version: str = "v3.4",
) -> tuple[int, int]:
    """``ReserveLogic._updateIndexes``: the reserve's (liquidity index, variable borrow index)
    after ``seconds`` at the rates in force.

    Notes
    -----
    ``liquidity index = rayMul(linearInterest(liquidity rate), index)`` unless the liquidity
    rate is 0; ``borrow index = rayMul(compoundedInterest(borrow rate), index)`` unless there
    is no variable debt (``scaled_variable_debt == 0``).

    References
    ----------
    aave-dao/aave-v3-origin @fd1fbd9 ``src/contracts/protocol/libraries/logic/ReserveLogic.sol``.

    Examples
    --------
    >>> li, bi = aave_update_indexes(RAY, RAY, 36 * 10**24, 5 * 10**25, SECONDS_PER_YEAR)
    >>> li == 1036 * 10**24, bi
    (True, 1051270833333333333333333333)
    """
    li = _nonneg("liquidity_index", liquidity_index)
    bi = _nonneg("borrow_index", borrow_index)
    if _nonneg("liquidity_rate_ray", liquidity_rate_ray) != 0:
        li = aave_ray_mul(aave_linear_interest(liquidity_rate_ray, seconds), li)
    if _nonneg("scaled_variable_debt", scaled_variable_debt) != 0:
        bi = aave_ray_mul(aave_compounded_interest(borrow_rate_ray, seconds, version), bi)
    return li, bi
