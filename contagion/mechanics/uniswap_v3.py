"""Uniswap V3 concentrated liquidity: exact Python-integer ports of v3-core's maths.

Each public function is a line-by-line port of the Solidity function of the same name
(snake case), with the same argument order and the same rounding, on unbounded Python
integers with the Solidity types' ranges checked: ``TickMath.getSqrtRatioAtTick`` /
``getTickAtSqrtRatio``, ``SqrtPriceMath`` (``getNextSqrtPriceFromInput`` / ``...Output``,
``getAmount0Delta`` / ``getAmount1Delta`` and their signed-liquidity overloads, here
``get_amount0_delta_signed`` / ``get_amount1_delta_signed``) and ``SwapMath.computeSwapStep``.
``FullMath.mulDiv`` / ``mulDivRoundingUp`` and ``UnsafeMath.divRoundingUp`` are private
helpers. Where the Solidity reverts (a ``require``, a checked cast or checked addition) the
port raises :class:`UniswapV3Revert`, a :class:`ValueError` whose ``reason`` is the
Solidity revert string (``'T'``, ``'R'``, ``'SPL'``...), or ``""`` for a bare ``require``.

:func:`swap` is ``UniswapV3Pool.swap``'s loop as a pure function of a pool state (sqrt
price, tick, in-range liquidity, the initialized ticks' ``liquidityNet``, tick spacing,
fee), stepping through the tick bitmap's words exactly as the pool does (a step ends at the
next initialized tick or at the end of a 256-tick-spacing word), so its amounts and
rounding are the pool's. :func:`modify_position_amounts` is the token amounts of
``UniswapV3Pool._modifyPosition`` (a mint or a burn).

Prices are ``token1`` per ``token0`` in raw units, as Q64.96 square roots
(``sqrt_price_x96 = sqrt(price) * 2**96``); ``tick`` ``i`` has price ``1.0001**i``.

References
----------
Uniswap/v3-core @d8b1c635c275d2a9450bd6a78f3fa2484fef73eb: ``contracts/libraries/TickMath.sol``,
``SqrtPriceMath.sol``, ``SwapMath.sol``, ``FullMath.sol``, ``UnsafeMath.sol``,
``LiquidityMath.sol``, ``TickBitmap.sol``, ``contracts/UniswapV3Pool.sol`` (``swap``,
``_modifyPosition``). Test vectors: ``tests/vectors/uniswap_v3.json`` (from the same
commit's ``test/*.spec.ts`` and ``test/__snapshots__``).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "MAX_SQRT_RATIO",
    "MAX_TICK",
    "MIN_SQRT_RATIO",
    "MIN_TICK",
    "Q96",
    "Q128",
    "SwapResult",
    "UniswapV3Revert",
    "compute_swap_step",
    "get_amount0_delta",
    "get_amount0_delta_signed",
    "get_amount1_delta",
    "get_amount1_delta_signed",
    "get_next_sqrt_price_from_input",
    "get_next_sqrt_price_from_output",
    "get_sqrt_ratio_at_tick",
    "get_tick_at_sqrt_ratio",
    "max_liquidity_per_tick",
    "modify_position_amounts",
    "swap",
]

MIN_TICK = -887272
MAX_TICK = 887272
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342
Q96 = 1 << 96
Q128 = 1 << 128

_U256 = (1 << 256) - 1
_U160 = (1 << 160) - 1
_U128 = (1 << 128) - 1
_I256_MAX = (1 << 255) - 1
_I256_MIN = -(1 << 255)
_I128_MAX = (1 << 127) - 1
_I128_MIN = -(1 << 127)
_PIPS = 1_000_000


class UniswapV3Revert(ValueError):
    """A Solidity revert: ``reason`` is the revert string (``""`` for a bare ``require``)."""

    def __init__(self, reason: str, why: str) -> None:
        super().__init__(f"revert {reason!r}: {why}" if reason else f"revert: {why}")
        self.reason = reason


def _require(ok: bool, reason: str, why: str) -> None:
    if not ok:
        raise UniswapV3Revert(reason, why)


def _check_uint(name: str, value: int, bits: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise UniswapV3Revert("", f"{name} = {value!r} is not a uint{bits}")
    return value


def _check_int(name: str, value: int, bits: int) -> int:
    half = 1 << (bits - 1)
    if isinstance(value, bool) or not isinstance(value, int) or not -half <= value < half:
        raise UniswapV3Revert("", f"{name} = {value!r} is not an int{bits}")
    return value


def _to_uint160(y: int) -> int:  # SafeCast.toUint160
    _require(0 <= y <= _U160, "", "SafeCast.toUint160 overflow")
    return y


def _to_int256(y: int) -> int:  # SafeCast.toInt256
    _require(y < (1 << 255), "", "SafeCast.toInt256 overflow")
    return y


def _mul_div(a: int, b: int, denominator: int) -> int:
    """FullMath.mulDiv: floor(a*b/denominator); reverts if denominator is 0 or the result
    overflows uint256."""
    _require(denominator > 0, "", "FullMath.mulDiv by zero")
    result = a * b // denominator
    _require(result <= _U256, "", "FullMath.mulDiv overflow")
    return result


def _mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """FullMath.mulDivRoundingUp: ceil(a*b/denominator), reverting as mulDiv and if the
    rounded-up result overflows."""
    result = _mul_div(a, b, denominator)
    if a * b % denominator > 0:
        _require(result < _U256, "", "FullMath.mulDivRoundingUp overflow")
        result += 1
    return result


def _div_rounding_up(x: int, y: int) -> int:
    """UnsafeMath.divRoundingUp: ceil(x/y), with the EVM's x/0 = x%0 = 0."""
    if y == 0:
        return 0
    return x // y + (1 if x % y > 0 else 0)


