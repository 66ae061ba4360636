"""Perpetual-futures funding: premium index, clamped and capped funding rate, payments.

A perpetual future has no expiry; what ties its price to the spot index is *funding*, a
periodic transfer between longs and shorts. When the perp trades above its index (a
premium), the funding rate is positive and longs pay shorts; below it, shorts pay longs.
The exchanges quote the rate per funding period (8 hours at Binance, BitMEX and dYdX v4)
and many pay it in slices (dYdX v4 and Hyperliquid hourly, 1/8 of the 8-hour rate), so the
functions here are per period, with :func:`prorated_rate` converting to the model's step.

Functions are vectorised (NumPy broadcasting); ``rate`` and ``premium`` are fractions
(``0.0001`` = 0.01%).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from contagion.errors import ParameterError
from contagion.validation import check_array, scalar_or_array

__all__ = [
    "capped_funding_rate",
    "funding_cap_from_margins",
    "funding_payment_usd",
    "funding_rate",
    "imbalance_premium",
    "impact_margin_notional",
    "premium_index",
    "prorated_rate",
]

#: Binance's interest rate component: 0.03% a day, 0.01% per 8-hour funding interval.
BINANCE_INTEREST_RATE_FRAC = 0.0001
#: The ``clamp`` of ``F = P + clamp(I - P, -0.05%, 0.05%)`` (Binance, BitMEX).
FUNDING_CLAMP_FRAC = 0.0005
#: dYdX v4's ``DefaultFundingRateClampFactorPpm`` (600%): ``|F| <= 6 (IMF - MMF)``.
DYDX_FUNDING_CLAMP_FACTOR = 6.0


def premium_index(impact_bid: ArrayLike, impact_ask: ArrayLike,
                  index_price: ArrayLike) -> float | NDArray[np.float64]:
    """Premium of the perp's book over its index, from the impact bid and ask.

    Notes
    -----
    ``P = (max(0, impact_bid - index) - max(0, index - impact_ask)) / index``: positive
    when even selling the impact notional fetches more than the index, negative when
    buying it costs less, zero while the index lies between the impact prices. The impact
    bid (ask) is the average fill of a market sell (buy) of the impact notional
    (:func:`impact_margin_notional`).

    References
    ----------
    Binance, "Introduction to Binance Futures Funding Rates" (premium index); dYdX v4,
    ``protocol/x/clob/memclob/memclob.go`` ``GetPricePremium`` (dydxprotocol/v4-chain
    commit 84d4664bae71e3a077adaac67fb77ad19cd28d30), the same equation.

    Examples
    --------
    >>> premium_index([101.0, 99.5, 98.0], [102.0, 100.5, 99.0], 100.0).tolist()
    [0.01, 0.0, -0.01]
    """
    bid = check_array("impact_bid", impact_bid, low=0)
    ask = check_array("impact_ask", impact_ask, low=0)
    index = check_array("index_price", index_price, low=0, low_open=True)
    return scalar_or_array((np.maximum(0.0, bid - index) - np.maximum(0.0, index - ask)) / index)


def impact_margin_notional(initial_margin_frac: ArrayLike, margin_usd: float = 200.0
                           ) -> float | NDArray[np.float64]:
    """Binance's impact margin notional: the position ``margin_usd`` opens at max leverage.

    Notes
    -----
    ``IMN = 200 USDT / initial margin ratio`` (USDⓈ-M contracts).

    References
    ----------
    Binance, "Introduction to Binance Futures Funding Rates": BNBUSDT at 20x (IMR 5%) has
    an IMN of 4,000 USDT.

    Examples
    --------
    >>> round(impact_margin_notional(0.05), 9)
    4000.0
    """
    imr = check_array("initial_margin_frac", initial_margin_frac, low=0, high=1, low_open=True)
    return scalar_or_array(margin_usd / imr)


def funding_rate(premium: ArrayLike, interest_rate_frac: ArrayLike = BINANCE_INTEREST_RATE_FRAC,
                 clamp_frac: ArrayLike = FUNDING_CLAMP_FRAC) -> float | NDArray[np.float64]:
    """Funding rate of one period from its average premium index (before the cap).

    Notes
    -----
    ``F = P + clamp(I - P, -c, c)`` with ``P`` the premium index averaged over the funding
    period, ``I`` the interest rate component and ``c = 0.05%``: while the premium lies
    within ``c`` of the interest rate, the funding rate *is* the interest rate (0.01% per
    8 hours at Binance); beyond, it follows the premium, offset by ``c``.

    References
    ----------
    Binance, "Introduction to Binance Futures Funding Rates"; BitMEX, "Perpetual Contracts
    Guide" (funding rate ``F = P + clamp(I - P, 0.05%, -0.05%)``).

    Examples
    --------
    Premiums of -0.04%, 0.06% (within 0.05% of I = 0.01%) and 0.2%, -0.3% (beyond it):

    >>> [round(f, 8) for f in funding_rate([-0.0004, 0.0006, 0.002, -0.003]).tolist()]
    [0.0001, 0.0001, 0.0015, -0.0025]
    """
    p = check_array("premium", premium)
    i = check_array("interest_rate_frac", interest_rate_frac)
    c = check_array("clamp_frac", clamp_frac, low=0)
    return scalar_or_array(p + np.clip(i - p, -c, c))


def capped_funding_rate(rate: ArrayLike, cap_frac: ArrayLike) -> float | NDArray[np.float64]:
    """The funding rate held within ``[-cap, cap]`` per period.

    Notes
    -----
    ``clamp(F, -cap, cap)``. dYdX v4 derives its cap from the margins
    (:func:`funding_cap_from_margins`); Binance and BitMEX publish one per contract.

    References
    ----------
    dYdX v4, ``protocol/x/perpetuals/keeper/perpetual.go`` ``MaybeProcessNewFundingTickEpoch``
    (``lib.BigIntClamp(rate, -bound, bound)``, commit 84d4664b).

    Examples
    --------
    >>> capped_funding_rate([0.01, -0.02, 0.001], 0.0075).tolist()
    [0.0075, -0.0075, 0.001]
    """
    f = check_array("rate", rate)
    cap = check_array("cap_frac", cap_frac, low=0)
    return scalar_or_array(np.clip(f, -cap, cap))


def funding_cap_from_margins(initial_margin_frac: ArrayLike, maintenance_margin_frac: ArrayLike,
                             clamp_factor: ArrayLike = DYDX_FUNDING_CLAMP_FACTOR
                             ) -> float | NDArray[np.float64]:
    """dYdX v4's bound on the 8-hour funding rate: ``clamp_factor * (IMF - MMF)``.

    References
    ----------
    dYdX v4, ``protocol/x/perpetuals/types/liquidity_tier.go`` ``GetMaxAbsFundingClampPpm``
    and its test ``TestLiquidityTierGetMaxAbsFundingClampPpm`` (commit 84d4664b); default
    factor 600% (``DefaultFundingRateClampFactorPpm``, ``types/genesis.go``).

    Examples
    --------
    IMF 15%, MMF 80% of it (12%):

    >>> round(funding_cap_from_margins(0.15, 0.12), 12)
    0.18
    """
    imf = check_array("initial_margin_frac", initial_margin_frac, low=0, high=1)
    mmf = check_array("maintenance_margin_frac", maintenance_margin_frac, low=0, high=1)
    k = check_array("clamp_factor", clamp_factor, low=0)
    return scalar_or_array(k * np.maximum(imf - mmf, 0.0))


def prorated_rate(rate: ArrayLike, elapsed_minutes: ArrayLike, period_hours: float = 8.0
                  ) -> float | NDArray[np.float64]:
    """The part of a per-period funding rate due after ``elapsed_minutes``.

    Notes
    -----
    ``rate * elapsed / period``: dYdX v4 quotes an 8-hour rate and pays it every hour
    pro rata (``GetFundingIndexDelta``: ``rate * time / (8 * 3600 s) * price``), as does
    Hyperliquid.

    References
    ----------
    dYdX v4, ``protocol/x/perpetuals/funding/funding.go`` ``GetFundingIndexDelta`` and
    ``funding_test.go`` (commit 84d4664b).

    Examples
    --------
    An hour of an 8-hour rate of 0.08%:

    >>> round(prorated_rate(0.0008, 60.0), 12)
    0.0001
    """
    f = check_array("rate", rate)
    t = check_array("elapsed_minutes", elapsed_minutes, low=0)
    if not period_hours > 0:
        raise ParameterError("period_hours", period_hours, "> 0")
    return scalar_or_array(f * t / (60.0 * period_hours))


def funding_payment_usd(size: ArrayLike, mark_price: ArrayLike, rate: ArrayLike
                        ) -> float | NDArray[np.float64]:
    """What each position pays (``> 0``) or receives (``< 0``) at a funding time.

    Notes
    -----
    ``payment = size * mark * rate``, ``size`` signed (``+`` long): with a positive rate
    longs pay and shorts receive; over a book whose sizes sum to zero the payments do too.

    References
    ----------
    Binance, "Introduction to Binance Futures Funding Rates" (funding amount = nominal
    value of positions x funding rate, nominal value = mark price x size).

    Examples
    --------
    >>> funding_payment_usd([2.0, -2.0], 30_000.0, 0.0001).tolist()
    [6.0, -6.0]
    """
    s = check_array("size", size)
    m = check_array("mark_price", mark_price, low=0)
    f = check_array("rate", rate)
    return scalar_or_array(s * m * f)


def imbalance_premium(net_long_usd: ArrayLike, depth_usd: ArrayLike, *,
                      sensitivity: ArrayLike = 1.0, max_frac: ArrayLike = 0.05
                      ) -> float | NDArray[np.float64]:
    """The model's premium of a perp over its index, from its crowded side.

    Notes
    -----
    ``P = clip(k * N / D, -max, max)``: ``N`` is the traders' net long notional (what the
    outside market makers, who hold the other side, must carry), ``D`` the market's
    order-book depth (the dollars that move its price 100%, the engine's linear impact
    ``Market.impact``; ``inf``: unlimited, no premium) and ``k`` a sensitivity. It is the
    price impact of the crowded side's net demand: the impact bid of a book whose long side
    is crowded sits above the index by that impact, so the premium index
    (:func:`premium_index`) is positive and grows with the imbalance against the depth. He,
    Manela, Ross and von Wachter (2022) show that with trading costs a perp can sit anywhere
    within no-arbitrage bounds around its index, and that crypto perps deviate far more than
    currency forwards do; where it sits within them is set here by demand priced at the
    book's linear impact, an assumption of this engine, not their estimate.

    References
    ----------
    He, S., Manela, A., Ross, O., von Wachter, V. (2022), "Fundamentals of Perpetual
    Futures", arXiv:2212.06888.

    Examples
    --------
    >>> imbalance_premium([2e6, -1e8, 0.0], 1e9).tolist()
    [0.002, -0.05, 0.0]
    >>> imbalance_premium(2e6, float("inf"))  # an unlimited book absorbs any imbalance
    0.0
    """
    n = check_array("net_long_usd", net_long_usd)
    d = check_array("depth_usd", depth_usd, low=0, low_open=True, allow_inf=True)
    k = check_array("sensitivity", sensitivity, low=0)
    cap = check_array("max_frac", max_frac, low=0)
    return scalar_or_array(np.clip(k * n / d, -cap, cap))
