"""dYdX v4 liquidation arithmetic, exact: subaccount risk, fillable price, bankruptcy quote.

The chain's ``x/clob`` liquidation maths computed exactly with :class:`fractions.Fraction`
in USD: total net collateral and maintenance requirement, the liquidation check, the worst
fillable price, the quote at the bankruptcy price and the insurance-fund delta of a fill.
``quote_quantum`` is dYdX's $1e-6 quote quantum (``None`` for exact results). The float
margining the engine uses is in :mod:`contagion.mechanics.perp`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from contagion.errors import ParameterError

__all__ = [
    "RationalLike",
    "dydx_bankruptcy_quote",
    "dydx_fillable_price",
    "dydx_insurance_fund_delta",
    "dydx_is_liquidatable",
    "dydx_risk",
]

RationalLike = Fraction | int | str
"""An exact number: a Fraction, an int or a string such as ``"1/10"`` or ``"0.005"``."""

QUOTE_QUANTUM_USD = Fraction(1, 10**6)


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