# ---------------------------------------------------------------- TickMath

_TICK_FACTORS = (
    (0x2, 0xfff97272373d413259a46990580e213a),
    (0x4, 0xfff2e50f5f656932ef12357cf3c7fdcc),
    (0x8, 0xffe5caca7e10e4e61c3624eaa0941cd0),
    (0x10, 0xffcb9843d60f6159c9db58835c926644),
    (0x20, 0xff973b41fa98c081472e6896dfb254c0),
    (0x40, 0xff2ea16466c96a3843ec78b326b52861),
    (0x80, 0xfe5dee046a99a2a811c461f1969c3053),
    (0x100, 0xfcbe86c7900a88aedcffc83b479aa3a4),
    (0x200, 0xf987a7253ac413176f2b074cf7815e54),
    (0x400, 0xf3392b0822b70005940c7a398e4b70f3),
    (0x800, 0xe7159475a2c29b7443b29c7fa6e889d9),
    (0x1000, 0xd097f3bdfd2022b8845ad8f792aa5825),
    (0x2000, 0xa9f746462d870fdf8a65dc1f90e061e5),
    (0x4000, 0x70d869a156d2a1b890bb3df62baf32f7),
    (0x8000, 0x31be135f97d08fd981231505542fcfa6),
    (0x10000, 0x9aa508b5b7a84e1c677de54f3e99bc9),
    (0x20000, 0x5d6af8dedb81196699c329225ee604),
    (0x40000, 0x2216e584f5fa1ea926041bedfe98),
    (0x80000, 0x48a170391f7dc42444e8fa2),
)


def get_sqrt_ratio_at_tick(tick: int) -> int:
    """``sqrt(1.0001**tick) * 2**96`` as TickMath.getSqrtRatioAtTick computes it.

    Raises
    ------
    UniswapV3Revert
        ``'T'`` if ``|tick| > MAX_TICK``.

    Examples
    --------
    >>> get_sqrt_ratio_at_tick(0) == 2**96
    True
    >>> get_sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO
    True
    """
    _check_int("tick", tick, 24)
    abs_tick = -tick if tick < 0 else tick
    _require(abs_tick <= MAX_TICK, "T", f"tick {tick} outside [{MIN_TICK}, {MAX_TICK}]")
    ratio = 0xfffcb933bd6fad37aa2d162d1a594001 if abs_tick & 0x1 else 0x100000000000000000000000000000000
    for bit, factor in _TICK_FACTORS:
        if abs_tick & bit:
            ratio = (ratio * factor) >> 128
    if tick > 0:
        ratio = _U256 // ratio
    return (ratio >> 32) + (0 if ratio % (1 << 32) == 0 else 1)


