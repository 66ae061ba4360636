"""Perpetual futures margining: equity, margins, bankruptcy and liquidation prices (floats).

Generic isolated-margin functions (vectorised over accounts, ``size`` signed: ``+`` long,
``-`` short) are what the simulation engine uses. Venue-specific functions reproduce
published formulas for Hyperliquid's and Binance USDⓈ-M's maintenance margin and
liquidation price. dYdX v4's exact liquidation maths is in :mod:`contagion.mechanics.dydx`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from contagion.errors import ParameterError
from contagion.validation import check_array, scalar_or_array

__all__ = [
    "account_equity",
    "bankruptcy_price",
    "binance_maintenance_margin",
    "hyperliquid_maintenance_margin",
    "initial_margin",
    "liquidation_price",
    "liquidation_price_binance",
    "liquidation_price_hyperliquid",
    "maintenance_margin",
]



def _side(side: ArrayLike | str) -> NDArray[np.float64]:
    if isinstance(side, str):
        if side not in ("long", "short"):
            raise ParameterError("side", side, "'long', 'short', +1 or -1")
        return np.asarray(1.0 if side == "long" else -1.0)
    arr = check_array("side", side)
    bad = (arr != 1.0) & (arr != -1.0)
    if bad.any():
        raise ParameterError("side", float(arr[bad].flat[0]), "'long', 'short', +1 or -1")
    return arr


# --------------------------------------------------------------------------- generic


def account_equity(
    collateral_usd: ArrayLike, size: ArrayLike, entry_price: ArrayLike, mark_price: ArrayLike,
    *, validate: bool = True,
) -> float | NDArray[np.float64]:
    """Equity of an isolated position: ``collateral + size * (mark - entry)``.

    ``validate=False`` skips the range checks, for books whose invariants guarantee them.

    Notes
    -----
    ``equity = collateral + size * (mark - entry)``, ``size`` signed (``+`` long).

    References
    ----------
    Hyperliquid docs, "Margining"; Binance FAQ on USDⓈ-M unrealised PnL.

    Examples
    --------
    >>> account_equity([100.0, 100.0], [1.0, -1.0], 1000.0, 1050.0).tolist()
    [150.0, 50.0]
    """
    if not validate:
        return scalar_or_array(np.asarray(collateral_usd, dtype=np.float64)
                       + np.asarray(size, dtype=np.float64)
                       * (np.asarray(mark_price, dtype=np.float64)
                          - np.asarray(entry_price, dtype=np.float64)))
    c = check_array("collateral_usd", collateral_usd)
    s = check_array("size", size)
    e = check_array("entry_price", entry_price, low=0, low_open=True)
    m = check_array("mark_price", mark_price, low=0)
    return scalar_or_array(c + s * (m - e))


def maintenance_margin(
    size: ArrayLike, mark_price: ArrayLike, maintenance_margin_frac: ArrayLike,
    *, validate: bool = True,
) -> float | NDArray[np.float64]:
    """Maintenance margin ``|size| * mark * mmf``.

    ``validate=False`` skips the range checks, for books whose invariants guarantee them.

    Notes
    -----
    ``MM = |size| * mark * mmf``; liquidation when equity falls below it.

    References
    ----------
    Hyperliquid docs, "Liquidations"; dYdX v4 ``TMMR = sum(|size| * oracle * MMF)``.

    Examples
    --------
    >>> maintenance_margin(-2.0, 1000.0, 0.05)
    100.0
    """
    if not validate:
        return scalar_or_array(np.abs(np.asarray(size, dtype=np.float64))
                       * (float(mark_price) * float(maintenance_margin_frac))  # type: ignore[arg-type]
                       if np.ndim(mark_price) == 0 and np.ndim(maintenance_margin_frac) == 0
                       else np.abs(np.asarray(size, dtype=np.float64))
                       * np.asarray(mark_price, dtype=np.float64)
                       * np.asarray(maintenance_margin_frac, dtype=np.float64))
    s = check_array("size", size)
    m = check_array("mark_price", mark_price, low=0)
    mmf = check_array("maintenance_margin_frac", maintenance_margin_frac, low=0, high=1,
                      high_open=True)
    return scalar_or_array(np.abs(s) * m * mmf)


def initial_margin(
    size: ArrayLike, price: ArrayLike, initial_margin_frac: ArrayLike,
) -> float | NDArray[np.float64]:
    """Initial margin ``|size| * price * imf`` (``imf = 1 / leverage``).

    Notes
    -----
    ``IM = |size| * price * imf``; the margin needed to open a position.

    References
    ----------
    Hyperliquid docs, "Margining" (initial margin = notional / leverage).

    Examples
    --------
    >>> initial_margin(2.0, 1000.0, 0.1)
    200.0
    """
    s = check_array("size", size)
    p = check_array("price", price, low=0)
    imf = check_array("initial_margin_frac", initial_margin_frac, low=0, high=1)
    return scalar_or_array(np.abs(s) * p * imf)


def bankruptcy_price(
    collateral_usd: ArrayLike, size: ArrayLike, entry_price: ArrayLike,
) -> float | NDArray[np.float64]:
    """Price at which equity is zero: ``entry - collateral / size``; ``nan`` if ``size == 0``.

    Notes
    -----
    Solving ``collateral + size * (P - entry) = 0`` gives ``P = entry - collateral / size``.

    References
    ----------
    BitMEX, "Auto-Deleveraging" (bankruptcy price); dYdX v4 ``liquidations.go``.

    Examples
    --------
    >>> bankruptcy_price(100.0, [1.0, -1.0, 0.0], 1000.0).tolist()
    [900.0, 1100.0, nan]
    """
    c = check_array("collateral_usd", collateral_usd)
    s = check_array("size", size)
    e = check_array("entry_price", entry_price, low=0, low_open=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.where(s != 0, e - c / np.where(s != 0, s, 1.0), np.nan)
    return scalar_or_array(np.asarray(price, dtype=np.float64))


def liquidation_price(
    collateral_usd: ArrayLike, size: ArrayLike, entry_price: ArrayLike,
    maintenance_margin_frac: ArrayLike,
) -> float | NDArray[np.float64]:
    """Price at which equity equals the maintenance margin (isolated margin).

    ``nan`` where ``size == 0``. A value ``<= 0`` for a long means it cannot be liquidated.

    Notes
    -----
    Solving ``C + s (P - E) = |s| P m`` gives ``P = (s E - C) / (s - |s| m)``, i.e.
    ``(E - C/s) / (1 - m)`` for a long and ``(E - C/s) / (1 + m)`` for a short.

    References
    ----------
    Hyperliquid docs, "Liquidations" (isolated margin); Binance FAQ "How to Calculate
    Liquidation Price of USDⓈ-M Futures Contracts" (isolated, ``cum = 0``).

    Examples
    --------
    >>> [round(p, 4) for p in liquidation_price(100.0, [1.0, -1.0], 1000.0, 0.05).tolist()]
    [947.3684, 1047.619]
    """
    c = check_array("collateral_usd", collateral_usd)
    s = check_array("size", size)
    e = check_array("entry_price", entry_price, low=0, low_open=True)
    mmf = check_array("maintenance_margin_frac", maintenance_margin_frac, low=0, high=1,
                      high_open=True)
    denominator = s - np.abs(s) * mmf
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.where(s != 0, (s * e - c) / np.where(s != 0, denominator, 1.0), np.nan)
    return scalar_or_array(np.asarray(price, dtype=np.float64))


# --------------------------------------------------------------------------- venues


def hyperliquid_maintenance_margin(
    notional_usd: ArrayLike, max_leverage: ArrayLike,
) -> float | NDArray[np.float64]:
    """Hyperliquid maintenance margin: half the initial margin at max leverage.

    Notes
    -----
    ``MM = notional / max_leverage / 2 = notional / maintenance_leverage``.

    References
    ----------
    Hyperliquid docs, https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations

    Examples
    --------
    >>> round(hyperliquid_maintenance_margin(0.015 * 2458.5, 50), 6)
    0.368775
    """
    n = check_array("notional_usd", notional_usd, low=0)
    lev = check_array("max_leverage", max_leverage, low=1)
    return scalar_or_array(n / lev / 2.0)


def liquidation_price_hyperliquid(
    price: ArrayLike, side: ArrayLike | str, position_size: ArrayLike,
    margin_available: ArrayLike, maintenance_leverage: ArrayLike,
) -> float | NDArray[np.float64]:
    """Hyperliquid's liquidation price.

    Parameters
    ----------
    price : array_like
        Current (entry or mark) price, ``> 0``.
    side : array_like or {"long", "short"}
        ``+1`` long or ``-1`` short; the strings only in a scalar call.
    position_size : array_like
        Absolute size in coins, ``> 0``.
    margin_available : array_like
        Account value (cross) or isolated margin, minus the maintenance margin required.
    maintenance_leverage : array_like
        ``2 * max_leverage``, ``> 1``.

    Notes
    -----
    ``liq = price - side * margin_available / position_size / (1 - l * side)`` with
    ``l = 1 / maintenance_leverage``.

    References
    ----------
    Hyperliquid docs, https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations;
    freqtrade ``freqtrade/exchange/hyperliquid.py`` ``dry_run_liquidation_price``.

    Examples
    --------
    >>> round(liquidation_price_hyperliquid(190.0, "short", 0.5, 4.75, 20), 6)
    199.047619
    """
    p = check_array("price", price, low=0, low_open=True)
    sd = _side(side)
    q = check_array("position_size", position_size, low=0, low_open=True)
    ma = check_array("margin_available", margin_available)
    lev = check_array("maintenance_leverage", maintenance_leverage, low=1, low_open=True)
    return scalar_or_array(p - sd * ma / q / (1.0 - sd / lev))


def binance_maintenance_margin(
    position_size: ArrayLike, mark_price: ArrayLike, mmr: ArrayLike,
    cum_maintenance_amount: ArrayLike,
) -> float | NDArray[np.float64]:
    """Binance maintenance margin of a position, ``Q * mark * MMR - cum`` (its ``TMM``).

    Notes
    -----
    ``TMM = Q * mark * MMR - cum``, ``cum`` the bracket's maintenance amount.

    References
    ----------
    Binance FAQ, https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93

    Examples
    --------
    >>> round(binance_maintenance_margin(3683.979, 1335.18, 0.1, 135365.0), 5)
    356512.50812
    """
    q = check_array("position_size", position_size, low=0)
    m = check_array("mark_price", mark_price, low=0)
    r = check_array("mmr", mmr, low=0, high=1, high_open=True)
    cum = check_array("cum_maintenance_amount", cum_maintenance_amount, low=0)
    return scalar_or_array(q * m * r - cum)


def liquidation_price_binance(
    wallet_balance: ArrayLike, side: ArrayLike | str, position_size: ArrayLike,
    entry_price: ArrayLike, mmr: ArrayLike, cum_maintenance_amount: ArrayLike,
    tmm_other: ArrayLike = 0.0, upnl_other: ArrayLike = 0.0,
) -> float | NDArray[np.float64]:
    """Binance USDⓈ-M liquidation price, one-way mode.

    Isolated margin: ``wallet_balance`` is the isolated wallet and ``tmm_other = upnl_other
    = 0``. Cross margin: they are the maintenance margin and unrealised PnL of the other
    contracts (:func:`binance_maintenance_margin`, ``Q * (mark - entry)``).

    Notes
    -----
    ``LP = (WB - TMM1 + UPNL1 + cum - side*Q*EP) / (Q*MMR - side*Q)``. If the position value
    at ``LP`` falls in another margin bracket, recompute with that bracket's MMR and cum.

    References
    ----------
    Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts",
    https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93

    Examples
    --------
    >>> round(liquidation_price_binance(1535443.01, "long", 3683.979, 1456.84, 0.1, 135365.0), 2)
    1114.78
    """
    wb = check_array("wallet_balance", wallet_balance)
    sd = _side(side)
    q = check_array("position_size", position_size, low=0, low_open=True)
    ep = check_array("entry_price", entry_price, low=0, low_open=True)
    r = check_array("mmr", mmr, low=0, high=1, high_open=True)
    cum = check_array("cum_maintenance_amount", cum_maintenance_amount, low=0)
    tmm = check_array("tmm_other", tmm_other)
    upnl = check_array("upnl_other", upnl_other)
    return scalar_or_array((wb - tmm + upnl + cum - sd * q * ep) / (q * r - sd * q))
