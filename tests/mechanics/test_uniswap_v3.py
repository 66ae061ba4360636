"""Uniswap V3 maths against v3-core's own test vectors, plus invariants (issue 12).

``tests/vectors/uniswap_v3.json`` holds every numeric case of Uniswap/v3-core @d8b1c635's
``test/TickMath.spec.ts``, ``test/SqrtPriceMath.spec.ts``, ``test/SwapMath.spec.ts`` and
the 240 pool swaps of ``test/__snapshots__/UniswapV3Pool.swaps.spec.ts.snap`` (written by
``tests/vectors/extract_uniswap_v3.py``; each case cites its line). Every case must match
exactly, and the count per kind is pinned so a case cannot silently drop out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.mechanics.uniswap_v3 import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    Q96,
    UniswapV3Revert,
    compute_swap_step,
    get_amount0_delta,
    get_amount0_delta_signed,
    get_amount1_delta,
    get_amount1_delta_signed,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
    modify_position_amounts,
    swap,
)

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "uniswap_v3.json").read_text())[
    "uniswap_v3"]
COUNTS = {"getSqrtRatioAtTick": 34, "getTickAtSqrtRatio": 19, "getNextSqrtPriceFromInput": 12,
          "getNextSqrtPriceFromOutput": 14, "getAmount0Delta": 6, "getAmount1Delta": 3,
          "getAmount0DeltaRoundingGap": 1, "computeSwapStep": 9, "poolSwap": 240}


def _int(v: Any) -> Any:
    return int(v) if isinstance(v, str) and v.lstrip("-").isdigit() else v


def _ints(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _int(v) for k, v in d.items()}


def _reverts(fn: Any, reason: str) -> None:
    with pytest.raises(UniswapV3Revert) as err:
        fn()
    assert err.value.reason == reason


def _pool(inputs: dict[str, Any]) -> tuple[int, int, int, dict[int, int], int, int]:
    """Initialize a pool and mint its positions as UniswapV3Pool does: (sqrt price, tick,
    liquidity, ticks' liquidityNet, balance0, balance1)."""
    price = int(inputs["sqrtPriceX96"])
    tick = get_tick_at_sqrt_ratio(price)
    ticks: dict[int, int] = {}
    liquidity = bal0 = bal1 = 0
    for lo, hi, liq in inputs["positions"]:
        lo, hi, liq = int(lo), int(hi), int(liq)
        ticks[lo] = ticks.get(lo, 0) + liq
        ticks[hi] = ticks.get(hi, 0) - liq
        a0, a1 = modify_position_amounts(price, tick, lo, hi, liq)
        bal0, bal1 = bal0 + a0, bal1 + a1
        if lo <= tick < hi:
            liquidity += liq
    return price, tick, liquidity, ticks, bal0, bal1


def _check(case: dict[str, Any]) -> None:
    kind, inp, exp = case["kind"], _ints(case["inputs"]), _ints(case["expected"])
    if kind == "getSqrtRatioAtTick":
        if "revert" in exp:
            _reverts(lambda: get_sqrt_ratio_at_tick(inp["tick"]), exp["revert"])
        else:
            assert get_sqrt_ratio_at_tick(inp["tick"]) == exp["sqrtPriceX96"]
    elif kind == "getTickAtSqrtRatio":
        if "revert" in exp:
            _reverts(lambda: get_tick_at_sqrt_ratio(inp["sqrtPriceX96"]), exp["revert"])
        else:
            assert get_tick_at_sqrt_ratio(inp["sqrtPriceX96"]) == exp["tick"]
    elif kind in ("getNextSqrtPriceFromInput", "getNextSqrtPriceFromOutput"):
        fn = (get_next_sqrt_price_from_input if kind.endswith("Input")
              else get_next_sqrt_price_from_output)
        amount = inp.get("amountIn", inp.get("amountOut"))
        args = (inp["sqrtPX96"], inp["liquidity"], amount, inp["zeroForOne"])
        if "revert" in exp:
            _reverts(lambda: fn(*args), exp["revert"])
        else:
            assert fn(*args) == exp["sqrtQX96"]
    elif kind in ("getAmount0Delta", "getAmount1Delta"):
        fn = get_amount0_delta if kind == "getAmount0Delta" else get_amount1_delta
        assert fn(inp["sqrtRatioAX96"], inp["sqrtRatioBX96"], inp["liquidity"],
                  inp["roundUp"]) == exp["amount"]
    elif kind == "getAmount0DeltaRoundingGap":
        args = (inp["sqrtRatioAX96"], inp["sqrtRatioBX96"], inp["liquidity"])
        assert get_amount0_delta(*args, True) - get_amount0_delta(*args, False) == exp["gap"]
    elif kind == "computeSwapStep":
        cur, tgt, liq = inp["sqrtRatioCurrentX96"], inp["sqrtRatioTargetX96"], inp["liquidity"]
        rem, fee = inp["amountRemaining"], inp["feePips"]
        sq, a_in, a_out, fee_amt = compute_swap_step(cur, tgt, liq, rem, fee)
        assert (a_in, a_out, fee_amt) == (exp["amountIn"], exp["amountOut"], exp["feeAmount"])
        if "sqrtQ" in exp:
            assert sq == exp["sqrtQ"]
        elif "sqrtQ_is_next_price_from_input_of" in exp:  # amount - feeAmount
            assert sq == get_next_sqrt_price_from_input(cur, liq, rem - fee_amt, cur >= tgt)
            assert sq < tgt
        else:  # next price from the whole output -amount
            assert sq == get_next_sqrt_price_from_output(cur, liq, -rem, cur >= tgt)
            assert sq < tgt
    elif kind == "poolSwap":
        price, tick, liq, ticks, bal0, bal1 = _pool(inp)
        assert (bal0, bal1, tick) == (exp["amount0Before"], exp["amount1Before"],
                                      exp["tickBefore"])
        args = (price, tick, liq, ticks, inp["tickSpacing"], inp["fee"], inp["zeroForOne"],
                inp["amountSpecified"], inp["sqrtPriceLimitX96"])
        if "revert" in exp:
            _reverts(lambda: swap(*args), exp["revert"])
            return
        r = swap(*args)
        assert (r.amount0, r.amount1, r.tick) == (exp["amount0Delta"], exp["amount1Delta"],
                                                  exp["tickAfter"])
        growth = (r.fee_growth_global_x128, 0) if inp["zeroForOne"] else (
            0, r.fee_growth_global_x128)
        assert growth == (exp["feeGrowthGlobal0X128Delta"], exp["feeGrowthGlobal1X128Delta"])
        shown = float(exp["poolPriceAfter"])  # toPrecision(5) of (sqrtP / 2^96)^2
        assert abs((r.sqrt_price_x96 / Q96) ** 2 / shown - 1) < 1e-4
    else:
        raise AssertionError(f"unknown kind {kind}")


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
def test_vector(case: dict[str, Any]) -> None:
    _check(case)


def test_vector_counts_and_sources() -> None:
    counts: dict[str, int] = {}
    for c in VECTORS:
        counts[c["kind"]] = counts.get(c["kind"], 0) + 1
        assert c["source"].startswith("Uniswap/v3-core@d8b1c635c275d2a9450bd6a78f3fa2484fef73eb:")
        assert "#L" in c["source"]
    assert counts == COUNTS
    assert sum(1 for c in VECTORS if c["kind"] == "poolSwap" and "revert" in c["expected"]) == 50


def test_hand_checked_multi_tick_swap() -> None:
    """Two ranges: [-60, 60) with L = 1e18 and full range 1e18. Selling token0 with no fee
    down to tick -120: the step to tick -60 uses L = 2e18, the tick -60 crossing drops it to
    1e18, then the rest; amounts are the closed forms L (1/sqrt(b) - 1/sqrt(a)) per leg."""
    lo_r, hi_r = -60, 60
    ticks = {lo_r: 10**18, hi_r: -10**18, -887220: 10**18, 887220: -10**18}
    target = get_sqrt_ratio_at_tick(-120)
    r = swap(Q96, 0, 2 * 10**18, ticks, 60, 0, True, 2**255 - 1, target)
    s60 = get_sqrt_ratio_at_tick(-60)
    leg1_in = get_amount0_delta(s60, Q96, 2 * 10**18, True)
    leg2_in = get_amount0_delta(target, s60, 10**18, True)
    leg1_out = get_amount1_delta(s60, Q96, 2 * 10**18, False)
    leg2_out = get_amount1_delta(target, s60, 10**18, False)
    assert (r.amount0, r.amount1) == (leg1_in + leg2_in, -(leg1_out + leg2_out))
    assert (r.sqrt_price_x96, r.tick, r.liquidity, r.ticks_crossed) == (target, -120, 10**18, 1)
    # price 1.0001^-60 ~ 0.99402: leg 1 is 2e18 * (1/sqrt(0.99402) - 1) ~ 6.009e15 token0
    assert abs(leg1_in / 6.009e15 - 1) < 1e-3
    # and in floats: token1 out = L * (1 - sqrt(p)) per leg
    p60, p120 = 1.0001 ** -30, 1.0001 ** -60
    assert abs(-r.amount1 / (2e18 * (1 - p60) + 1e18 * (p60 - p120)) - 1) < 1e-9


def test_reverts_with_solidity_reasons() -> None:
    _reverts(lambda: swap(Q96, 0, 10**18, {}, 60, 3000, True, 0, MIN_SQRT_RATIO + 1), "AS")
    _reverts(lambda: swap(Q96, 0, 10**18, {}, 60, 3000, True, 10, Q96 + 1), "SPL")
    _reverts(lambda: swap(Q96, 0, 10**18, {}, 60, 3000, False, 10, MAX_SQRT_RATIO), "SPL")
    _reverts(lambda: modify_position_amounts(Q96, 0, 60, 60, 1), "TLU")
    _reverts(lambda: get_amount0_delta_signed(Q96, Q96 * 2, 2**127), "")  # not an int128
    assert get_amount1_delta_signed(Q96, 2 * Q96, -10) == -10
    assert get_amount1_delta_signed(Q96, 2 * Q96, 10) == 10


# ------------------------------------------------------------------ properties

ticks_st = st.integers(MIN_TICK, MAX_TICK)
prices_st = st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1)
liq_st = st.integers(1, 2**128 - 1)


