"""Collateral quality: haircuts, thresholds and caps from the liquidity that liquidates.

A lending venue's liquidation threshold is safe only if the collateral it seizes can be
sold for the debt it repays. Risk teams size the threshold, the bonus and the caps from
the depth a liquidator sells into: Chaos Labs' supply-cap methodology asks for "the maximum
amount that can be liquidated while keeping the slippage below the Liquidation Penalty",
and Notional's listing framework for a cap such that "the protocol could liquidate an
account holding a large portion of the Supply Cap as collateral (ex: 25% or 50%) ...
without incurring slippage above the asset's liquidation discount".

This module has the pure maths, in the engine's two price-impact models:

* a Uniswap V2 pool (``out = y g q / (x + g q)``, ``g = 1 - fee``; also a V3 pool inside
  its current range, through its virtual reserves);
* the external market's log-linear impact ``p -> p exp(-q r / depth)`` (proceeds
  ``depth (1 - exp(-q r / depth))`` for a sale of notional ``q r``;
  :meth:`contagion.agents.market.Market.sell`).

*Slippage* is the average fill's shortfall from the price before the sale,
``1 - proceeds / (units * price)``, what an aggregator quotes and what a liquidator loses
against the oracle price at which the bonus was computed.

The liquidity-adjusted threshold (:func:`liquidity_adjusted_threshold`): a position
liquidated at HF = 1 owes ``D = LT * C`` (``C`` its collateral at the oracle); the keeper
seizes ``D (1 + bonus)`` of collateral and sells it after a further fall ``v`` (the
volatility margin over the liquidation's latency) with slippage ``s``. The sale covers the
debt and the bonus iff ``C (1 - v)(1 - s) >= D (1 + bonus)``, so
``LT <= (1 - v)(1 - s) / (1 + bonus)``; to first order ``1 - (v + s + bonus)``. With
``v = s = 0`` it is the engine's own bound ``LT (1 + bonus) < 1``
(:class:`contagion.params.CollateralParams`).

References
----------
Chaos Labs, "Aave V3 Supply Cap Methodology" (2022) and "Updated Supply and Borrow Cap
Methodology" (2023), https://governance.aave.com/t/chaos-labs-aave-v3-supply-cap-methodology/11141
and https://governance.aave.com/t/chaos-labs-updated-supply-and-borrow-cap-methodology/11602 .
Notional, "Collateral onboarding framework: Supply Cap",
https://docs.notional.finance/collateral-onboarding-framework/ , page
``listing-parameters-selection-methodology/asset-onboarding-models/supply-cap``.
Uniswap/v2-periphery ``UniswapV2Library.getAmountOut`` (the pool's output).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import lambertw

from contagion.errors import ParameterError
from contagion.validation import check_real

__all__ = [
    "liquidity_adjusted_threshold",
    "market_max_sale_usd",
    "market_sale_slippage",
    "pool_max_sale_units",
    "pool_sale_slippage",
    "split_sale_slippage",
    "supply_cap_from_liquidity",
]


def pool_sale_slippage(units: ArrayLike, reserve_base: float, fee_frac: float = 0.003
                       ) -> float | NDArray[np.float64]:
    """Average slippage of selling ``units`` of the base into a V2 pool.

    Notes
    -----
    With ``g = 1 - fee_frac`` the sale returns ``y g q / (x + g q)`` against ``q y / x`` at
    the spot, so ``s = 1 - g x / (x + g q)``; ``s = fee_frac`` for a vanishing sale. The
    quote reserve cancels out.

    Examples
    --------
    >>> round(float(pool_sale_slippage(100.0, 1000.0, 0.0)), 6)  # a tenth of the pool
    0.090909
    """
    x = check_real("reserve_base", reserve_base, low=0, low_open=True)
    f = check_real("fee_frac", fee_frac, low=0, high=1, high_open=True)
    q = np.asarray(units, dtype=np.float64)
    if np.any(q < 0) or not np.all(np.isfinite(q)):
        raise ParameterError("units", units, "finite and >= 0")
    g = 1.0 - f
    out = 1.0 - g * x / (x + g * q)
    return float(out) if out.ndim == 0 else out


def pool_max_sale_units(reserve_base: float, slippage_frac: float, fee_frac: float = 0.003
                        ) -> float:
    """The largest sale into a V2 pool whose average slippage stays within ``slippage_frac``.

    Notes
    -----
    Solving :func:`pool_sale_slippage` ``= s`` for ``q``:
    ``q = x (s - f) / ((1 - s)(1 - f))``, and 0 when ``s <= f`` (the fee alone is more).

    Examples
    --------
    >>> round(pool_max_sale_units(1000.0, 0.05, 0.0), 4)  # 5% slippage: 5.26% of the pool
    52.6316
    """
    x = check_real("reserve_base", reserve_base, low=0, low_open=True)
    s = check_real("slippage_frac", slippage_frac, low=0, high=1, high_open=True)
    f = check_real("fee_frac", fee_frac, low=0, high=1, high_open=True)
    if s <= f:
        return 0.0
    return x * (s - f) / ((1.0 - s) * (1.0 - f))


def market_sale_slippage(notional_usd: ArrayLike, depth_usd: float
                         ) -> float | NDArray[np.float64]:
    """Average slippage of selling ``notional_usd`` (units x reference price) into a market
    whose price falls by ``exp(-notional / depth)``.

    Notes
    -----
    Proceeds are ``depth (1 - exp(-z))`` with ``z = notional / depth``, so
    ``s = 1 - (1 - exp(-z)) / z`` (``z / 2`` for a small sale). ``depth = inf``: no
    slippage.

    Examples
    --------
    >>> round(float(market_sale_slippage(1e6, 1e7)), 6)  # a tenth of the depth
    0.048374
    """
    d = check_real("depth_usd", depth_usd, low=0, low_open=True, allow_inf=True)
    z = np.asarray(notional_usd, dtype=np.float64)
    if np.any(z < 0) or not np.all(np.isfinite(z)):
        raise ParameterError("notional_usd", notional_usd, "finite and >= 0")
    if math.isinf(d):
        out = np.zeros_like(z)
    else:
        z = z / d
        safe = np.where(z > 0, z, 1.0)
        out = np.where(z > 1e-8, 1.0 + np.expm1(-safe) / safe, z / 2.0)
    return float(out) if out.ndim == 0 else out


def market_max_sale_usd(depth_usd: float, slippage_frac: float) -> float:
    """The largest notional sold into the log-linear market within ``slippage_frac``.

    Notes
    -----
    With ``y = 1 - s``, ``(1 - exp(-z)) / z = y`` has the root ``z = 0`` and
    ``z = 1 / y + W0(-exp(-1 / y) / y)`` (Lambert's W, principal branch, polished by
    Newton steps); the sale is ``z depth``. ``depth = inf``: unlimited.

    Examples
    --------
    >>> z = market_max_sale_usd(1.0, 0.05)
    >>> round(z, 6), round(float(market_sale_slippage(z, 1.0)), 9)
    (0.103479, 0.05)
    """
    d = check_real("depth_usd", depth_usd, low=0, low_open=True, allow_inf=True)
    s = check_real("slippage_frac", slippage_frac, low=0, high=1, high_open=True)
    if s == 0.0:
        return 0.0
    if math.isinf(d):
        return math.inf
    y = 1.0 - s
    z = 1.0 / y + float(np.real(lambertw(-math.exp(-1.0 / y) / y, 0)))
    z = max(z, 2.0 * s)  # W0 loses digits near its branch point (small s): refine
    for _ in range(4):  # Newton on (1 - exp(-z)) / z = y
        g = -math.expm1(-z) / z
        dg = (math.expm1(-z) * (z + 1.0) + z) / (z * z)
        z -= (g - y) / dg
    return z * d


def split_sale_slippage(units: float, reserve_base: float, fee_frac: float, depth_usd: float,
                        ref_price_usd: float) -> float:
    """Slippage of selling ``units`` split between a V2 pool and the external market so
    that both fill at the same average slippage (an aggregator's split; the pool's part is
    :func:`pool_max_sale_units`, the market's :func:`market_max_sale_usd` over
    ``ref_price_usd``).

    Notes
    -----
    The sales each venue can take within ``s`` grow with ``s``; the split's slippage is the
    ``s`` at which together they take ``units`` (bisection to 1e-12). Risk teams count DEX
    and CEX liquidity together (Gauntlet's inputs: "DEX / CEX liquidity, ... expected market
    impact of trades").

    Examples
    --------
    >>> s = split_sale_slippage(100.0, 1000.0, 0.0, 1e6, 1000.0)
    >>> part = pool_max_sale_units(1000.0, s, 0.0) + market_max_sale_usd(1e6, s) / 1000.0
    >>> round(part, 6), round(s, 6)
    (100.0, 0.032488)
    """
    q = check_real("units", units, low=0)
    check_real("ref_price_usd", ref_price_usd, low=0, low_open=True)
    d = check_real("depth_usd", depth_usd, low=0, low_open=True, allow_inf=True)
    if q == 0.0 or math.isinf(d):
        return 0.0

    def taken(s: float) -> float:
        return pool_max_sale_units(reserve_base, s, fee_frac) + market_max_sale_usd(d, s) / ref_price_usd

    lo, hi = 0.0, 1.0 - 1e-12
    if taken(hi) < q:
        return hi
    while hi - lo > 1e-12:
        mid = 0.5 * (lo + hi)
        if taken(mid) >= q:
            hi = mid
        else:
            lo = mid
    return hi


def liquidity_adjusted_threshold(slippage_frac: ArrayLike, bonus_frac: ArrayLike,
                                 volatility_margin_frac: ArrayLike = 0.0
                                 ) -> float | NDArray[np.float64]:
    """The highest liquidation threshold at which a liquidation at HF = 1 still covers the
    debt and the keeper's bonus after the price falls ``volatility_margin_frac`` and the
    seized collateral sells at ``slippage_frac``.

    Notes
    -----
    ``LT = (1 - v)(1 - s) / (1 + bonus)``, to first order ``1 - (v + s + bonus)`` (see the
    module docstring). Its haircut is ``1 - LT``.

    Examples
    --------
    >>> round(float(liquidity_adjusted_threshold(0.02, 0.05, 0.08)), 6)
    0.858667
    """
    s = np.asarray(slippage_frac, dtype=np.float64)
    b = np.asarray(bonus_frac, dtype=np.float64)
    v = np.asarray(volatility_margin_frac, dtype=np.float64)
    for name, arr, high in (("slippage_frac", s, 1.0), ("bonus_frac", b, math.inf),
                            ("volatility_margin_frac", v, 1.0)):
        if np.any(~np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > high):
            raise ParameterError(name, arr.tolist(), f"finite, in [0, {high:g}]")
    out = (1.0 - v) * (1.0 - s) / (1.0 + b)
    return float(out) if out.ndim == 0 else out


def supply_cap_from_liquidity(max_sale_units: float, stress_sale_frac: float) -> float:
    """Notional's cap: the supply of which a stress sale of ``stress_sale_frac`` can be
    liquidated within the liquidation bonus's slippage (``max_sale_units``, from
    :func:`pool_max_sale_units` or :func:`market_max_sale_usd` at ``s = bonus``).

    Notes
    -----
    ``cap = max_sale / stress_sale_frac``: Notional asks that an account holding 25% or 50%
    of the cap be liquidated "without incurring slippage above the asset's liquidation
    discount" (and Chaos Labs requires 90% of the extreme-scenario liquidations at once).

    Examples
    --------
    >>> supply_cap_from_liquidity(50.0, 0.5)
    100.0
    """
    m = check_real("max_sale_units", max_sale_units, low=0, allow_inf=True)
    k = check_real("stress_sale_frac", stress_sale_frac, low=0, high=1, low_open=True)
    return m / k
