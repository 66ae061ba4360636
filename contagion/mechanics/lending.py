"""Over-collateralised lending: health factor, close factor and liquidation (Aave V3, Compound V2).

The float functions are vectorised over accounts and are what the simulation engine calls.
The ``aave_*`` and ``compound_*`` functions are exact integer versions of the on-chain
arithmetic (Aave's half-up ``PercentageMath``/``WadRayMath``, Compound's truncating ``Exp``
maths); they exist to pin the float model to the protocols' own numbers.

Units: Aave prices are in the oracle's base currency with 8 decimals, percentages in basis
points (``8250`` is 82.5%), the health factor in wad (``1e18`` is 1.0); Compound mantissas
are scaled by ``1e18``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from contagion.errors import ParameterError
from contagion.validation import check_int

__all__ = [
    "AaveLiquidation",
    "CompoundLiquidation",
    "LiquidationAmounts",
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
    "close_factor",
    "close_factor_v33",
    "compound_account_liquidity",
    "compound_liquidation",
    "compound_seize_tokens",
    "health_factor",
    "liquidation_amounts",
]

WAD = 10**18
PERCENTAGE_FACTOR = 10_000
CLOSE_FACTOR_HF_THRESHOLD_WAD = 95 * 10**16
MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 2000 * 10**8
EXP_SCALE = 10**18


def _check_array(
    name: str, value: ArrayLike, *, low: float | None = None, low_open: bool = False,
    high: float | None = None, allow_inf: bool = False,
) -> NDArray[np.float64]:
    """Return ``value`` as a float array, or raise naming the first value out of range."""
    lo = "" if low is None else f"{low:g} {'<' if low_open else '<='} "
    hi = "" if high is None else f" <= {high:g}"
    allowed = f"{lo}x{hi}" + ("" if allow_inf else ", finite")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(name, value, f"a number or array of numbers, {allowed}") from None
    bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
    if low is not None:
        bad |= (arr <= low) if low_open else (arr < low)
    if high is not None:
        bad |= arr > high
    if bad.any():
        raise ParameterError(name, float(arr[bad].flat[0]), allowed)
    return arr


def _result(arr: NDArray[np.float64]) -> float | NDArray[np.float64]:
    return float(arr) if arr.ndim == 0 else arr


# --------------------------------------------------------------------------- float model


def health_factor(
    collateral_usd: ArrayLike, liquidation_threshold: ArrayLike, debt_usd: ArrayLike,
) -> float | NDArray[np.float64]:
    """Health factor ``sum(collateral_i * LT_i) / debt``; ``inf`` where there is no debt.

    Parameters
    ----------
    collateral_usd : array_like
        Shape ``(n, k)`` (accounts by assets) with ``liquidation_threshold`` of shape ``(k,)``,
        or shape ``(n,)``/scalar with a scalar threshold. ``>= 0``.
    liquidation_threshold : array_like
        Fractions, ``0 <= LT <= 1``.
    debt_usd : array_like
        Shape ``(n,)``; ``+inf`` is returned where ``debt_usd <= 0``.

    Notes
    -----
    ``HF = sum_i(collateral_i * LT_i) / debt``; an account is liquidatable when ``HF < 1``.

    References
    ----------
    aave/aave-v3-core @782f519 ``GenericLogic.calculateUserAccountData``; Aave Help Center,
    "Liquidations" (https://aave.com/help/borrowing/liquidations).

    Examples
    --------
    >>> round(health_factor(10_000, 0.8, 6_000), 3)
    1.333
    >>> health_factor([[100.0, 50.0], [10.0, 0.0]], [0.8, 0.5], [50.0, 0.0]).tolist()
    [2.1, inf]
    """
    coll = _check_array("collateral_usd", collateral_usd, low=0)
    lt = _check_array("liquidation_threshold", liquidation_threshold, low=0, high=1)
    debt = _check_array("debt_usd", debt_usd)
    weighted = np.sum(coll * lt, axis=-1) if lt.ndim >= 1 else coll * lt
    with np.errstate(divide="ignore", invalid="ignore"):
        hf = np.where(debt > 0, weighted / np.where(debt > 0, debt, 1.0), np.inf)
    return _result(np.asarray(hf, dtype=np.float64))


def close_factor(
    health_factor: ArrayLike, default_close_factor: float = 0.5,
    full_close_below_hf: float = 0.95,
) -> float | NDArray[np.float64]:
    """Share of a reserve's debt one liquidation may repay (Aave v3.0-3.2).

    Notes
    -----
    ``1.0`` where ``HF <= 0.95``, else ``0.5`` (``CLOSE_FACTOR_HF_THRESHOLD``,
    ``DEFAULT_LIQUIDATION_CLOSE_FACTOR``, ``MAX_LIQUIDATION_CLOSE_FACTOR``).

    References
    ----------
    aave/aave-v3-core @782f519 ``LiquidationLogic._calculateDebt``.

    Examples
    --------
    >>> close_factor([0.9, 0.95, 0.99]).tolist()
    [1.0, 1.0, 0.5]
    """
    hf = _check_array("health_factor", health_factor, allow_inf=True)
    cf = _check_array("default_close_factor", default_close_factor, low=0, high=1)
    threshold = _check_array("full_close_below_hf", full_close_below_hf, low=0)
    return _result(np.where(hf <= threshold, 1.0, cf).astype(np.float64))


def close_factor_v33(
    health_factor: ArrayLike, collateral_usd: ArrayLike, debt_usd: ArrayLike,
    min_base_threshold_usd: float = 2000.0, default_close_factor: float = 0.5,
    full_close_below_hf: float = 0.95, total_debt_usd: ArrayLike | None = None,
) -> float | NDArray[np.float64]:
    """Share of a reserve's debt one liquidation may repay (Aave v3.3+).

    ``collateral_usd`` and ``debt_usd`` are the values of the collateral and debt reserves
    being liquidated; ``total_debt_usd`` (default ``debt_usd``) is the account's whole debt.

    Notes
    -----
    The whole reserve debt may be repaid unless the reserve collateral and reserve debt are
    both ``>= min_base_threshold_usd`` and ``HF > 0.95``; then the cap is
    ``0.5 * total_debt``, i.e. a share ``min(1, 0.5 * total_debt / debt)`` of the reserve.

    References
    ----------
    aave-dao/aave-v3-origin ``LiquidationLogic.sol`` (``MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD =
    2000e8``) and ``docs/3.3/Aave-v3.3-features.md`` section 2.2.

    Examples
    --------
    >>> close_factor_v33([0.97, 0.97, 0.9], [1500.0, 5000.0, 5000.0], 3000.0).tolist()
    [1.0, 0.5, 1.0]
    """
    hf = _check_array("health_factor", health_factor, allow_inf=True)
    coll = _check_array("collateral_usd", collateral_usd, low=0)
    debt = _check_array("debt_usd", debt_usd, low=0)
    total = debt if total_debt_usd is None else _check_array("total_debt_usd", total_debt_usd,
                                                             low=0)
    threshold = _check_array("min_base_threshold_usd", min_base_threshold_usd, low=0)
    cf = _check_array("default_close_factor", default_close_factor, low=0, high=1)
    hf_threshold = _check_array("full_close_below_hf", full_close_below_hf, low=0)
    capped = (coll >= threshold) & (debt >= threshold) & (hf > hf_threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.minimum(1.0, cf * total / np.where(debt > 0, debt, 1.0))
    return _result(np.where(capped, share, 1.0).astype(np.float64))


@dataclass(frozen=True)
class LiquidationAmounts:
    """Per-account outcome of a liquidation (see :func:`liquidation_amounts`)."""

    debt_repaid_usd: NDArray[np.float64]
    collateral_seized_units: NDArray[np.float64]
    collateral_to_liquidator_units: NDArray[np.float64]
    protocol_fee_units: NDArray[np.float64]


def liquidation_amounts(
    debt_usd: ArrayLike, collateral_units: ArrayLike, collateral_price_usd: ArrayLike,
    liquidation_bonus: ArrayLike, close_factor: ArrayLike, protocol_fee_frac: ArrayLike = 0.1,
    debt_to_cover_usd: ArrayLike | None = None,
) -> LiquidationAmounts:
    """Debt repaid and collateral seized by one liquidation, per account.

    One collateral asset (priced ``collateral_price_usd``) and USD-stable debt (price 1).

    Parameters
    ----------
    debt_usd, collateral_units : array_like
        The borrower's debt and collateral balance, ``>= 0``.
    collateral_price_usd : array_like
        ``> 0``.
    liquidation_bonus : array_like
        Fraction, ``>= 0`` (``0.05`` is Aave's ``10500`` bps).
    close_factor : array_like
        Share of the debt that may be repaid, ``0 <= cf <= 1`` (see :func:`close_factor`).
    protocol_fee_frac : array_like, default 0.1
        Protocol's share of the bonus part of the seized collateral, ``0 <= f <= 1``.
    debt_to_cover_usd : array_like, optional
        The liquidator's own limit on the repayment, ``>= 0``.

    Returns
    -------
    LiquidationAmounts

    Notes
    -----
    ``repay = min(cf * debt, debt_to_cover)``; ``seized = repay / price * (1 + bonus)``; if
    ``seized > collateral`` then ``seized = collateral`` and
    ``repay = collateral * price / (1 + bonus)``. ``fee = f * (seized - seized / (1 + bonus))``
    is taken out of the seized collateral; the liquidator receives ``seized - fee``. Hence
    ``seized * price == repay * (1 + bonus)`` and the liquidator gains
    ``repay * bonus - fee * price`` in USD.

    References
    ----------
    aave/aave-v3-core @782f519 ``LiquidationLogic._calculateAvailableCollateralToLiquidate``.

    Examples
    --------
    >>> out = liquidation_amounts([1900.0, 1900.0], [10.0, 1.0], 200.0, 0.05, 1.0)
    >>> out.debt_repaid_usd.round(4).tolist(), out.collateral_seized_units.tolist()
    ([1900.0, 190.4762], [9.975, 1.0])
    >>> out.protocol_fee_units.round(6).tolist()
    [0.0475, 0.004762]
    """
    debt = _check_array("debt_usd", debt_usd, low=0)
    coll = _check_array("collateral_units", collateral_units, low=0)
    price = _check_array("collateral_price_usd", collateral_price_usd, low=0, low_open=True)
    bonus = _check_array("liquidation_bonus", liquidation_bonus, low=0)
    cf = _check_array("close_factor", close_factor, low=0, high=1)
    fee_frac = _check_array("protocol_fee_frac", protocol_fee_frac, low=0, high=1)
    repay = cf * debt
    if debt_to_cover_usd is not None:
        cover = _check_array("debt_to_cover_usd", debt_to_cover_usd, low=0, allow_inf=True)
        repay = np.minimum(repay, cover)
    needed = repay / price * (1.0 + bonus)
    short = needed > coll
    seized = np.where(short, coll, needed)
    repay = np.where(short, coll * price / (1.0 + bonus), repay)
    fee = fee_frac * (seized - seized / (1.0 + bonus))
    shape = np.broadcast_shapes(debt.shape, coll.shape, price.shape, bonus.shape, cf.shape,
                                fee_frac.shape)
    return LiquidationAmounts(
        debt_repaid_usd=np.broadcast_to(repay, shape).astype(np.float64),
        collateral_seized_units=np.broadcast_to(seized, shape).astype(np.float64),
        collateral_to_liquidator_units=np.broadcast_to(seized - fee, shape).astype(np.float64),
        protocol_fee_units=np.broadcast_to(fee, shape).astype(np.float64),
    )


# --------------------------------------------------------------------------- exact Aave V3


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


# --------------------------------------------------------------------------- Compound V2


def compound_seize_tokens(
    repay_amount: int, price_borrowed_mantissa: int, price_collateral_mantissa: int,
    exchange_rate_mantissa: int, liquidation_incentive_mantissa: int,
) -> int:
    """cTokens seized for repaying ``repay_amount`` of the borrowed asset (exact).

    Notes
    -----
    ``Exp`` maths with truncation at each step: ``num = LI * pB // 1e18``;
    ``den = pC * ER // 1e18``; ``ratio = num * 1e18 // den``;
    ``seize = ratio * repay // 1e18``.

    References
    ----------
    compound-finance/compound-protocol @a3214f6
    ``Comptroller.liquidateCalculateSeizeTokens``.

    Examples
    --------
    >>> compound_seize_tokens(2 * 10**18, 10**18, 10**18, 4 * 10**27, 11 * 10**17)
    550000000
    """
    repay = _nonneg("repay_amount", repay_amount)
    p_borrowed = check_int("price_borrowed_mantissa", price_borrowed_mantissa, low=1)
    p_collateral = check_int("price_collateral_mantissa", price_collateral_mantissa, low=1)
    rate = check_int("exchange_rate_mantissa", exchange_rate_mantissa, low=1)
    incentive = _nonneg("liquidation_incentive_mantissa", liquidation_incentive_mantissa)
    numerator = incentive * p_borrowed // EXP_SCALE
    denominator = p_collateral * rate // EXP_SCALE
    if denominator == 0:
        raise ParameterError("exchange_rate_mantissa", rate,
                             "price_collateral * exchange_rate >= 1e18")
    ratio = numerator * EXP_SCALE // denominator
    return ratio * repay // EXP_SCALE


@dataclass(frozen=True)
class CompoundLiquidation:
    """Exact outcome of a Compound V2 liquidation (cTokens and underlying wei)."""

    seize_tokens: int
    liquidator_tokens: int
    protocol_tokens: int
    borrower_tokens_after: int
    borrow_balance_after: int


def compound_liquidation(
    repay_amount: int, borrow_balance: int, borrower_ctokens: int,
    price_borrowed_mantissa: int, price_collateral_mantissa: int,
    exchange_rate_mantissa: int, liquidation_incentive_mantissa: int,
    close_factor_mantissa: int, protocol_seize_share_mantissa: int = 28 * 10**15,
) -> CompoundLiquidation:
    """End-to-end ``liquidateBorrow``: close-factor check, seizure and the reserves' share.

    Raises
    ------
    ParameterError
        ``'repay_amount'`` if it exceeds ``closeFactor * borrow`` (``TOO_MUCH_REPAY``);
        ``'borrower_ctokens'`` if the seizure exceeds them (``LIQUIDATE_SEIZE_TOO_MUCH``).

    Notes
    -----
    ``maxClose = cf * borrow // 1e18``; ``seize`` from :func:`compound_seize_tokens`;
    ``protocol = seize * share // 1e18`` goes to reserves, the liquidator gets the rest.

    References
    ----------
    compound-finance/compound-protocol @a3214f6 ``Comptroller.liquidateBorrowAllowed``,
    ``CToken.liquidateBorrowFresh``/``seizeInternal`` (``protocolSeizeShareMantissa =
    2.8e16``); ``spec/scenario/InKindLiquidation.scen``.

    Examples
    --------
    >>> r = compound_liquidation(2 * 10**18, 101 * 10**18, 50 * 10**9, 10**18, 10**18,
    ...                          4 * 10**27, 11 * 10**17, 10**17)
    >>> r.liquidator_tokens, r.borrower_tokens_after
    (534600000, 49450000000)
    """
    repay = _nonneg("repay_amount", repay_amount)
    borrow = _nonneg("borrow_balance", borrow_balance)
    tokens = _nonneg("borrower_ctokens", borrower_ctokens)
    cf = check_int("close_factor_mantissa", close_factor_mantissa, low=0, high=EXP_SCALE)
    share = check_int("protocol_seize_share_mantissa", protocol_seize_share_mantissa,
                      low=0, high=EXP_SCALE)
    max_close = cf * borrow // EXP_SCALE
    if repay > max_close:
        raise ParameterError("repay_amount", repay, f"0 <= x <= closeFactor * borrow = "
                             f"{max_close}", "Compound rejects it with TOO_MUCH_REPAY")
    seize = compound_seize_tokens(repay, price_borrowed_mantissa, price_collateral_mantissa,
                                  exchange_rate_mantissa, liquidation_incentive_mantissa)
    if seize > tokens:
        raise ParameterError("borrower_ctokens", tokens, f"x >= seizeTokens = {seize}",
                             "Compound reverts with LIQUIDATE_SEIZE_TOO_MUCH")
    protocol = seize * share // EXP_SCALE
    return CompoundLiquidation(seize, seize - protocol, protocol, tokens - seize,
                               borrow - repay)


def compound_account_liquidity(
    ctoken_balance: int, exchange_rate_mantissa: int, collateral_factor_mantissa: int,
    price_collateral_mantissa: int, borrow_balance: int, price_borrowed_mantissa: int,
) -> int:
    """Signed account liquidity (USD mantissa): collateral capacity minus borrows.

    Notes
    -----
    ``tokensToDenom = CF * ER // 1e18 * pC // 1e18``;
    ``liquidity = tokensToDenom * tokens // 1e18 - pB * borrow // 1e18``; negative means the
    account is liquidatable.

    References
    ----------
    compound-finance/compound-protocol @a3214f6
    ``Comptroller.getHypotheticalAccountLiquidityInternal``.

    Examples
    --------
    >>> compound_account_liquidity(49_450_000_000, 4 * 10**27, 5 * 10**17, 10**18,
    ...                            99 * 10**18, 10**18)
    -100000000000000000
    """
    tokens = _nonneg("ctoken_balance", ctoken_balance)
    rate = _nonneg("exchange_rate_mantissa", exchange_rate_mantissa)
    cf = check_int("collateral_factor_mantissa", collateral_factor_mantissa, low=0,
                   high=EXP_SCALE)
    p_collateral = _nonneg("price_collateral_mantissa", price_collateral_mantissa)
    borrow = _nonneg("borrow_balance", borrow_balance)
    p_borrowed = _nonneg("price_borrowed_mantissa", price_borrowed_mantissa)
    tokens_to_denom = cf * rate // EXP_SCALE * p_collateral // EXP_SCALE
    return tokens_to_denom * tokens // EXP_SCALE - p_borrowed * borrow // EXP_SCALE
