"""Over-collateralised lending, float model: health factor, close factor and liquidation.

Vectorised over accounts; this is what the simulation engine calls every step. It follows
Aave V3; the exact integer ports that pin it to the protocols' own numbers are in
:mod:`contagion.mechanics.aave` and :mod:`contagion.mechanics.compound`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from contagion.validation import check_array, scalar_or_array

__all__ = [
    "SECONDS_PER_YEAR",
    "LiquidationAmounts",
    "close_factor",
    "close_factor_v33",
    "compounded_interest",
    "health_factor",
    "interest_rates",
    "leftover_adjusted",
    "linear_interest",
    "liquidation_amounts",
    "update_indexes",
    "utilisation",
]

#: Aave's year (``MathUtils.SECONDS_PER_YEAR``): 365 days, no leap years.
SECONDS_PER_YEAR = 365 * 24 * 3600.0


def health_factor(
    collateral_usd: ArrayLike, liquidation_threshold: ArrayLike, debt_usd: ArrayLike,
    *, validate: bool = True,
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
    validate : bool
        Check the inputs' ranges (default). The engine passes ``False`` for its own books,
        whose invariants already guarantee them, to save passes over a million rows.

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
    if validate:
        coll = check_array("collateral_usd", collateral_usd, low=0)
        lt = check_array("liquidation_threshold", liquidation_threshold, low=0, high=1)
        debt = check_array("debt_usd", debt_usd)
    else:
        coll = np.asarray(collateral_usd, dtype=np.float64)
        lt = np.asarray(liquidation_threshold, dtype=np.float64)
        debt = np.asarray(debt_usd, dtype=np.float64)
    weighted = np.sum(coll * lt, axis=-1) if lt.ndim >= 1 else coll * lt
    hf = np.full(np.broadcast(weighted, debt).shape, np.inf)
    np.divide(weighted, debt, out=hf, where=debt > 0)
    return scalar_or_array(hf)


def close_factor(
    health_factor: ArrayLike, default_close_factor: float = 0.5,
    full_close_below_hf: float = 0.95, *, validate: bool = True,
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

    ``validate=False`` skips the range checks (the engine's own health factors, a pass
    over every candidate account saved).
    """
    if not validate:
        return scalar_or_array(np.where(np.asarray(health_factor, dtype=np.float64)
                                        <= full_close_below_hf, 1.0, default_close_factor))
    hf = check_array("health_factor", health_factor, allow_inf=True)
    cf = check_array("default_close_factor", default_close_factor, low=0, high=1)
    threshold = check_array("full_close_below_hf", full_close_below_hf, low=0)
    return scalar_or_array(np.where(hf <= threshold, 1.0, cf).astype(np.float64))


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
    hf = check_array("health_factor", health_factor, allow_inf=True)
    coll = check_array("collateral_usd", collateral_usd, low=0)
    debt = check_array("debt_usd", debt_usd, low=0)
    total = debt if total_debt_usd is None else check_array("total_debt_usd", total_debt_usd, low=0)
    threshold = check_array("min_base_threshold_usd", min_base_threshold_usd, low=0)
    cf = check_array("default_close_factor", default_close_factor, low=0, high=1)
    hf_threshold = check_array("full_close_below_hf", full_close_below_hf, low=0)
    capped = (coll >= threshold) & (debt >= threshold) & (hf > hf_threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.minimum(1.0, cf * total / np.where(debt > 0, debt, 1.0))
    return scalar_or_array(np.where(capped, share, 1.0).astype(np.float64))


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
    debt_to_cover_usd: ArrayLike | None = None, *, validate: bool = True,
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
    validate : bool
        Check the inputs' ranges (default). The engine passes ``False`` for its own books
        (float arrays whose invariants already hold): the checks and copies cost more than
        the arithmetic for the few hundred accounts a keeper considers each step.

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
    if validate:
        debt = check_array("debt_usd", debt_usd, low=0)
        coll = check_array("collateral_units", collateral_units, low=0)
        price = check_array("collateral_price_usd", collateral_price_usd, low=0, low_open=True)
        bonus = check_array("liquidation_bonus", liquidation_bonus, low=0)
        cf = check_array("close_factor", close_factor, low=0, high=1)
        fee_frac = check_array("protocol_fee_frac", protocol_fee_frac, low=0, high=1)
    else:
        debt, coll, price, bonus, cf, fee_frac = (
            np.asarray(x, dtype=np.float64) for x in (debt_usd, collateral_units,
                                                      collateral_price_usd, liquidation_bonus,
                                                      close_factor, protocol_fee_frac))
    repay = cf * debt
    if debt_to_cover_usd is not None:
        cover = (check_array("debt_to_cover_usd", debt_to_cover_usd, low=0, allow_inf=True)
                 if validate else np.asarray(debt_to_cover_usd, dtype=np.float64))
        repay = np.minimum(repay, cover)
    needed = repay / price * (1.0 + bonus)
    short = needed > coll
    seized = np.where(short, coll, needed)
    repay = np.where(short, coll * price / (1.0 + bonus), repay)
    fee = fee_frac * (seized - seized / (1.0 + bonus))
    shape = np.broadcast_shapes(debt.shape, coll.shape, price.shape, bonus.shape, cf.shape,
                                fee_frac.shape)
    if not validate and repay.shape == seized.shape == fee.shape == shape:
        # already full-size float arrays of their own: the copies below would change nothing
        return LiquidationAmounts(debt_repaid_usd=repay, collateral_seized_units=seized,
                                  collateral_to_liquidator_units=seized - fee,
                                  protocol_fee_units=fee)
    return LiquidationAmounts(
        debt_repaid_usd=np.broadcast_to(repay, shape).astype(np.float64),
        collateral_seized_units=np.broadcast_to(seized, shape).astype(np.float64),
        collateral_to_liquidator_units=np.broadcast_to(seized - fee, shape).astype(np.float64),
        protocol_fee_units=np.broadcast_to(fee, shape).astype(np.float64),
    )



def leftover_adjusted(
    amounts: LiquidationAmounts, debt_usd: ArrayLike, collateral_units: ArrayLike,
    collateral_price_usd: ArrayLike, liquidation_bonus: ArrayLike,
    protocol_fee_frac: ArrayLike, min_leftover_usd: float,
) -> tuple[LiquidationAmounts, NDArray[np.bool_]]:
    """Aave v3.3's leftover rule applied to liquidations sized by
    :func:`liquidation_amounts`, as a liquidator sizes them to pass it.

    A liquidation must repay all of the reserve debt (``debt_usd``), take all the
    collateral, or leave both worth at least ``min_leftover_usd``. One that would leave
    less is shrunk as ``LiquidationDataProvider`` shrinks it: by the larger of the two
    shortfalls, taken off the liquidator's collateral (then the repayment follows) or off
    the repayment (then the collateral follows), and the protocol fee is recomputed. Where
    shrinking cannot reach the floor (the amount to take off exceeds the liquidation: a
    reserve already under it, liquidated in part) the liquidation is not possible: its row
    in the returned mask is False and its amounts are zero.

    Returns
    -------
    (LiquidationAmounts, mask)
        The adjusted amounts and which rows may be liquidated.

    References
    ----------
    aave-dao/aave-v3-origin v3.3.0 ``LiquidationDataProvider._adjustAmountsForGoodLeftovers``
    and ``LiquidationLogic.executeLiquidationCall``; the exact integer versions are
    :func:`contagion.mechanics.aave.aave_liquidation_info_v33` and
    :func:`~contagion.mechanics.aave.aave_liquidation_call_v33`.

    Examples
    --------
    Repaying $450 of a $900 debt against $1,000 of collateral (price 1, no bonus) would
    leave $450 of debt: shrunk to $400, leaving $500 of each.

    >>> a = liquidation_amounts([900.0], [1000.0], 1.0, 0.0, 1.0, 0.0, [450.0])
    >>> out, ok = leftover_adjusted(a, [900.0], [1000.0], 1.0, 0.0, 0.0, 500.0)
    >>> out.debt_repaid_usd.tolist(), out.collateral_seized_units.tolist(), ok.tolist()
    ([400.0], [400.0], [True])
    """
    debt = check_array("debt_usd", debt_usd, low=0)
    coll = check_array("collateral_units", collateral_units, low=0)
    price = check_array("collateral_price_usd", collateral_price_usd, low=0, low_open=True)
    bonus = check_array("liquidation_bonus", liquidation_bonus, low=0)
    fee_frac = check_array("protocol_fee_frac", protocol_fee_frac, low=0, high=1)
    floor = float(check_array("min_leftover_usd", min_leftover_usd, low=0))
    repay, seized = amounts.debt_repaid_usd, amounts.collateral_seized_units
    to_liq, fee = amounts.collateral_to_liquidator_units, amounts.protocol_fee_units
    partial = (seized < coll) & (repay < debt)
    coll_left = (coll - seized) * price
    debt_left = debt - repay
    dusty = partial & ((coll_left < floor) | (debt_left < floor))
    ok = np.ones(repay.shape, dtype=bool)
    if not dusty.any():
        return amounts, ok
    coll_short = np.where(coll_left < floor, floor - coll_left, 0.0)
    debt_short = np.where(debt_left < floor, floor - debt_left, 0.0)
    by_coll = coll_short > debt_short
    total = np.where(by_coll, to_liq - coll_short / price,
                     (repay - debt_short) / price * (1.0 + bonus))
    new_repay = np.where(by_coll, total * price / (1.0 + bonus), repay - debt_short)
    possible = (total > 0) & (new_repay > 0)
    total = np.where(possible, total, 0.0)
    new_repay = np.where(possible, new_repay, 0.0)
    new_fee = fee_frac * (total - total / (1.0 + bonus))
    ok = ~dusty | possible
    return LiquidationAmounts(
        debt_repaid_usd=np.where(dusty, new_repay, repay),
        collateral_seized_units=np.where(dusty, total, seized),
        collateral_to_liquidator_units=np.where(dusty, total - new_fee, to_liq),
        protocol_fee_units=np.where(dusty, new_fee, fee),
    ), ok


# ---------------------------------------------------------------------------- interest

def utilisation(debt: ArrayLike, available_liquidity: ArrayLike) -> float | NDArray[np.float64]:
    """Aave's borrow usage ratio ``debt / (available liquidity + debt)``; 0 with no debt.

    References
    ----------
    aave-dao/aave-v3-origin @fd1fbd9 ``DefaultReserveInterestRateStrategyV2.calculateInterestRates``.

    Examples
    --------
    >>> utilisation([80.0, 0.0, 5.0], [20.0, 10.0, 0.0]).tolist()
    [0.8, 0.0, 1.0]
    """
    d = check_array("debt", debt, low=0)
    cash = check_array("available_liquidity", available_liquidity, low=0)
    total = d + cash
    u = np.zeros(np.broadcast(d, total).shape)
    np.divide(d, total, out=u, where=(d > 0) & (total > 0))
    return scalar_or_array(u)


def interest_rates(
    utilisation: ArrayLike, optimal_utilisation: float, base_rate: float, slope1: float,
    slope2: float, reserve_factor: float = 0.0,
) -> tuple[float | NDArray[np.float64], float | NDArray[np.float64]]:
    """Aave's kinked rate curve: (supply rate, borrow rate), yearly, at ``utilisation``.

    Notes
    -----
    ``R = base + slope1 * U / U*`` for ``U <= U*``, ``base + slope1 + slope2 * (U - U*) /
    (1 - U*)`` above; the supply (liquidity) rate is ``R * U * (1 - reserve_factor)`` (0
    when nothing is borrowed). The float twin of
    :func:`contagion.mechanics.aave.aave_interest_rates` (no unbacked supply).

    References
    ----------
    aave-dao/aave-v3-origin @fd1fbd9 ``src/contracts/misc/DefaultReserveInterestRateStrategyV2.sol``;
    Aave docs, "Interest Rate Strategy" (https://aave.com/docs/aave-v3/smart-contracts/interest-rate-strategy).

    Examples
    --------
    >>> s, b = interest_rates([0.4, 0.8, 0.9, 1.0], 0.8, 0.01, 0.04, 0.6, 0.1)
    >>> [round(x, 6) for x in b.tolist()], [round(x, 6) for x in s.tolist()]
    ([0.03, 0.05, 0.35, 0.65], [0.0108, 0.036, 0.2835, 0.585])
    """
    u = check_array("utilisation", utilisation, low=0, high=1)
    opt = float(check_array("optimal_utilisation", optimal_utilisation, low=0, high=1,
                            low_open=True, high_open=True))
    base = float(check_array("base_rate", base_rate, low=0))
    s1 = float(check_array("slope1", slope1, low=0))
    s2 = float(check_array("slope2", slope2, low=0))
    rf = float(check_array("reserve_factor", reserve_factor, low=0, high=1))
    borrow = np.where(u > opt, base + s1 + s2 * (u - opt) / (1.0 - opt), base + s1 * u / opt)
    supply = borrow * u * (1.0 - rf)
    return scalar_or_array(supply), scalar_or_array(borrow.astype(np.float64))


def linear_interest(rate: ArrayLike, seconds: float) -> float | NDArray[np.float64]:
    """Supply-side growth factor over ``seconds`` at yearly ``rate``: ``1 + rate * t / year``.

    References
    ----------
    aave-dao/aave-v3-origin @fd1fbd9 ``MathUtils.calculateLinearInterest`` (float twin of
    :func:`contagion.mechanics.aave.aave_linear_interest`).

    Examples
    --------
    >>> round(linear_interest(0.08, 7 * SECONDS_PER_YEAR), 12)
    1.56
    """
    r = check_array("rate", rate, low=0)
    t = float(check_array("seconds", seconds, low=0))
    return scalar_or_array(1.0 + r * (t / SECONDS_PER_YEAR))


def compounded_interest(rate: ArrayLike, seconds: float) -> float | NDArray[np.float64]:
    """Borrow-side growth factor over ``seconds`` at yearly ``rate``: Aave V3.4's three terms
    ``1 + x + x^2 / 2 + x^3 / 6`` with ``x = rate * t / year``.

    References
    ----------
    aave-dao/aave-v3-origin @fd1fbd9 ``MathUtils.calculateCompoundedInterest`` (float twin of
    :func:`contagion.mechanics.aave.aave_compounded_interest`).

    Examples
    --------
    >>> round(compounded_interest(0.05, SECONDS_PER_YEAR), 12)
    1.051270833333
    """
    r = check_array("rate", rate, low=0)
    t = float(check_array("seconds", seconds, low=0))
    x = r * (t / SECONDS_PER_YEAR)
    return scalar_or_array(1.0 + x + x * (x / 2.0 + x * (x / 6.0)))


def update_indexes(
    liquidity_index: float, borrow_index: float, supply_rate: float, borrow_rate: float,
    seconds: float,
) -> tuple[float, float]:
    """A reserve's (liquidity index, variable borrow index) after ``seconds`` at the rates in
    force: ``index * linear_interest(supply_rate)`` and
    ``index * compounded_interest(borrow_rate)`` (``ReserveLogic._updateIndexes``).

    References
    ----------
    aave-dao/aave-v3-origin @fd1fbd9 ``src/contracts/protocol/libraries/logic/ReserveLogic.sol``.

    Examples
    --------
    >>> [round(x, 9) for x in update_indexes(1.0, 1.0, 0.036, 0.05, SECONDS_PER_YEAR)]
    [1.036, 1.051270833]
    """
    li = float(check_array("liquidity_index", liquidity_index, low=0))
    bi = float(check_array("borrow_index", borrow_index, low=0))
    return (li * float(linear_interest(supply_rate, seconds)),
            bi * float(compounded_interest(borrow_rate, seconds)))
