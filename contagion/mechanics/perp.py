"""Perpetual futures margining: equity, margins, bankruptcy and liquidation prices.

Generic isolated-margin functions (vectorised over accounts, ``size`` signed: ``+`` long,
``-`` short) are what the simulation engine uses. Venue-specific functions reproduce
published formulas: Hyperliquid's and Binance USD-M's liquidation price (floats), and dYdX
v4's fillable price, bankruptcy quote and insurance-fund delta, computed exactly with
:class:`fractions.Fraction` in USD (``quote_quantum`` is dYdX's $1e-6 quote quantum).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray

from contagion.errors import ParameterError

__all__ = [
    "RationalLike",
    "account_equity",
    "bankruptcy_price",
    "binance_maintenance_margin",
    "dydx_bankruptcy_quote",
    "dydx_fillable_price",
    "dydx_insurance_fund_delta",
    "dydx_is_liquidatable",
    "dydx_risk",
    "hyperliquid_maintenance_margin",
    "initial_margin",
    "liquidation_price",
    "liquidation_price_binance",
    "liquidation_price_hyperliquid",
    "maintenance_margin",
]

RationalLike = Fraction | int | str
"""An exact number: a Fraction, an int or a string such as ``"1/10"`` or ``"0.005"``."""

QUOTE_QUANTUM_USD = Fraction(1, 10**6)


def _check_array(
    name: str, value: ArrayLike, *, low: float | None = None, low_open: bool = False,
    high: float | None = None, high_open: bool = False,
) -> NDArray[np.float64]:
    """Return ``value`` as a finite float array, or raise naming the first bad value."""
    lo = "" if low is None else f"{low:g} {'<' if low_open else '<='} "
    hi = "" if high is None else f" {'<' if high_open else '<='} {high:g}"
    allowed = f"{lo}x{hi}, finite"
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(name, value, f"a number or array of numbers, {allowed}") from None
    bad = ~np.isfinite(arr)
    if low is not None:
        bad |= (arr <= low) if low_open else (arr < low)
    if high is not None:
        bad |= (arr >= high) if high_open else (arr > high)
    if bad.any():
        raise ParameterError(name, float(arr[bad].flat[0]), allowed)
    return arr


def _result(arr: NDArray[np.float64]) -> float | NDArray[np.float64]:
    return float(arr) if arr.ndim == 0 else arr


def _side(side: ArrayLike | str) -> NDArray[np.float64]:
    if isinstance(side, str):
        if side not in ("long", "short"):
            raise ParameterError("side", side, "'long', 'short', +1 or -1")
        return np.asarray(1.0 if side == "long" else -1.0)
    arr = _check_array("side", side)
    bad = (arr != 1.0) & (arr != -1.0)
    if bad.any():
        raise ParameterError("side", float(arr[bad].flat[0]), "'long', 'short', +1 or -1")
    return arr


# --------------------------------------------------------------------------- generic


def account_equity(
    collateral_usd: ArrayLike, size: ArrayLike, entry_price: ArrayLike, mark_price: ArrayLike,
) -> float | NDArray[np.float64]:
    """Equity of an isolated position: ``collateral + size * (mark - entry)``.

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
    c = _check_array("collateral_usd", collateral_usd)
    s = _check_array("size", size)
    e = _check_array("entry_price", entry_price, low=0, low_open=True)
    m = _check_array("mark_price", mark_price, low=0)
    return _result(c + s * (m - e))


