"""Algorithmic-stablecoin mechanics: mint/burn arbitrage through two pools, and a run on it.

Terra's market module let anyone swap one UST for one dollar of newly minted LUNA at the
oracle price (and back), less a spread. When UST trades below $1 on an exchange,
arbitrageurs buy it there, burn it for LUNA and sell the LUNA: UST supply contracts,
LUNA supply expands and LUNA's price falls, which is the reflexive loop.
:func:`conversion_arbitrage` is the profit-maximising size of that round trip between two
Uniswap-V2 pools (buy X in one pool, convert X to Y at a fixed rate, sell Y in the other).

The run side: holders of a yield venue's deposits (Anchor) leave when the depeg crosses a
threshold that is lower for larger, more sophisticated holders (:func:`exit_thresholds`);
those who sell together in one step each get the price of their place in the queue
(:func:`queue_sale_proceeds`).

All functions are pure: numbers in, numbers out; randomness is passed in.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from contagion.mechanics.amm import swap_in, swap_out
from contagion.validation import check_array, check_int, check_real

__all__ = [
    "ConversionTrade",
    "burn_rate",
    "conversion_arbitrage",
    "exit_thresholds",
    "heavy_tailed_sizes",
    "mint_rate",
    "queue_sale_proceeds",
]


class ConversionTrade(NamedTuple):
    """One arbitrage round trip through two pools and a protocol conversion.

    ``bought_units`` of X come out of the buy pool for ``paid_usd``; they convert into
    ``converted_units`` of Y, sold into the sell pool for ``received_usd``.
    """

    bought_units: float
    paid_usd: float
    converted_units: float
    received_usd: float

    @property
    def profit_usd(self) -> float:
        """What the arbitrageur keeps."""
        return self.received_usd - self.paid_usd


NO_TRADE = ConversionTrade(0.0, 0.0, 0.0, 0.0)


def burn_rate(token_price_usd: float, spread_frac: float) -> float:
    """Token units minted for burning one stablecoin unit (redeemed at $1).

    Notes
    -----
    ``rate = (1 - spread) / p_token``: the protocol pays one dollar of token at its oracle
    price, less the spread (Terra's ``MinStabilitySpread``, 0.5%).

    References
    ----------
    Terra docs, market module specification ("always trade 1 USD of Terra for 1 USD of
    Luna"; ``MinSpread`` default 0.5%), terra-money/docs
    ``docs/develop/module-specifications/spec-market.md``.

    Examples
    --------
    >>> burn_rate(80.0, 0.005)
    0.0124375
    """
    p = check_real("token_price_usd", token_price_usd, low=0, low_open=True)
    s = check_real("spread_frac", spread_frac, low=0, high=1, high_open=True)
    return (1.0 - s) / p


def mint_rate(token_price_usd: float, spread_frac: float) -> float:
    """Stablecoin units minted for burning one token unit (the expansion direction).

    Notes
    -----
    ``rate = p_token (1 - spread)``.

    Examples
    --------
    >>> mint_rate(80.0, 0.005)
    79.6
    """
    p = check_real("token_price_usd", token_price_usd, low=0, low_open=True)
    s = check_real("spread_frac", spread_frac, low=0, high=1, high_open=True)
    return p * (1.0 - s)


def conversion_arbitrage(
    buy_reserve_base: float, buy_reserve_quote: float,
    sell_reserve_base: float, sell_reserve_quote: float,
    rate: float, *, buy_fee_frac: float = 0.003, sell_fee_frac: float = 0.003,
    max_units: float = math.inf,
) -> ConversionTrade:
    """The profit-maximising trade: buy X in one pool, convert it, sell Y in another.

    Parameters
    ----------
    buy_reserve_base, buy_reserve_quote : float
        Reserves of the X/USD pool the arbitrageur buys X from, ``> 0``.
    sell_reserve_base, sell_reserve_quote : float
        Reserves of the Y/USD pool it sells Y into, ``> 0``.
    rate : float
        Units of Y the protocol gives for one unit of X (see :func:`burn_rate`), ``> 0``.
    buy_fee_frac, sell_fee_frac : float
        The pools' fees, ``0 <= f < 1``.
    max_units : float, default inf
        The protocol's capacity: at most this many units of X converted, ``>= 0``.

    Returns
    -------
    ConversionTrade
        All zeros when the round trip does not pay (or the capacity is 0).

    Notes
    -----
    With ``g1 = 1 - buy_fee``, ``g2 = 1 - sell_fee``, buy-pool reserves ``(R1, Q1)`` and
    sell-pool reserves ``(R2, Q2)``: buying ``x`` costs ``c(x) = Q1 x / (g1 (R1 - x))``,
    selling ``y = k x`` returns ``r(y) = g2 y Q2 / (R2 + g2 y)``. The profit ``r(kx) - c(x)``
    is concave; its first-order condition ``k r'(kx) = c'(x)`` gives

    ``x* = (A R1 - B R2) / (A + B g2 k)``, ``A = sqrt(g1 g2 k Q2 R2)``, ``B = sqrt(Q1 R1)``,

    positive exactly when ``g1 g2 k (Q2/R2) > Q1/R1``: the converted value at the sell
    pool's spot beats the buy pool's spot by more than the two fees. Capping ``x`` at
    ``max_units`` keeps the trade profitable (concavity). After an uncapped trade the
    marginal round trip earns nothing (the buy pool's spot is then about ``g1 g2 k``
    times the sell pool's).

    Examples
    --------
    UST at 0.95 in a 1M-unit pool, LUNA at $80 in a pool of 20,000 LUNA, LUNA oracle $80
    and Terra's 0.5% spread:

    >>> t = conversion_arbitrage(1e6, 9.5e5, 2e4, 1.6e6, burn_rate(80.0, 0.005))
    >>> round(t.bought_units), round(t.profit_usd)
    (12400, 243)
    >>> conversion_arbitrage(1e6, 9.5e5, 2e4, 1.6e6, burn_rate(80.0, 0.005), max_units=0.0)
    ConversionTrade(bought_units=0.0, paid_usd=0.0, converted_units=0.0, received_usd=0.0)
    """
    r1 = check_real("buy_reserve_base", buy_reserve_base, low=0, low_open=True)
    q1 = check_real("buy_reserve_quote", buy_reserve_quote, low=0, low_open=True)
    r2 = check_real("sell_reserve_base", sell_reserve_base, low=0, low_open=True)
    q2 = check_real("sell_reserve_quote", sell_reserve_quote, low=0, low_open=True)
    k = check_real("rate", rate, low=0, low_open=True)
    g1 = 1.0 - check_real("buy_fee_frac", buy_fee_frac, low=0, high=1, high_open=True)
    g2 = 1.0 - check_real("sell_fee_frac", sell_fee_frac, low=0, high=1, high_open=True)
    cap = check_real("max_units", max_units, low=0, allow_inf=True)
    a = math.sqrt(g1 * g2 * k * q2 * r2)
    b = math.sqrt(q1 * r1)
    x = min((a * r1 - b * r2) / (a + b * g2 * k), cap)
    if not x > 0.0:
        return NO_TRADE
    paid = float(swap_in(x, q1, r1, 1.0 - g1))
    y = k * x
    received = float(swap_out(y, r2, q2, 1.0 - g2))
    if not received > paid:  # rounding at the margin: nothing to earn
        return NO_TRADE
    return ConversionTrade(x, paid, y, received)


def queue_sale_proceeds(units: ArrayLike, reserve_base: float, reserve_quote: float,
                        fee_frac: float = 0.003) -> NDArray[np.float64]:
    """What each seller gets when they sell into one pool one after another, in order.

    Parameters
    ----------
    units : array_like
        Units each seller sells, in queue order, ``>= 0``.
    reserve_base, reserve_quote : float
        The pool's reserves before the first sale, ``> 0``.
    fee_frac : float
        The pool's fee.

    Returns
    -------
    ndarray
        Quote each seller receives. The entries sum to the output of selling the total at
        once (the pool ends in the same state as after one combined swap).

    Notes
    -----
    Seller ``i`` gets ``swap_out(C_i) - swap_out(C_{i-1})`` with ``C_i`` the cumulative
    units up to ``i``: their slice of the one combined constant-product swap, so earlier
    sellers get better prices.

    Examples
    --------
    >>> queue_sale_proceeds([100.0, 100.0], 1000.0, 1000.0, fee_frac=0.0).round(2).tolist()
    [90.91, 75.76]
    """
    u = check_array("units", units, low=0, ndim=1)
    check_real("reserve_base", reserve_base, low=0, low_open=True)
    check_real("reserve_quote", reserve_quote, low=0, low_open=True)
    out = np.asarray(swap_out(np.cumsum(u), reserve_base, reserve_quote, fee_frac),
                     dtype=np.float64)
    return np.diff(out, prepend=0.0)


def exit_thresholds(sizes: ArrayLike, low_frac: float, high_frac: float, *,
                    ordered: bool, rng: np.random.Generator) -> NDArray[np.float64]:
    """The depeg at which each holder leaves: lowest for the largest if ``ordered``.

    Parameters
    ----------
    sizes : array_like
        Holdings, ``>= 0``.
    low_frac, high_frac : float
        Thresholds of the first and the last holder to leave, ``0 < low <= high <= 1``.
    ordered : bool
        ``True``: sophistication-ordered, holders queue by size, largest first.
        ``False``: they queue in a random order (size tells nothing).
    rng : numpy.random.Generator
        Used only when ``ordered`` is false.

    Notes
    -----
    Holders queue (by size, descending, ties by position; or at random) and holder ``i``'s
    threshold is ``low * (high / low) ** (H_i / H)``, where ``H_i`` is what the holders
    ahead of it hold and ``H`` what all but the last hold: the first leaves at ``low``, the
    last at ``high``, and the money leaving is spread evenly over the log of the depeg (as
    much leaves between a 1% and 2% depeg as between 20% and 40%), whatever the size
    distribution. Liu, Makarov and Schoar (NBER w31160) find that the wealthiest, most
    sophisticated UST holders ran first, in the first days of the depeg.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> exit_thresholds([5.0, 100.0, 20.0], 0.01, 0.5, ordered=True, rng=rng).round(4).tolist()
    [0.5, 0.01, 0.2605]
    """
    s = check_array("sizes", sizes, low=0, ndim=1)
    lo = check_real("low_frac", low_frac, low=0, high=1, low_open=True)
    hi = check_real("high_frac", high_frac, low=lo, high=1)
    m = s.size
    if m == 0:
        return np.empty(0)
    order = np.argsort(-s, kind="stable") if ordered else rng.permutation(m)
    ahead = np.concatenate([[0.0], np.cumsum(s[order])[:-1]])
    span = ahead[-1] if ahead[-1] > 0 else 1.0
    rank = np.empty(m)
    rank[order] = ahead / span
    return lo * (hi / lo) ** rank


def heavy_tailed_sizes(n: int, total: float, tail_alpha: float,
                       rng: np.random.Generator) -> NDArray[np.float64]:
    """``n`` Pareto-distributed holdings (tail index ``tail_alpha``) that sum to ``total``.

    Notes
    -----
    ``size_i ∝ 1 + Lomax(alpha)``, i.e. Pareto with scale 1: ``P(S > s) = s**-alpha``;
    ``alpha`` near 1 puts most of the total in a few hands (alpha = 1.16 is the 80/20 rule).

    Examples
    --------
    >>> s = heavy_tailed_sizes(1000, 1e6, 1.2, np.random.default_rng(1))
    >>> round(float(s.sum())), bool(np.sort(s)[-100:].sum() > 0.4 * s.sum())
    (1000000, True)
    >>> s = heavy_tailed_sizes(1000, 1e6, 0.001, np.random.default_rng(1))  # overflows
    >>> round(float(s.sum())), int((s > 0).sum()), bool(np.isfinite(s).all())
    (1000000, 487, True)
    """
    m = check_int("n", n, low=1)
    t = check_real("total", total, low=0)
    alpha = check_real("tail_alpha", tail_alpha, low=0, high=100, low_open=True)
    with np.errstate(over="ignore"):
        w = 1.0 + rng.pareto(alpha, size=m)
        total_w = w.sum()
    if not np.isfinite(total_w):
        # so small an alpha that some draws overflow a float: next to those, every finite
        # holding is nil (below 1e-300 of one), so the overflowing holders share the total
        w = np.isinf(w).astype(np.float64)
        total_w = w.sum()
    return w * (t / total_w)