@settings(max_examples=300, deadline=None)
@given(ticks_st)
def test_tick_round_trip(tick: int) -> None:
    r = get_sqrt_ratio_at_tick(tick)
    assert MIN_SQRT_RATIO <= r <= MAX_SQRT_RATIO
    if tick < MAX_TICK:
        assert get_tick_at_sqrt_ratio(r) == tick
        assert get_sqrt_ratio_at_tick(tick + 1) > r  # strictly increasing
        assert get_tick_at_sqrt_ratio(get_sqrt_ratio_at_tick(tick + 1) - 1) == tick


@settings(max_examples=300, deadline=None)
@given(prices_st)
def test_tick_at_ratio_is_the_greatest_tick_below(ratio: int) -> None:
    t = get_tick_at_sqrt_ratio(ratio)
    assert get_sqrt_ratio_at_tick(t) <= ratio < get_sqrt_ratio_at_tick(t + 1)


@settings(max_examples=300, deadline=None)
@given(prices_st, prices_st, st.integers(1, 2**100), st.integers(-(2**120), 2**120),
       st.sampled_from([0, 100, 500, 3000, 10000, 999_999]))
def test_swap_step_bounds(cur: int, tgt: int, liq: int, rem: int, fee: int) -> None:
    nxt, a_in, a_out, fee_amt = compute_swap_step(cur, tgt, liq, rem, fee)
    assert min(cur, tgt) <= nxt <= max(cur, tgt)  # never past the target
    if rem >= 0:
        assert a_in + fee_amt <= rem  # never takes more than it was given
    else:
        assert a_out <= -rem  # never pays more than asked
    if nxt != tgt and rem >= 0:
        assert a_in + fee_amt == rem  # short of the target: all of it is used
    # the pool is paid at least the value it gives: amount in covers the price move
    zfo = cur >= tgt
    need = (get_amount0_delta(nxt, cur, liq, True) if zfo
            else get_amount1_delta(cur, nxt, liq, True))
    assert a_in >= need or (rem >= 0 and nxt == tgt and a_in == need)