def get_tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """The greatest tick whose sqrt ratio is ``<= sqrt_price_x96`` (TickMath.getTickAtSqrtRatio,
    its binary logarithm to 14 fractional bits and the two-candidate correction).

    Raises
    ------
    UniswapV3Revert
        ``'R'`` unless ``MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO``.

    Examples
    --------
    >>> get_tick_at_sqrt_ratio(2**96)
    0
    """
    _check_uint("sqrtPriceX96", sqrt_price_x96, 160)
    _require(MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO, "R",
             f"sqrt price {sqrt_price_x96} outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO)")
    ratio = sqrt_price_x96 << 32
    msb = ratio.bit_length() - 1  # the assembly's most-significant-bit search
    r = ratio >> (msb - 127) if msb >= 128 else ratio << (127 - msb)
    log_2 = (msb - 128) << 64
    for shift in range(63, 49, -1):
        r = (r * r) >> 127
        f = r >> 128
        log_2 |= f << shift
        r >>= f
    log_sqrt10001 = log_2 * 255738958999603826347141  # 128.128 number
    tick_low = (log_sqrt10001 - 3402992956809132418596140100660247210) >> 128
    tick_hi = (log_sqrt10001 + 291339464771989622907027621153398088495) >> 128
    if tick_low == tick_hi:
        return tick_low
    return tick_hi if get_sqrt_ratio_at_tick(tick_hi) <= sqrt_price_x96 else tick_low


# ---------------------------------------------------------------- SqrtPriceMath

def _next_sqrt_price_from_amount0_rounding_up(sqrt_p: int, liquidity: int, amount: int,
                                              add: bool) -> int:
    if amount == 0:
        return sqrt_p
    numerator1 = liquidity << 96
    product = amount * sqrt_p
    if add:
        if product <= _U256 and numerator1 + product <= _U256:
            return _mul_div_rounding_up(numerator1, sqrt_p, numerator1 + product) & _U160
        denominator = numerator1 // sqrt_p + amount  # LowGasSafeMath.add
        _require(denominator <= _U256, "", "LowGasSafeMath.add overflow")
        return _div_rounding_up(numerator1, denominator) & _U160
    _require(product <= _U256 and numerator1 > product, "",
             "the output is at least the virtual reserves of token0")
    return _to_uint160(_mul_div_rounding_up(numerator1, sqrt_p, numerator1 - product))


def _next_sqrt_price_from_amount1_rounding_down(sqrt_p: int, liquidity: int, amount: int,
                                                add: bool) -> int:
    if add:
        quotient = ((amount << 96) // liquidity if amount <= _U160
                    else _mul_div(amount, Q96, liquidity))
        _require(sqrt_p + quotient <= _U256, "", "LowGasSafeMath.add overflow")
        return _to_uint160(sqrt_p + quotient)
    quotient = (_div_rounding_up(amount << 96, liquidity) if amount <= _U160
                else _mul_div_rounding_up(amount, Q96, liquidity))
    _require(sqrt_p > quotient, "", "the output is at least the virtual reserves of token1")
    return sqrt_p - quotient