def maintenance_margin(
    size: ArrayLike, mark_price: ArrayLike, maintenance_margin_frac: ArrayLike,
) -> float | NDArray[np.float64]:
    """Maintenance margin ``|size| * mark * mmf``.

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
    s = _check_array("size", size)
    m = _check_array("mark_price", mark_price, low=0)
    mmf = _check_array("maintenance_margin_frac", maintenance_margin_frac, low=0, high=1,
                       high_open=True)
    return _result(np.abs(s) * m * mmf)


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
    s = _check_array("size", size)
    p = _check_array("price", price, low=0)
    imf = _check_array("initial_margin_frac", initial_margin_frac, low=0, high=1)
    return _result(np.abs(s) * p * imf)


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
    c = _check_array("collateral_usd", collateral_usd)
    s = _check_array("size", size)
    e = _check_array("entry_price", entry_price, low=0, low_open=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.where(s != 0, e - c / np.where(s != 0, s, 1.0), np.nan)
    return _result(np.asarray(price, dtype=np.float64))


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
    c = _check_array("collateral_usd", collateral_usd)
    s = _check_array("size", size)
    e = _check_array("entry_price", entry_price, low=0, low_open=True)
    mmf = _check_array("maintenance_margin_frac", maintenance_margin_frac, low=0, high=1,
                       high_open=True)
    denominator = s - np.abs(s) * mmf
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.where(s != 0, (s * e - c) / np.where(s != 0, denominator, 1.0), np.nan)
    return _result(np.asarray(price, dtype=np.float64))


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
    n = _check_array("notional_usd", notional_usd, low=0)
    lev = _check_array("max_leverage", max_leverage, low=1)
    return _result(n / lev / 2.0)


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
    p = _check_array("price", price, low=0, low_open=True)
    sd = _side(side)
    q = _check_array("position_size", position_size, low=0, low_open=True)
    ma = _check_array("margin_available", margin_available)
    lev = _check_array("maintenance_leverage", maintenance_leverage, low=1, low_open=True)
    return _result(p - sd * ma / q / (1.0 - sd / lev))


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
    q = _check_array("position_size", position_size, low=0)
    m = _check_array("mark_price", mark_price, low=0)
    r = _check_array("mmr", mmr, low=0, high=1, high_open=True)
    cum = _check_array("cum_maintenance_amount", cum_maintenance_amount, low=0)
    return _result(q * m * r - cum)


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
    wb = _check_array("wallet_balance", wallet_balance)
    sd = _side(side)
    q = _check_array("position_size", position_size, low=0, low_open=True)
    ep = _check_array("entry_price", entry_price, low=0, low_open=True)
    r = _check_array("mmr", mmr, low=0, high=1, high_open=True)
    cum = _check_array("cum_maintenance_amount", cum_maintenance_amount, low=0)
    tmm = _check_array("tmm_other", tmm_other)
    upnl = _check_array("upnl_other", upnl_other)
    return _result((wb - tmm + upnl + cum - sd * q * ep) / (q * r - sd * q))


# --------------------------------------------------------------------------- dYdX v4 exact


def _frac(name: str, value: RationalLike) -> Fraction:
    if isinstance(value, bool):
        raise ParameterError(name, value, "an exact number (Fraction, int or str)")
    try:
        return Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise ParameterError(name, value, "an exact number (Fraction, int or str)") from None


def _positions(
    sizes: Sequence[RationalLike], oracle_prices: Sequence[RationalLike],
    maintenance_fracs: Sequence[RationalLike],
) -> list[tuple[Fraction, Fraction, Fraction]]:
    if not len(sizes) == len(oracle_prices) == len(maintenance_fracs):
        raise ParameterError("oracle_prices", len(oracle_prices),
                             f"one price and one fraction per position ({len(sizes)})")
    out = []
    for s, p, m in zip(sizes, oracle_prices, maintenance_fracs, strict=True):
        price, mmf = _frac("oracle_prices", p), _frac("maintenance_fracs", m)
        if price <= 0:
            raise ParameterError("oracle_prices", p, "0 < x")
        if not 0 <= mmf <= 1:
            raise ParameterError("maintenance_fracs", m, "0 <= x <= 1")
        out.append((_frac("sizes", s), price, mmf))
    return out


def dydx_risk(
    usdc_balance: RationalLike, sizes: Sequence[RationalLike],
    oracle_prices: Sequence[RationalLike], maintenance_fracs: Sequence[RationalLike],
) -> tuple[Fraction, Fraction]:
    """Total net collateral and total maintenance margin requirement of a subaccount.

    Notes
    -----
    ``TNC = usdc + sum(size_i * oracle_i)``; ``TMMR = sum(|size_i| * oracle_i * mmf_i)``.

    References
    ----------
    dydxprotocol/v4-chain @84d4664 ``protocol/x/subaccounts``
    (``GetNetCollateralAndMarginRequirements``) and ``x/clob/keeper/liquidations.go``
    (``IsLiquidatable``).

    Examples
    --------
    >>> dydx_risk(-4501, ["1/10"], [50_000], ["1/10"])
    (Fraction(499, 1), Fraction(500, 1))
    """
    pos = _positions(sizes, oracle_prices, maintenance_fracs)
    tnc = _frac("usdc_balance", usdc_balance) + sum((s * p for s, p, _ in pos), Fraction(0))
    tmmr = sum((abs(s) * p * m for s, p, m in pos), Fraction(0))
    return tnc, tmmr


def dydx_is_liquidatable(
    usdc_balance: RationalLike, sizes: Sequence[RationalLike],
    oracle_prices: Sequence[RationalLike], maintenance_fracs: Sequence[RationalLike],
) -> bool:
    """``TMMR > 0 and TNC < TMMR`` (dYdX v4 ``IsLiquidatable``).

    Notes
    -----
    Liquidatable when total net collateral is below the maintenance requirement.

    References
    ----------
    dydxprotocol/v4-chain @84d4664 ``protocol/x/subaccounts``
    (``GetNetCollateralAndMarginRequirements``) and ``x/clob/keeper/liquidations.go``
    (``IsLiquidatable``).

    Examples
    --------
    >>> dydx_is_liquidatable(-4501, ["1/10"], [50_000], ["1/10"])
    True
    """
    tnc, tmmr = dydx_risk(usdc_balance, sizes, oracle_prices, maintenance_fracs)
    return tmmr > 0 and tnc < tmmr


def _liquidated(
    usdc_balance: RationalLike, sizes: Sequence[RationalLike],
    oracle_prices: Sequence[RationalLike], maintenance_fracs: Sequence[RationalLike],
    position_index: int,
) -> tuple[Fraction, Fraction, Fraction, Fraction, Fraction]:
    pos = _positions(sizes, oracle_prices, maintenance_fracs)
    if isinstance(position_index, bool) or not isinstance(position_index, int) \
            or not 0 <= position_index < len(pos):
        raise ParameterError("position_index", position_index, f"0 <= x < {len(pos)}")
    size, price, mmf = pos[position_index]
    if size == 0:
        raise ParameterError("sizes", str(size), "a non-zero size at position_index")
    tnc, tmmr = dydx_risk(usdc_balance, sizes, oracle_prices, maintenance_fracs)
    if tmmr <= 0:
        raise ParameterError("maintenance_fracs", list(maintenance_fracs),
                             "a positive total maintenance requirement")
    return size, price, mmf, tnc, tmmr


def _floor_to(value: Fraction, quantum: Fraction | None) -> Fraction:
    return value if quantum is None else math.floor(value / quantum) * quantum


def dydx_fillable_price(
    usdc_balance: RationalLike, sizes: Sequence[RationalLike],
    oracle_prices: Sequence[RationalLike], maintenance_fracs: Sequence[RationalLike],
    position_index: int, bankruptcy_adjustment: RationalLike = 1,
    spread_to_mmr: RationalLike = Fraction(1, 10),
) -> Fraction:
    """Worst price (USD per coin) a dYdX v4 liquidation order may fill at.

    Notes
    -----
    ``(PNNV - ABR * SMMR * PMMR) / PS`` with ``ABR = clamp(BA * (1 - TNC / TMMR), 0, 1)``;
    ``PS`` the position size, ``PNNV = PS * oracle``, ``PMMR = |PS| * oracle * mmf``.
    Defaults ``BA = 1`` (1,000,000 ppm) and ``SMMR = 0.1`` (100,000 ppm).

    References
    ----------
    dydxprotocol/v4-chain @84d4664 ``protocol/x/clob/keeper/liquidations.go``
    (``GetFillablePrice``) and ``liquidations_test.go`` (``TestGetFillablePrice``).

    Examples
    --------
    >>> dydx_fillable_price(-4501, ["1/10"], [50_000], ["1/10"], 0)
    Fraction(49999, 1)
    """
    size, price, mmf, tnc, tmmr = _liquidated(usdc_balance, sizes, oracle_prices,
                                              maintenance_fracs, position_index)
    ba = _frac("bankruptcy_adjustment", bankruptcy_adjustment)
    smmr = _frac("spread_to_mmr", spread_to_mmr)
    if ba < 0:
        raise ParameterError("bankruptcy_adjustment", bankruptcy_adjustment, "0 <= x")
    if smmr < 0:
        raise ParameterError("spread_to_mmr", spread_to_mmr, "0 <= x")
    abr = min(max(ba * (1 - tnc / tmmr), Fraction(0)), Fraction(1))
    return (size * price - abr * smmr * abs(size) * price * mmf) / size


def dydx_bankruptcy_quote(
    usdc_balance: RationalLike, sizes: Sequence[RationalLike],
    oracle_prices: Sequence[RationalLike], maintenance_fracs: Sequence[RationalLike],
    position_index: int, delta_size: RationalLike,
    quote_quantum: Fraction | None = QUOTE_QUANTUM_USD,
) -> Fraction:
    """Quote (USD) at the bankruptcy price for closing ``delta_size`` of a position.

    Positive: the least the account must receive for selling; negative: the most it may
    pay to buy back a short. Rounded toward ``+inf`` to a multiple of ``quote_quantum``
    (``None``: exact).

    Notes
    -----
    ``-DNNV - TNC * |DMMR| / TMMR`` with ``DNNV = delta * oracle`` and
    ``DMMR = (|PS + delta| - |PS|) * oracle * mmf``; the division is floored.

    References
    ----------
    dydxprotocol/v4-chain @84d4664 ``liquidations.go`` (``GetBankruptcyPriceInQuoteQuantums``).

    Examples
    --------
    >>> dydx_bankruptcy_quote(510, ["-1/250", "-1/10"], [50_000, 3_000], ["1/10"] * 2, 1,
    ...                       "1/10")
    Fraction(-306, 1)
    """
    size, price, mmf, tnc, tmmr = _liquidated(usdc_balance, sizes, oracle_prices,
                                              maintenance_fracs, position_index)
    delta = _frac("delta_size", delta_size)
    if delta * size >= 0 or abs(delta) > abs(size):
        raise ParameterError("delta_size", delta_size,
                             f"opposite sign to the position and |x| <= {abs(size)}")
    if quote_quantum is not None and quote_quantum <= 0:
        raise ParameterError("quote_quantum", quote_quantum, "0 < x or None")
    dnnv = delta * price
    dmmr = (abs(size + delta) - abs(size)) * price * mmf
    neg_dnnv = -_floor_to(dnnv, quote_quantum)
    return neg_dnnv - _floor_to(tnc * abs(dmmr) / tmmr, quote_quantum)


def dydx_insurance_fund_delta(
    usdc_balance: RationalLike, sizes: Sequence[RationalLike],
    oracle_prices: Sequence[RationalLike], maintenance_fracs: Sequence[RationalLike],
    position_index: int, fill_size: RationalLike, fill_price: RationalLike,
    max_liquidation_fee: RationalLike = Fraction(1, 200),
    quote_quantum: Fraction | None = QUOTE_QUANTUM_USD,
) -> Fraction:
    """Payment (USD) from the liquidated account to the insurance fund for one fill.

    Positive: the account pays a fee (capped at ``max_liquidation_fee * |notional|`` and
    at what is left above bankruptcy). Negative: the fund covers the shortfall.

    Notes
    -----
    ``d = quote_received - bankruptcy_quote``; ``d`` if ``d <= 0`` else
    ``min(|quote| * fee, d)``.

    References
    ----------
    dydxprotocol/v4-chain @84d4664 ``liquidations.go`` (``GetLiquidationInsuranceFundDelta``).

    Examples
    --------
    >>> dydx_insurance_fund_delta(-5100, ["1/10"], [50_000], ["1/10"], 0, "1/10", 56_100, 1)
    Fraction(510, 1)
    """
    size = _liquidated(usdc_balance, sizes, oracle_prices, maintenance_fracs, position_index)[0]
    amount, px = _frac("fill_size", fill_size), _frac("fill_price", fill_price)
    if amount <= 0:
        raise ParameterError("fill_size", fill_size, "0 < x <= |position size|")
    if px <= 0:
        raise ParameterError("fill_price", fill_price, "0 < x")
    fee = _frac("max_liquidation_fee", max_liquidation_fee)
    if not 0 <= fee <= 1:
        raise ParameterError("max_liquidation_fee", max_liquidation_fee, "0 <= x <= 1")
    is_buy = size < 0
    quote_abs = _floor_to(amount * px, quote_quantum)
    delta_quote = -quote_abs if is_buy else quote_abs
    bankrupt = dydx_bankruptcy_quote(usdc_balance, sizes, oracle_prices, maintenance_fracs,
                                     position_index, amount if is_buy else -amount,
                                     quote_quantum)
    delta = delta_quote - bankrupt
    if delta <= 0:
        return delta
    return min(_floor_to(quote_abs * fee, quote_quantum), delta)