@settings(max_examples=300, deadline=None)
@given(st.integers(2**90, 2**100), st.integers(10**12, 10**24), st.integers(1, 10**22),
       st.booleans(), st.sampled_from([0, 500, 3000, 10000]))
def test_exact_in_and_exact_out_agree(cur: int, liq: int, amount: int, zfo: bool,
                                      fee: int) -> None:
    """Asking for exactly the output an exact-input step gave never costs more input."""
    tgt = MIN_SQRT_RATIO + 1 if zfo else MAX_SQRT_RATIO - 1
    _, a_in, a_out, f_in = compute_swap_step(cur, tgt, liq, amount, fee)
    if a_out == 0:
        return
    _, b_in, b_out, f_out = compute_swap_step(cur, tgt, liq, -a_out, fee)
    assert b_out == a_out
    assert b_in <= a_in
    assert b_in + f_out <= a_in + f_in


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10**21), st.booleans(), st.sampled_from([500, 3000, 10000]),
       st.lists(st.tuples(st.integers(-300, 300), st.integers(1, 300),
                          st.integers(10**15, 10**19)), min_size=0, max_size=4))
def test_multi_tick_round_trip_never_profits(amount: int, zfo: bool, fee: int,
                                             extra: list[tuple[int, int, int]]) -> None:
    """Selling and buying back across ticks returns at most what was sold, and the pool's
    real balances never go negative."""
    spacing = 60
    pos = [(-887220, 887220, 10**18)] + [(a * spacing, (a + w) * spacing, liq)
                                         for a, w, liq in extra]
    price, tick, liq, ticks, b0, b1 = _pool({"sqrtPriceX96": Q96, "positions": pos})
    lim = (MIN_SQRT_RATIO + 1, MAX_SQRT_RATIO - 1)
    r = swap(price, tick, liq, ticks, spacing, fee, zfo, amount, lim[0] if zfo else lim[1])
    assert (r.amount0 if zfo else r.amount1) <= amount
    got = -(r.amount1 if zfo else r.amount0)
    assert got >= 0
    assert b0 + r.amount0 >= 0 and b1 + r.amount1 >= 0
    if got == 0:
        return
    back = swap(r.sqrt_price_x96, r.tick, r.liquidity, ticks, spacing, fee, not zfo, got,
                lim[1] if zfo else lim[0])
    returned = -(back.amount0 if zfo else back.amount1)
    assert returned <= amount


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-40, 40), st.integers(1, 40),
                          st.integers(10**15, 10**19)), min_size=1, max_size=3),
       st.booleans(), st.integers(1, 10**20), st.sampled_from([500, 3000]))