def get_next_sqrt_price_from_input(sqrt_p_x96: int, liquidity: int, amount_in: int,
                                   zero_for_one: bool) -> int:
    """The sqrt price after ``amount_in`` of token0 (``zero_for_one``) or token1 goes in
    (SqrtPriceMath.getNextSqrtPriceFromInput; rounds so it never passes the target).

    Raises
    ------
    UniswapV3Revert
        If the price or the liquidity is 0, or the new price overflows uint160.

    Examples
    --------
    >>> get_next_sqrt_price_from_input(2**96, 10**18, 10**17, False)
    87150978765690771352898345369
    """
    _check_uint("sqrtPX96", sqrt_p_x96, 160)
    _check_uint("liquidity", liquidity, 128)
    _check_uint("amountIn", amount_in, 256)
    _require(sqrt_p_x96 > 0, "", "sqrt price is 0")
    _require(liquidity > 0, "", "liquidity is 0")
    if zero_for_one:
        return _next_sqrt_price_from_amount0_rounding_up(sqrt_p_x96, liquidity, amount_in, True)
    return _next_sqrt_price_from_amount1_rounding_down(sqrt_p_x96, liquidity, amount_in, True)


def get_next_sqrt_price_from_output(sqrt_p_x96: int, liquidity: int, amount_out: int,
                                    zero_for_one: bool) -> int:
    """The sqrt price after ``amount_out`` of token1 (``zero_for_one``) or token0 comes out
    (SqrtPriceMath.getNextSqrtPriceFromOutput; rounds so it passes the target).

    Raises
    ------
    UniswapV3Revert
        If the price or the liquidity is 0, or the output reaches the virtual reserves.

    Examples
    --------
    >>> get_next_sqrt_price_from_output(2**96, 10**18, 10**17, True)
    71305346262837903834189555302
    """
    _check_uint("sqrtPX96", sqrt_p_x96, 160)
    _check_uint("liquidity", liquidity, 128)
    _check_uint("amountOut", amount_out, 256)
    _require(sqrt_p_x96 > 0, "", "sqrt price is 0")
    _require(liquidity > 0, "", "liquidity is 0")
    if zero_for_one:
        return _next_sqrt_price_from_amount1_rounding_down(sqrt_p_x96, liquidity, amount_out,
                                                           False)
    return _next_sqrt_price_from_amount0_rounding_up(sqrt_p_x96, liquidity, amount_out, False)


def get_amount0_delta(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int,
                      round_up: bool) -> int:
    """Token0 between two sqrt prices for ``liquidity``:
    ``L * (sqrt_b - sqrt_a) / (sqrt_b * sqrt_a)`` (SqrtPriceMath.getAmount0Delta).

    Raises
    ------
    UniswapV3Revert
        If the lower sqrt price is 0.

    Examples
    --------
    >>> get_amount0_delta(2**96, 87150978765690771352898345369, 10**18, True)
    90909090909090910
    """
    _check_uint("sqrtRatioAX96", sqrt_ratio_a_x96, 160)
    _check_uint("sqrtRatioBX96", sqrt_ratio_b_x96, 160)
    _check_uint("liquidity", liquidity, 128)
    a, b = sorted((sqrt_ratio_a_x96, sqrt_ratio_b_x96))
    numerator1 = liquidity << 96
    numerator2 = b - a
    _require(a > 0, "", "sqrt price is 0")
    if round_up:
        return _div_rounding_up(_mul_div_rounding_up(numerator1, numerator2, b), a)
    return _mul_div(numerator1, numerator2, b) // a


def get_amount1_delta(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int,
                      round_up: bool) -> int:
    """Token1 between two sqrt prices for ``liquidity``: ``L * (sqrt_b - sqrt_a)``
    (SqrtPriceMath.getAmount1Delta).

    Examples
    --------
    >>> get_amount1_delta(2**96, 87150978765690771352898345369, 10**18, True)
    100000000000000000
    """
    _check_uint("sqrtRatioAX96", sqrt_ratio_a_x96, 160)
    _check_uint("sqrtRatioBX96", sqrt_ratio_b_x96, 160)
    _check_uint("liquidity", liquidity, 128)
    a, b = sorted((sqrt_ratio_a_x96, sqrt_ratio_b_x96))
    if round_up:
        return _mul_div_rounding_up(liquidity, b - a, Q96)
    return _mul_div(liquidity, b - a, Q96)


