"""Constant-product automated market maker (Uniswap V2), in two layers.

Exact integer functions reproduce the on-chain arithmetic of ``UniswapV2Library`` and
``UniswapV2Pair.swap`` (floor division, the fee-adjusted ``K`` check), with the fee in basis
points (``fee_bps = 30`` is Uniswap V2's 0.3%). Vectorised float functions serve the
simulation engine (swaps, spot price, price impact and the fee-aware arbitrage that pulls a
pool's price toward an external market, net of the price impact of the arbitrageur's own
external leg), with the fee as a fraction (``fee_frac = 0.003``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import wrightomega

from contagion.errors import ParameterError
from contagion.validation import check_array, check_int, check_real, scalar_or_array

__all__ = [
    "arbitrage_to_price",
    "arbitrage_with_impact",
    "get_amount_in",
    "get_amount_out",
    "k_invariant_holds",
    "pair_swap_succeeds",
    "price_impact_frac",
    "quote",
    "spot_price",
    "swap_in",
    "swap_out",
]

_BPS = 10_000



def _check_fee_bps(fee_bps: int) -> int:
    if isinstance(fee_bps, bool) or not isinstance(fee_bps, int) or not 0 <= fee_bps < _BPS:
        raise ParameterError("fee_bps", fee_bps, "an integer, 0 <= x < 10000",
                             "30 is Uniswap V2's 0.3% fee")
    return fee_bps


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int = 30) -> int:
    """Exact output of a swap of ``amount_in`` into a constant-product pair.

    Parameters
    ----------
    amount_in : int
        Input token amount in raw units (wei), ``> 0``.
    reserve_in, reserve_out : int
        Pair reserves of the input and output token, ``> 0``.
    fee_bps : int, default 30
        Swap fee in basis points, ``0 <= fee_bps < 10000``.

    Returns
    -------
    int
        The largest output the pair accepts for this input.

    Raises
    ------
    ParameterError
        If ``amount_in <= 0``, a reserve is ``<= 0`` or the fee is out of range.

    Notes
    -----
    With ``g = 10000 - fee_bps`` and floor division ``//``:
    ``out = amount_in * g * reserve_out // (reserve_in * 10000 + amount_in * g)``; for
    ``fee_bps = 30`` this is Uniswap's ``in*997*rOut / (rIn*1000 + in*997)``.

    References
    ----------
    Uniswap/v2-periphery ``contracts/libraries/UniswapV2Library.sol`` (``getAmountOut``);
    test vectors from Uniswap/v2-core ``test/UniswapV2Pair.spec.ts`` @ee547b17.

    Examples
    --------
    >>> get_amount_out(10**18, 5 * 10**18, 10 * 10**18)
    1662497915624478906
    """
    check_int("amount_in", amount_in, low=1)
    check_int("reserve_in", reserve_in, low=1)
    check_int("reserve_out", reserve_out, low=1)
    in_with_fee = amount_in * (_BPS - _check_fee_bps(fee_bps))
    return in_with_fee * reserve_out // (reserve_in * _BPS + in_with_fee)


def get_amount_in(amount_out: int, reserve_in: int, reserve_out: int, fee_bps: int = 30) -> int:
    """Exact input needed to take ``amount_out`` out of a constant-product pair.

    Raises
    ------
    ParameterError
        If ``amount_out <= 0``, ``amount_out >= reserve_out``, a reserve is ``<= 0`` or the
        fee is out of range.

    Notes
    -----
    ``in = reserve_in * amount_out * 10000 // ((reserve_out - amount_out) * g) + 1`` with
    ``g = 10000 - fee_bps`` (Uniswap rounds the floor up by one, so the pair's ``K`` check
    always passes).

    References
    ----------
    Uniswap/v2-periphery ``contracts/libraries/UniswapV2Library.sol`` (``getAmountIn``) and
    ``test/UniswapV2Router02.spec.ts`` @0335e8f7.

    Examples
    --------
    >>> get_amount_in(1, 100, 100)
    2
    """
    check_int("amount_out", amount_out, low=1)
    check_int("reserve_in", reserve_in, low=1)
    check_int("reserve_out", reserve_out, low=1)
    fee = _check_fee_bps(fee_bps)
    if amount_out >= reserve_out:
        raise ParameterError("amount_out", amount_out, f"0 < x < reserve_out = {reserve_out}",
                             "a pair cannot pay out its whole reserve")
    return reserve_in * amount_out * _BPS // ((reserve_out - amount_out) * (_BPS - fee)) + 1


def quote(amount_a: int, reserve_a: int, reserve_b: int) -> int:
    """Amount of token B equal in value to ``amount_a`` at the pair's spot price (no fee).

    Notes
    -----
    ``quote = amount_a * reserve_b // reserve_a``.

    References
    ----------
    Uniswap/v2-periphery ``contracts/libraries/UniswapV2Library.sol`` (``quote``).

    Examples
    --------
    >>> quote(1, 100, 200)
    2
    """
    check_int("amount_a", amount_a, low=1)
    check_int("reserve_a", reserve_a, low=1)
    check_int("reserve_b", reserve_b, low=1)
    return amount_a * reserve_b // reserve_a


def k_invariant_holds(
    balance0: int, balance1: int, amount0_in: int, amount1_in: int,
    reserve0: int, reserve1: int, fee_bps: int = 30,
) -> bool:
    """The pair's ``K`` check: do the post-swap balances, net of fee, keep ``k``?

    Notes
    -----
    ``(b0*10000 - in0*fee_bps) * (b1*10000 - in1*fee_bps) >= r0*r1*10000**2``. For
    ``fee_bps = 30`` this is the pair's ``(b0*1000 - in0*3)*(b1*1000 - in1*3) >=
    r0*r1*1000**2`` with both sides scaled by 100, so the verdict is identical; working in
    10000ths generalises it to any whole number of basis points.

    References
    ----------
    Uniswap/v2-core ``contracts/UniswapV2Pair.sol`` (``swap``: ``require(... 'UniswapV2: K')``).

    Examples
    --------
    >>> k_invariant_holds(6 * 10**18, 8337502084375521094, 10**18, 0, 5 * 10**18, 10**19)
    True
    >>> k_invariant_holds(6 * 10**18, 8337502084375521093, 10**18, 0, 5 * 10**18, 10**19)
    False
    """
    for name, value in (("balance0", balance0), ("balance1", balance1),
                        ("amount0_in", amount0_in), ("amount1_in", amount1_in),
                        ("reserve0", reserve0), ("reserve1", reserve1)):
        check_int(name, value, low=0)
    fee = _check_fee_bps(fee_bps)
    adjusted0 = balance0 * _BPS - amount0_in * fee
    adjusted1 = balance1 * _BPS - amount1_in * fee
    if adjusted0 < 0 or adjusted1 < 0:
        return False
    return adjusted0 * adjusted1 >= reserve0 * reserve1 * _BPS**2


def pair_swap_succeeds(
    amount0_out: int, amount1_out: int, amount0_paid: int, amount1_paid: int,
    reserve0: int, reserve1: int, fee_bps: int = 30,
) -> bool:
    """Would ``UniswapV2Pair.swap(amount0_out, amount1_out, ...)`` succeed?

    ``amount*_paid`` are the tokens sent to the pair before or during the call (a flash swap
    may pay back the same token it takes out).

    Notes
    -----
    The pair reverts unless some output is asked for, each output is below its reserve, some
    input arrived (``in_i = max(0, b_i - (r_i - out_i))`` with ``b_i = r_i + paid_i - out_i``)
    and :func:`k_invariant_holds` passes.

    References
    ----------
    Uniswap/v2-core ``contracts/UniswapV2Pair.sol`` (``swap``).

    Examples
    --------
    >>> r = 5 * 10**18
    >>> pair_swap_succeeds(997 * 10**15, 0, 10**18, 0, r, r)
    True
    >>> pair_swap_succeeds(997 * 10**15 + 1, 0, 10**18, 0, r, r)
    False
    """
    for name, value in (("amount0_out", amount0_out), ("amount1_out", amount1_out),
                        ("amount0_paid", amount0_paid), ("amount1_paid", amount1_paid),
                        ("reserve0", reserve0), ("reserve1", reserve1)):
        check_int(name, value, low=0)
    if amount0_out == 0 and amount1_out == 0:
        return False
    if amount0_out >= reserve0 or amount1_out >= reserve1:
        return False
    balance0 = reserve0 + amount0_paid - amount0_out
    balance1 = reserve1 + amount1_paid - amount1_out
    amount0_in = max(0, balance0 - (reserve0 - amount0_out))
    amount1_in = max(0, balance1 - (reserve1 - amount1_out))
    if amount0_in == 0 and amount1_in == 0:
        return False
    return k_invariant_holds(balance0, balance1, amount0_in, amount1_in,
                             reserve0, reserve1, fee_bps)


def swap_out(
    amount_in: ArrayLike, reserve_in: ArrayLike, reserve_out: ArrayLike,
    fee_frac: ArrayLike = 0.003,
) -> float | NDArray[np.float64]:
    """Output of a swap, in floats; vectorised version of :func:`get_amount_out`.

    Notes
    -----
    ``out = a*g*r_out / (r_in + a*g)`` with ``g = 1 - fee_frac``; ``a = 0`` gives 0.

    References
    ----------
    Uniswap/v2-periphery ``UniswapV2Library.getAmountOut``.

    Examples
    --------
    >>> round(swap_out(1.0, 1000.0, 1000.0), 6)
    0.996007
    >>> swap_out([0.0, 1000.0], 1000.0, 1000.0, fee_frac=0.0).tolist()
    [0.0, 500.0]
    """
    a = check_array("amount_in", amount_in, low=0)
    r_in = check_array("reserve_in", reserve_in, low=0, low_open=True)
    r_out = check_array("reserve_out", reserve_out, low=0, low_open=True)
    g = 1.0 - check_array("fee_frac", fee_frac, low=0, high=1, high_open=True)
    return scalar_or_array(a * g * r_out / (r_in + a * g))


def swap_in(
    amount_out: ArrayLike, reserve_in: ArrayLike, reserve_out: ArrayLike,
    fee_frac: ArrayLike = 0.003,
) -> float | NDArray[np.float64]:
    """Input needed for a given output, in floats; vectorised :func:`get_amount_in`.

    Returns ``inf`` where ``amount_out >= reserve_out`` (the pool cannot pay it).

    Notes
    -----
    ``in = r_in*b / ((r_out - b)*g)`` with ``g = 1 - fee_frac`` (no ``+1`` rounding).

    References
    ----------
    Uniswap/v2-periphery ``UniswapV2Library.getAmountIn``.

    Examples
    --------
    >>> swap_in([500.0, 1000.0], 1000.0, 1000.0, fee_frac=0.0).tolist()
    [1000.0, inf]
    """
    b = check_array("amount_out", amount_out, low=0)
    r_in = check_array("reserve_in", reserve_in, low=0, low_open=True)
    r_out = check_array("reserve_out", reserve_out, low=0, low_open=True)
    g = 1.0 - check_array("fee_frac", fee_frac, low=0, high=1, high_open=True)
    left = r_out - b
    with np.errstate(divide="ignore", invalid="ignore"):
        amount = np.where(left > 0, r_in * b / (left * g), np.inf)
    return scalar_or_array(np.asarray(amount, dtype=np.float64))


def spot_price(reserve_base: ArrayLike, reserve_quote: ArrayLike) -> float | NDArray[np.float64]:
    """Spot price of the base token in quote units, ``reserve_quote / reserve_base``.

    Notes
    -----
    ``p = y / x``: the marginal price of an infinitesimal trade before fees.

    References
    ----------
    Uniswap/v2-core ``UniswapV2Pair`` (``price0CumulativeLast`` accumulates ``r1 / r0``).

    Examples
    --------
    >>> spot_price(10.0, 20_000.0)
    2000.0
    """
    x = check_array("reserve_base", reserve_base, low=0, low_open=True)
    y = check_array("reserve_quote", reserve_quote, low=0, low_open=True)
    return scalar_or_array(y / x)


def price_impact_frac(
    amount_in_base: ArrayLike, reserve_base: ArrayLike, reserve_quote: ArrayLike,
    fee_frac: ArrayLike = 0.003,
) -> float | NDArray[np.float64]:
    """Fractional change of the spot price after selling ``amount_in_base`` into the pool.

    The result is ``<= 0``: selling base makes base cheaper.

    Notes
    -----
    The pool receives ``a`` base (all of it, fee included) and pays
    ``swap_out(a, x, y)`` quote, so ``y' / y = x / (x + a*g)`` and
    ``p'/p - 1 = x**2 / ((x + a*g) * (x + a)) - 1``.

    References
    ----------
    Uniswap/v2-core ``UniswapV2Pair.swap`` (fees stay in the reserves).

    Examples
    --------
    >>> round(price_impact_frac(100.0, 1000.0, 1000.0, fee_frac=0.0), 6)
    -0.173554
    """
    a = check_array("amount_in_base", amount_in_base, low=0)
    x = check_array("reserve_base", reserve_base, low=0, low_open=True)
    check_array("reserve_quote", reserve_quote, low=0, low_open=True)
    g = 1.0 - check_array("fee_frac", fee_frac, low=0, high=1, high_open=True)
    return scalar_or_array(x * x / ((x + a * g) * (x + a)) - 1.0)


def arbitrage_to_price(
    reserve_base: float, reserve_quote: float, target_price: float,
    fee_frac: float = 0.003, max_notional_quote: float = math.inf,
) -> tuple[float, float]:
    """The profit-maximising arbitrage against an external price, as pool reserve changes.

    Parameters
    ----------
    reserve_base, reserve_quote : float
        Pool reserves, ``> 0``.
    target_price : float
        External market price of base in quote, ``> 0``.
    fee_frac : float, default 0.003
        Pool fee, ``0 <= fee_frac < 1``.
    max_notional_quote : float, default inf
        Largest quote amount the arbitrageur trades (capital or depth limit), ``>= 0``.

    Returns
    -------
    tuple of float
        ``(delta_base, delta_quote)``, the signed changes of the pool's reserves. When the
        pool is cheap (spot below ``target_price * g``) the arbitrageur buys base:
        ``delta_base < 0 < delta_quote``; when it is dear (spot above ``target_price / g``)
        they sell base: ``delta_quote < 0 < delta_base``; inside the fee band ``(0.0, 0.0)``.

    Notes
    -----
    With ``g = 1 - fee_frac``, ``k = x*y`` and target ``P``, buying ``d`` base for ``q``
    quote keeps ``(x - d)(y + g q) = k``, so the marginal cost is ``k / (g (x - d)**2)``;
    the profit ``P d - q`` peaks where it equals ``P``:

    - buy: ``x' = sqrt(k / (g P))``, ``d = x - x'``, ``q = (sqrt(k g P) - y) / g``;
    - sell: ``x + g d = sqrt(k g / P)``, ``d = (sqrt(k g / P) - x) / g``,
      ``q = y - sqrt(k P / g)``.

    Afterwards ``g P <= y'/x' <= P / g``: no arbitrage is left in either direction. If
    ``|q|`` exceeds ``max_notional_quote`` the trade is scaled down to exactly that quote
    notional (buy: ``d = swap_out(cap, y, x)``; sell: ``d = swap_in(cap, x, y)``), which is
    still a valid fee-adjusted constant-product swap. The deltas are differences of
    reserves, so for price moves beyond about 1000x float cancellation limits the relative
    accuracy of ``reserve + delta``.

    References
    ----------
    Uniswap/v2-core ``UniswapV2Pair.swap``; Angeris, Kao, Chiang, Noyes and Chitra, "An
    analysis of Uniswap markets" (2019), optimal arbitrage with fees.

    Examples
    --------
    >>> db, dq = arbitrage_to_price(100.0, 100_000.0, 1100.0, fee_frac=0.0)
    >>> round(db, 4), round(dq, 2), round((100_000.0 + dq) / (100.0 + db), 6)
    (-4.6537, 4880.88, 1100.0)
    >>> arbitrage_to_price(100.0, 100_000.0, 1001.0)
    (0.0, 0.0)
    """
    x = check_real("reserve_base", reserve_base, low=0, low_open=True)
    y = check_real("reserve_quote", reserve_quote, low=0, low_open=True)
    target = check_real("target_price", target_price, low=0, low_open=True)
    g = 1.0 - check_real("fee_frac", fee_frac, low=0, high=1, high_open=True)
    cap = check_real("max_notional_quote", max_notional_quote, low=0, allow_inf=True)
    k = x * y
    spot = y / x
    if spot < g * target:  # pool cheap: buy base from it
        base_out = x - math.sqrt(k / (g * target))
        quote_in = (math.sqrt(k * g * target) - y) / g
        if quote_in > cap:
            quote_in = cap
            base_out = float(swap_out(cap, y, x, 1.0 - g))
        if base_out <= 0.0 or quote_in <= 0.0:
            return 0.0, 0.0
        return -base_out, quote_in
    if spot > target / g:  # pool dear: sell base into it
        base_in = (math.sqrt(k * g / target) - x) / g
        quote_out = y - math.sqrt(k * target / g)
        if quote_out > cap:
            quote_out = cap
            base_in = float(swap_in(cap, x, y, 1.0 - g))
        if base_in <= 0.0 or quote_out <= 0.0:
            return 0.0, 0.0
        return base_in, -quote_out
    return 0.0, 0.0


def arbitrage_with_impact(
    reserve_base: float, reserve_quote: float, external_price: float,
    external_depth_usd: float = math.inf, fee_frac: float = 0.003,
    max_notional_quote: float = math.inf,
) -> tuple[float, float]:
    """The arbitrage that stops where the pool meets the external price *after* its unwind.

    The arbitrageur trades the pool and unwinds the base on the external market, whose
    price moves by the log-linear permanent impact of
    :meth:`contagion.agents.market.Market.impact`: selling ``d`` units at price ``P`` into
    depth ``D`` leaves it at ``P exp(-d P / D)``. :func:`arbitrage_to_price` ignores that
    move, so a pool holding more than about twice ``D`` per side overshoots: pool and
    external price cross and the next step pulls back. This trade closes the gap without
    crossing it.

    Parameters
    ----------
    reserve_base, reserve_quote : float
        Pool reserves, ``> 0``.
    external_price : float
        External market price of base in quote before the trade, ``> 0``.
    external_depth_usd : float, default inf
        The external market's depth (quote flow per log unit of price), ``> 0``;
        ``inf`` gives :func:`arbitrage_to_price` exactly.
    fee_frac : float, default 0.003
        Pool fee, ``0 <= fee_frac < 1``.
    max_notional_quote : float, default inf
        Largest quote amount the arbitrageur trades, ``>= 0``.

    Returns
    -------
    tuple of float
        ``(delta_base, delta_quote)``, the signed changes of the pool's reserves, with the
        signs of :func:`arbitrage_to_price` (``(0.0, 0.0)`` inside the fee band). The
        external leg is ``-delta_base`` units sold outside.

    Notes
    -----
    With ``g = 1 - fee_frac``, ``k = x*y``, price ``P`` and depth ``D``, the trade stops
    where the pool's fee-adjusted marginal price equals the post-impact external price
    (equivalently: it maximises the arbitrageur's profit when its own unwind moves the
    price):

    - buy ``d`` base (pool cheap, ``y/x < g P``), ``u = x - d``:
      ``k / (g u**2) = P exp(-(x - u) P / D)``. With ``a = P / (2 D)`` and
      ``u0 = sqrt(k / (g P))`` (the infinite-depth answer) this is
      ``ln(a u) + a u = ln(a u0) + a x``, so ``u = omega(ln(a u0) + a x) / a``, where
      ``omega`` is the Wright omega function (``w + ln w = z``; ``scipy.special.wrightomega``);
      the quote paid is ``(k/u - y) / g``.
    - sell ``d`` base (pool dear, ``y/x > P / g``), ``s = x + g d``:
      ``k g / s**2 = P exp((s - x) P / (g D))``. With ``b = P / (2 g D)`` and
      ``s0 = sqrt(k g / P)``, ``s = omega(ln(b s0) + b x) / b``, ``d = (s - x) / g``, and
      the quote paid out is ``y - k/s``.

    Both left-hand sides are strictly monotone in the trade size, so the root is unique
    and lies between no trade and the infinite-depth trade: ``u0 < u < x`` and
    ``x < s < s0``. As ``D -> inf``, ``a, b -> 0`` and ``u -> u0``, ``s -> s0``. With
    ``fee_frac = 0`` the post-trade spot ``y'/x'`` equals the post-impact price; with a
    fee, it ends inside the fee band on the side it started (buy: ``g P' <= y'/x' < P'``;
    sell: ``P' < y'/x' <= P'/g``), so the gap never changes sign. A trade whose quote
    exceeds ``max_notional_quote`` is cut to exactly that notional, as in
    :func:`arbitrage_to_price`, which only stops it further from the crossing.

    References
    ----------
    Uniswap/v2-core ``UniswapV2Pair.swap``; Angeris, Kao, Chiang, Noyes and Chitra, "An
    analysis of Uniswap markets" (2019), optimal arbitrage with fees; Corless, Jeffrey and
    Knuth, "A sequence of series for the Lambert W function" (1997), the Wright omega
    function.

    Examples
    --------
    A pool at 100 against an external 200, depth chosen so the answer is round: the
    arbitrageur buys 20 base for 2,500 and the pool's spot, 156.25, is where its unwind
    leaves the external price (with infinite depth it would buy 29.3 base).

    >>> db, dq = arbitrage_with_impact(100.0, 10_000.0, 200.0, 4_000 / math.log(1.28), 0.0)
    >>> round(db, 9), round(dq, 6), round((10_000.0 + dq) / (100.0 + db), 6)
    (-20.0, 2500.0, 156.25)
    >>> round(200.0 * math.exp(db * 200.0 / (4_000 / math.log(1.28))), 6)
    156.25
    """
    x = check_real("reserve_base", reserve_base, low=0, low_open=True)
    y = check_real("reserve_quote", reserve_quote, low=0, low_open=True)
    price = check_real("external_price", external_price, low=0, low_open=True)
    depth = check_real("external_depth_usd", external_depth_usd, low=0, low_open=True,
                       allow_inf=True)
    g = 1.0 - check_real("fee_frac", fee_frac, low=0, high=1, high_open=True)
    cap = check_real("max_notional_quote", max_notional_quote, low=0, allow_inf=True)
    if math.isinf(depth):
        return arbitrage_to_price(x, y, price, 1.0 - g, cap)
    k = x * y
    spot = y / x
    if spot < g * price:  # pool cheap: buy base, sell it outside (the price falls)
        a = price / (2.0 * depth)
        u = float(wrightomega(math.log(a) + 0.5 * math.log(k / (g * price)) + a * x)) / a
        base_out = x - u
        quote_in = (k / u - y) / g
        if quote_in > cap:
            quote_in = cap
            base_out = float(swap_out(cap, y, x, 1.0 - g))
        if base_out <= 0.0 or quote_in <= 0.0:
            return 0.0, 0.0
        return -base_out, quote_in
    if spot > price / g:  # pool dear: buy base outside (the price rises), sell it in
        b = price / (2.0 * g * depth)
        s = float(wrightomega(math.log(b) + 0.5 * math.log(k * g / price) + b * x)) / b
        base_in = (s - x) / g
        quote_out = y - k / s
        if quote_out > cap:
            quote_out = cap
            base_in = float(swap_in(cap, x, y, 1.0 - g))
        if base_in <= 0.0 or quote_out <= 0.0:
            return 0.0, 0.0
        return base_in, -quote_out
    return 0.0, 0.0