def test_skipping_empty_words_changes_nothing(pos: list[tuple[int, int, int]], zfo: bool,
                                              amount: int, fee: int) -> None:
    """Without liquidity the pool walks empty 256-tick words one by one; :func:`swap` jumps
    to the next initialized tick. Amounts and state must be identical."""
    import contagion.mechanics.uniswap_v3 as v3

    spacing = 60
    positions = [(a * 600, (a + w) * 600, liq) for a, w, liq in pos]  # gaps of whole words
    price, tick, liq, ticks, _, _ = _pool({"sqrtPriceX96": Q96, "positions": positions})
    lim = MIN_SQRT_RATIO + 1 if zfo else MAX_SQRT_RATIO - 1
    fast = swap(price, tick, liq, ticks, spacing, fee, zfo, amount, lim)
    word = v3._next_initialized_tick_within_one_word
    orig = v3._next_initialized_tick
    try:
        v3._next_initialized_tick = lambda ts, t, lte: word(ts, t, spacing, lte)
        slow = swap(price, tick, liq, ticks, spacing, fee, zfo, amount, lim)
    finally:
        v3._next_initialized_tick = orig
    assert slow.steps >= fast.steps
    assert (fast.amount0, fast.amount1, fast.sqrt_price_x96, fast.tick, fast.liquidity,
            fast.fee_growth_global_x128, fast.ticks_crossed) == (
        slow.amount0, slow.amount1, slow.sqrt_price_x96, slow.tick, slow.liquidity,
        slow.fee_growth_global_x128, slow.ticks_crossed)