def get_amount0_delta_signed(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int,
                             liquidity: int) -> int:
    """The int128-liquidity overload of getAmount0Delta: rounds up for a positive delta
    (what a mint pays), down and negated for a negative one (what a burn returns)."""
    _check_int("liquidity", liquidity, 128)
    if liquidity < 0:
        return -_to_int256(get_amount0_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96,
                                             -liquidity, False))
    return _to_int256(get_amount0_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, liquidity, True))


def get_amount1_delta_signed(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int,
                             liquidity: int) -> int:
    """The int128-liquidity overload of getAmount1Delta (rounding as
    :func:`get_amount0_delta_signed`)."""
    _check_int("liquidity", liquidity, 128)
    if liquidity < 0:
        return -_to_int256(get_amount1_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96,
                                             -liquidity, False))
    return _to_int256(get_amount1_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, liquidity, True))


# ---------------------------------------------------------------- SwapMath

def compute_swap_step(sqrt_ratio_current_x96: int, sqrt_ratio_target_x96: int, liquidity: int,
                      amount_remaining: int, fee_pips: int) -> tuple[int, int, int, int]:
    """One swap step within a range of constant liquidity (SwapMath.computeSwapStep).

    Parameters
    ----------
    sqrt_ratio_current_x96, sqrt_ratio_target_x96 : int
        The current sqrt price and the one not to pass; the direction follows from them
        (``current >= target``: token0 in).
    liquidity : int
        The usable liquidity (uint128).
    amount_remaining : int
        Exact input left (``>= 0``) or exact output left (``< 0``), int256.
    fee_pips : int
        Fee on the input in hundredths of a bip (3000 = 0.3%), ``0 <= fee_pips < 10**6``.

    Returns
    -------
    tuple of int
        ``(sqrt_ratio_next_x96, amount_in, amount_out, fee_amount)``.

    Examples
    --------
    >>> compute_swap_step(2**96, 79623317895830914510639640423, 2 * 10**18, 10**18, 600)
    (79623317895830914510639640423, 9975124224178055, 9925619580021728, 5988667735148)
    """
    _check_uint("sqrtRatioCurrentX96", sqrt_ratio_current_x96, 160)
    _check_uint("sqrtRatioTargetX96", sqrt_ratio_target_x96, 160)
    _check_uint("liquidity", liquidity, 128)
    _check_int("amountRemaining", amount_remaining, 256)
    _check_uint("feePips", fee_pips, 24)
    # the Solidity computes 1e6 - feePips in uint24, which wraps past 1e6: no pool has such a fee
    _require(fee_pips < _PIPS, "", f"feePips {fee_pips} >= 1e6")
    current, target = sqrt_ratio_current_x96, sqrt_ratio_target_x96
    zero_for_one = current >= target
    exact_in = amount_remaining >= 0
    amount_in = amount_out = 0
    if exact_in:
        remaining_less_fee = _mul_div(amount_remaining, _PIPS - fee_pips, _PIPS)
        amount_in = (get_amount0_delta(target, current, liquidity, True) if zero_for_one
                     else get_amount1_delta(current, target, liquidity, True))
        if remaining_less_fee >= amount_in:
            nxt = target
        else:
            nxt = get_next_sqrt_price_from_input(current, liquidity, remaining_less_fee,
                                                 zero_for_one)
    else:
        amount_out = (get_amount1_delta(target, current, liquidity, False) if zero_for_one
                      else get_amount0_delta(current, target, liquidity, False))
        if -amount_remaining >= amount_out:
            nxt = target
        else:
            nxt = get_next_sqrt_price_from_output(current, liquidity, -amount_remaining,
                                                  zero_for_one)
    at_max = target == nxt
    if zero_for_one:
        if not (at_max and exact_in):
            amount_in = get_amount0_delta(nxt, current, liquidity, True)
        if not (at_max and not exact_in):
            amount_out = get_amount1_delta(nxt, current, liquidity, False)
    else:
        if not (at_max and exact_in):
            amount_in = get_amount1_delta(current, nxt, liquidity, True)
        if not (at_max and not exact_in):
            amount_out = get_amount0_delta(current, nxt, liquidity, False)
    if not exact_in and amount_out > -amount_remaining:
        amount_out = -amount_remaining
    if exact_in and nxt != target:
        fee_amount = (amount_remaining - amount_in) & _U256  # unchecked in Solidity 0.7
    else:
        fee_amount = _mul_div_rounding_up(amount_in, fee_pips, _PIPS - fee_pips)
    return nxt, amount_in, amount_out, fee_amount


# ---------------------------------------------------------------- the pool

def max_liquidity_per_tick(tick_spacing: int) -> int:
    """Tick.tickSpacingToMaxLiquidityPerTick: uint128 max over the number of usable ticks."""
    min_tick = -(MAX_TICK // tick_spacing) * tick_spacing
    max_tick = (MAX_TICK // tick_spacing) * tick_spacing
    return _U128 // ((max_tick - min_tick) // tick_spacing + 1)


def _add_delta(x: int, y: int) -> int:
    """LiquidityMath.addDelta."""
    if y < 0:
        _require(x + y >= 0, "LS", "liquidity would go below 0")
    else:
        _require(x + y <= _U128, "LA", "liquidity would overflow uint128")
    return x + y


def _solidity_div(a: int, b: int) -> int:
    """Solidity's signed division, which truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _next_initialized_tick_within_one_word(initialized: Sequence[int], tick: int,
                                           tick_spacing: int, lte: bool) -> tuple[int, bool]:
    """TickBitmap.nextInitializedTickWithinOneWord over the sorted initialized ticks: the
    next initialized tick at or left of ``tick`` (``lte``) or right of it, within the same
    256-bit word of compressed ticks, else the word's last tick, uninitialized."""
    compressed = _solidity_div(tick, tick_spacing)
    if tick < 0 and tick % tick_spacing != 0:  # Solidity's % keeps the dividend's sign
        compressed -= 1
    if lte:
        word_start = (compressed >> 8) << 8
        i = bisect.bisect_right(initialized, compressed * tick_spacing) - 1
        if i >= 0 and initialized[i] >= word_start * tick_spacing:
            return initialized[i], True
        return word_start * tick_spacing, False
    start = compressed + 1
    word_end = ((start >> 8) << 8) + 255
    i = bisect.bisect_left(initialized, start * tick_spacing)
    if i < len(initialized) and initialized[i] <= word_end * tick_spacing:
        return initialized[i], True
    return word_end * tick_spacing, False


def _next_initialized_tick(initialized: Sequence[int], tick: int, lte: bool) -> tuple[int, bool]:
    """The next initialized tick at or left of ``tick`` (``lte``) or right of it, in any
    word; else the bound (``MIN_TICK`` / ``MAX_TICK``), uninitialized."""
    if lte:
        i = bisect.bisect_right(initialized, tick) - 1
        return (initialized[i], True) if i >= 0 else (MIN_TICK, False)
    i = bisect.bisect_right(initialized, tick)
    return (initialized[i], True) if i < len(initialized) else (MAX_TICK, False)


@dataclass(frozen=True)
class SwapResult:
    """What :func:`swap` did: the pool's signed token deltas (positive: the pool received)
    and its state after.

    ``fee_amount`` is the total fee charged on the input token (the LPs' share, as no
    protocol fee is modelled); ``fee_growth_global_x128`` is the input token's fee growth
    after the swap; ``steps`` counts computeSwapStep calls (a run of empty words crossed
    without liquidity counts once) and ``ticks_crossed`` the initialized ticks crossed.
    """

    amount0: int
    amount1: int
    sqrt_price_x96: int
    tick: int
    liquidity: int
    fee_amount: int
    fee_growth_global_x128: int
    steps: int
    ticks_crossed: int


def swap(sqrt_price_x96: int, tick: int, liquidity: int, ticks: Mapping[int, int],
         tick_spacing: int, fee_pips: int, zero_for_one: bool, amount_specified: int,
         sqrt_price_limit_x96: int, fee_growth_global_x128: int = 0) -> SwapResult:
    """``UniswapV3Pool.swap``'s loop: swap across initialized ticks, exactly as the pool.

    Parameters
    ----------
    sqrt_price_x96, tick, liquidity : int
        The pool's ``slot0.sqrtPriceX96``, ``slot0.tick`` and in-range ``liquidity``.
    ticks : mapping of int to int
        The initialized ticks (multiples of ``tick_spacing``) and their ``liquidityNet``
        (the liquidity added when the price crosses the tick left to right).
    tick_spacing : int
        The pool's tick spacing (10, 60 and 200 for the 0.05%, 0.3% and 1% tiers).
    fee_pips : int
        The pool fee in hundredths of a bip.
    zero_for_one : bool
        Token0 in, token1 out (the price falls), or the reverse.
    amount_specified : int
        Exact input (``> 0``) or exact output (``< 0``), of token0 or token1 by direction.
    sqrt_price_limit_x96 : int
        The price the swap may not pass (below the price for ``zero_for_one``).
    fee_growth_global_x128 : int, default 0
        The input token's ``feeGrowthGlobalX128`` before the swap.

    Returns
    -------
    SwapResult
        ``amount0``, ``amount1`` as the pool returns them (positive: paid into the pool)
        and the new ``sqrt_price_x96``, ``tick``, ``liquidity``. The swap stops early,
        leaving part of ``amount_specified`` unfilled, where it reaches the price limit.

    Raises
    ------
    UniswapV3Revert
        ``'AS'`` for a zero amount, ``'SPL'`` for a price limit on the wrong side of the
        price or outside ``(MIN_SQRT_RATIO, MAX_SQRT_RATIO)``, ``'LS'``/``'LA'`` for a
        liquidity that would leave uint128 at a tick.

    Notes
    -----
    Each step runs :func:`compute_swap_step` to the nearer of the next initialized tick
    (or the end of the tick bitmap word, as ``TickBitmap.nextInitializedTickWithinOneWord``
    does: the pool's steps, hence its rounding) and the price limit, updates the fee growth
    (``mulDiv(fee, Q128, liquidity)``) and, on reaching an initialized tick, adds its
    ``liquidityNet`` (subtracts it moving left). Where the in-range liquidity is 0, the
    pool's steps through empty words trade nothing and only move the price: they are taken
    as one step to the next initialized tick (same amounts and state, far fewer steps on
    the way to a price bound). No protocol fee, oracle observations or
    per-tick fee accounting: they do not change the amounts or the price.

    Examples
    --------
    Full-range liquidity 2e18 at price 1 (v3-core's "medium fee, 1:1 price, 2e18 max range
    liquidity" pool), selling exactly 1e18 token0:

    >>> r = swap(2**96, 0, 2 * 10**18, {-887220: 2 * 10**18, 887220: -2 * 10**18}, 60,
    ...          3000, True, 10**18, MIN_SQRT_RATIO + 1)
    >>> r.amount0, r.amount1, r.tick
    (1000000000000000000, -665331998665331998, -8090)
    """
    _check_uint("sqrtPriceX96", sqrt_price_x96, 160)
    _check_int("tick", tick, 24)
    _check_uint("liquidity", liquidity, 128)
    _check_int("amountSpecified", amount_specified, 256)
    _check_uint("sqrtPriceLimitX96", sqrt_price_limit_x96, 160)
    _require(amount_specified != 0, "AS", "amountSpecified is 0")
    if zero_for_one:
        _require(MIN_SQRT_RATIO < sqrt_price_limit_x96 < sqrt_price_x96, "SPL",
                 "the price limit must be below the price and above MIN_SQRT_RATIO")
    else:
        _require(sqrt_price_x96 < sqrt_price_limit_x96 < MAX_SQRT_RATIO, "SPL",
                 "the price limit must be above the price and below MAX_SQRT_RATIO")
    initialized = sorted(ticks)
    exact_input = amount_specified > 0
    remaining = amount_specified
    calculated = 0
    price, cur_tick, liq = sqrt_price_x96, tick, liquidity
    fee_growth = fee_growth_global_x128
    fee_total = steps = crossed = 0
    while remaining != 0 and price != sqrt_price_limit_x96:
        start = price
        tick_next, is_init = _next_initialized_tick_within_one_word(
            initialized, cur_tick, tick_spacing, zero_for_one)
        if liq == 0 and not is_init:
            # with no liquidity the pool's steps through empty bitmap words trade nothing
            # and only move the price: go to the next initialized tick in one step
            tick_next, is_init = _next_initialized_tick(initialized, cur_tick, zero_for_one)
        tick_next = min(max(tick_next, MIN_TICK), MAX_TICK)
        price_next = get_sqrt_ratio_at_tick(tick_next)
        beyond = price_next < sqrt_price_limit_x96 if zero_for_one \
            else price_next > sqrt_price_limit_x96
        price, amount_in, amount_out, fee_amount = compute_swap_step(
            price, sqrt_price_limit_x96 if beyond else price_next, liq, remaining, fee_pips)
        steps += 1
        fee_total += fee_amount
        if exact_input:
            remaining -= _to_int256(amount_in + fee_amount)
            calculated -= _to_int256(amount_out)
        else:
            remaining += _to_int256(amount_out)
            calculated += _to_int256(amount_in + fee_amount)
        _require(_I256_MIN <= calculated <= _I256_MAX, "", "amountCalculated overflow")
        if liq > 0:
            fee_growth = (fee_growth + _mul_div(fee_amount, Q128, liq)) & _U256
        if price == price_next:
            if is_init:
                net = ticks[tick_next]
                liq = _add_delta(liq, -net if zero_for_one else net)
                crossed += 1
            cur_tick = tick_next - 1 if zero_for_one else tick_next
        elif price != start:
            cur_tick = get_tick_at_sqrt_ratio(price)
    if zero_for_one == exact_input:
        amount0, amount1 = amount_specified - remaining, calculated
    else:
        amount0, amount1 = calculated, amount_specified - remaining
    return SwapResult(amount0=amount0, amount1=amount1, sqrt_price_x96=price, tick=cur_tick,
                      liquidity=liq, fee_amount=fee_total, fee_growth_global_x128=fee_growth,
                      steps=steps, ticks_crossed=crossed)


def modify_position_amounts(sqrt_price_x96: int, tick: int, tick_lower: int, tick_upper: int,
                            liquidity_delta: int) -> tuple[int, int]:
    """Token amounts a position change moves (``UniswapV3Pool._modifyPosition``):
    positive, paid in by a mint (``liquidity_delta > 0``, rounded up); negative, owed out
    by a burn (rounded down). Below the range a position is all token0, above it all token1.

    Raises
    ------
    UniswapV3Revert
        ``'TLU'``, ``'TLM'``, ``'TUM'`` for a bad range (Solidity ``checkTicks``).

    Examples
    --------
    >>> modify_position_amounts(2**96, 0, -887220, 887220, 2 * 10**18)
    (2000000000000000000, 2000000000000000000)
    """
    _require(tick_lower < tick_upper, "TLU", "tickLower must be below tickUpper")
    _require(tick_lower >= MIN_TICK, "TLM", "tickLower below MIN_TICK")
    _require(tick_upper <= MAX_TICK, "TUM", "tickUpper above MAX_TICK")
    lo, hi = get_sqrt_ratio_at_tick(tick_lower), get_sqrt_ratio_at_tick(tick_upper)
    if tick < tick_lower:
        return get_amount0_delta_signed(lo, hi, liquidity_delta), 0
    if tick < tick_upper:
        return (get_amount0_delta_signed(sqrt_price_x96, hi, liquidity_delta),
                get_amount1_delta_signed(lo, sqrt_price_x96, liquidity_delta))
    return 0, get_amount1_delta_signed(lo, hi, liquidity_delta)
