"""Write ``tests/vectors/uniswap_v3.json`` from Uniswap/v3-core's own tests (issue 12).

Run: ``python tests/vectors/extract_uniswap_v3.py /path/to/v3-core.git`` (a clone or bare
mirror at the commit below). Expected values are never computed here: each comes verbatim
from a spec file's ``expect(...)`` (transcribed below with the line of its ``it(...)``) or
from a Jest snapshot (parsed). Inputs the specs build with ``encodePriceSqrt`` are
reproduced with bignumber.js's arithmetic (40 decimal places, half-up, then floor) and
written out as integers.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any

COMMIT = "d8b1c635c275d2a9450bd6a78f3fa2484fef73eb"
REPO = "Uniswap/v3-core"
OUT = Path(__file__).with_name("uniswap_v3.json")

U256 = 2**256 - 1
U128 = 2**128 - 1
MIN_SQRT = 4295128739
MAX_SQRT = 1461446703485210103287273052203988822378723970342
E18 = 10**18


def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    """test/shared/utilities.ts encodePriceSqrt with bn.config({DECIMAL_PLACES: 40}):
    div and sqrt rounded half-up to 40 places, times 2**96, floored."""
    q = Decimal("1e-40")
    with localcontext() as ctx:
        ctx.prec = 200
        ratio = (Decimal(reserve1) / Decimal(reserve0)).quantize(q, rounding=ROUND_HALF_UP)
        root = ratio.sqrt().quantize(q, rounding=ROUND_HALF_UP)
        return int((root * Decimal(2**96)).to_integral_value(rounding=ROUND_FLOOR))


def show(git_dir: str, path: str) -> str:
    return subprocess.run(["git", "--git-dir", git_dir, "show", f"{COMMIT}:{path}"],
                          check=True, capture_output=True, text=True).stdout


class Spec:
    def __init__(self, git_dir: str, path: str) -> None:
        self.path = path
        self.lines = show(git_dir, path).splitlines()

    def line_of(self, needle: str, after: int = 0) -> int:
        for i, line in enumerate(self.lines[after:], start=after + 1):
            if needle in line:
                return i
        raise KeyError(f"{needle!r} not in {self.path}")

    def source(self, line: int) -> str:
        return f"{REPO}@{COMMIT}:{self.path}#L{line}"


def s(v: Any) -> Any:
    """Big integers as strings; bools and small ints as they are."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dict):
        return {k: s(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [s(x) for x in v]
    return v


def case(out: list[dict[str, Any]], spec: Spec, title: str, kind: str, inputs: dict[str, Any],
         expected: dict[str, Any], note: str = "", after: str | None = None,
         name: str | None = None) -> None:
    start = spec.line_of(after) if after else 0
    line = spec.line_of(f"it('{title}'", start)
    out.append({"name": name or title, "kind": kind, "inputs": s(inputs),
                "expected": s(expected), "source": spec.source(line), "note": note})


def tick_math(git_dir: str, out: list[dict[str, Any]]) -> None:
    spec = Spec(git_dir, "test/TickMath.spec.ts")
    k = "getSqrtRatioAtTick"
    case(out, spec, "throws for too low", k, {"tick": -887273}, {"revert": "T"},
         name="getSqrtRatioAtTick throws for MIN_TICK - 1")
    line = spec.line_of("it('throws for too low'", spec.line_of("it('throws for too low'"))
    out.append({"name": "getSqrtRatioAtTick throws for MAX_TICK + 1", "kind": k,
                "inputs": s({"tick": 887273}), "expected": {"revert": "T"},
                "source": spec.source(line), "note": "the spec's second 'throws for too low'"})
    for title, tick, want in [("min tick", -887272, 4295128739),
                              ("min tick +1", -887271, 4295343490),
                              ("max tick - 1", 887271,
                               1461373636630004318706518188784493106690254656249),
                              ("max tick", 887272, MAX_SQRT)]:
        case(out, spec, title, k, {"tick": tick}, {"sqrtPriceX96": want},
             name=f"getSqrtRatioAtTick {title}")
    snap_path = "test/__snapshots__/TickMath.spec.ts.snap"
    snap = show(git_dir, snap_path)
    snap_lines = snap.splitlines()
    for i, line in enumerate(snap_lines, start=1):
        m = re.match(r'exports\[`TickMath #getSqrtRatioAtTick tick (-?\d+) result 1`\] = `"(\d+)"`;',
                     line)
        if m:
            out.append({"name": f"getSqrtRatioAtTick tick {m[1]} (snapshot)", "kind": k,
                        "inputs": {"tick": m[1]}, "expected": {"sqrtPriceX96": m[2]},
                        "source": f"{REPO}@{COMMIT}:{snap_path}#L{i}",
                        "note": "Jest snapshot of it('result') for this tick"})
    k = "getTickAtSqrtRatio"
    after = "describe('#getTickAtSqrtRatio'"
    case(out, spec, "throws for too low", k, {"sqrtPriceX96": MIN_SQRT - 1}, {"revert": "R"},
         after=after, name="getTickAtSqrtRatio throws for MIN_SQRT_RATIO - 1")
    case(out, spec, "throws for too high", k, {"sqrtPriceX96": MAX_SQRT}, {"revert": "R"},
         after=after, name="getTickAtSqrtRatio throws for MAX_SQRT_RATIO")
    for title, ratio, want in [("ratio of min tick", MIN_SQRT, -887272),
                               ("ratio of min tick + 1", 4295343490, -887271),
                               ("ratio of max tick - 1",
                                1461373636630004318706518188784493106690254656249, 887271),
                               ("ratio closest to max tick", MAX_SQRT - 1, 887271)]:
        case(out, spec, title, k, {"sqrtPriceX96": ratio}, {"tick": want}, after=after,
             name=f"getTickAtSqrtRatio {title}")
    for i, line in enumerate(snap_lines, start=1):
        m = re.match(r'exports\[`TickMath #getTickAtSqrtRatio ratio (\d+) result 1`\] = `(-?\d+)`;',
                     line)
        if m:
            out.append({"name": f"getTickAtSqrtRatio ratio {m[1]} (snapshot)", "kind": k,
                        "inputs": {"sqrtPriceX96": m[1]}, "expected": {"tick": m[2]},
                        "source": f"{REPO}@{COMMIT}:{snap_path}#L{i}",
                        "note": "Jest snapshot of it('result'); the ratio is in the test name"})


def sqrt_price_math(git_dir: str, out: list[dict[str, Any]]) -> None:
    spec = Spec(git_dir, "test/SqrtPriceMath.spec.ts")
    one = encode_price_sqrt(1, 1)
    p20 = 20282409603651670423947251286016
    k = "getNextSqrtPriceFromInput"
    a = "describe('#getNextSqrtPriceFromInput'"
    rows: list[tuple[str, tuple[int, int, int, bool], dict[str, Any]]] = [
        ("fails if price is zero", (0, 0, E18 // 10, False), {"revert": ""}),
        ("fails if liquidity is zero", (1, 0, E18 // 10, True), {"revert": ""}),
        ("fails if input amount overflows the price", (2**160 - 1, 1024, 1024, False),
         {"revert": ""}),
        ("any input amount cannot underflow the price", (1, 1, 2**255, True),
         {"sqrtQX96": 1}),
        ("returns input price if amount in is zero and zeroForOne = true",
         (one, E18 // 10, 0, True), {"sqrtQX96": one}),
        ("returns input price if amount in is zero and zeroForOne = false",
         (one, E18 // 10, 0, False), {"sqrtQX96": one}),
        ("returns the minimum price for max inputs",
         (2**160 - 1, U128, U256 - (U128 << 96) // (2**160 - 1), True), {"sqrtQX96": 1}),
        ("input amount of 0.1 token1", (one, E18, E18 // 10, False),
         {"sqrtQX96": 87150978765690771352898345369}),
        ("input amount of 0.1 token0", (one, E18, E18 // 10, True),
         {"sqrtQX96": 72025602285694852357767227579}),
        ("amountIn > type(uint96).max and zeroForOne = true", (one, 10 * E18, 2**100, True),
         {"sqrtQX96": 624999999995069620}),
        ("can return 1 with enough amountIn and zeroForOne = true", (one, 1, U256 // 2, True),
         {"sqrtQX96": 1}),
    ]
    for title, (p, liq, amt, zfo), want in rows:
        case(out, spec, title, k, {"sqrtPX96": p, "liquidity": liq, "amountIn": amt,
                                   "zeroForOne": zfo}, want, after=a, name=f"{k}: {title}")
    k = "getNextSqrtPriceFromOutput"
    a = "describe('#getNextSqrtPriceFromOutput'"
    rows = [
        ("fails if price is zero", (0, 0, E18 // 10, False), {"revert": ""}),
        ("fails if liquidity is zero", (1, 0, E18 // 10, True), {"revert": ""}),
        ("fails if output amount is exactly the virtual reserves of token0", (p20, 1024, 4, False),
         {"revert": ""}),
        ("fails if output amount is greater than virtual reserves of token0",
         (p20, 1024, 5, False), {"revert": ""}),
        ("fails if output amount is greater than virtual reserves of token1",
         (p20, 1024, 262145, True), {"revert": ""}),
        ("fails if output amount is exactly the virtual reserves of token1",
         (p20, 1024, 262144, True), {"revert": ""}),
        ("succeeds if output amount is just less than the virtual reserves of token1",
         (p20, 1024, 262143, True), {"sqrtQX96": 77371252455336267181195264}),
        ("puzzling echidna test", (p20, 1024, 4, False), {"revert": ""}),
        ("returns input price if amount in is zero and zeroForOne = true",
         (one, E18 // 10, 0, True), {"sqrtQX96": one}),
        ("returns input price if amount in is zero and zeroForOne = false",
         (one, E18 // 10, 0, False), {"sqrtQX96": one}),
        ("reverts if amountOut is impossible in zero for one direction", (one, 1, U256, True),
         {"revert": ""}),
        ("reverts if amountOut is impossible in one for zero direction", (one, 1, U256, False),
         {"revert": ""}),
    ]
    for title, (p, liq, amt, zfo), want in rows:
        case(out, spec, title, k, {"sqrtPX96": p, "liquidity": liq, "amountOut": amt,
                                   "zeroForOne": zfo}, want, after=a, name=f"{k}: {title}")
    first = spec.line_of("it('output amount of 0.1 token1'")
    for zfo, want, line in [(False, 88031291682515930659493278152, first),
                            (True, 71305346262837903834189555302,
                             spec.line_of("it('output amount of 0.1 token1'", first))]:
        out.append({"name": f"{k}: output amount of 0.1 token{1 if zfo else 0}", "kind": k,
                    "inputs": s({"sqrtPX96": one, "liquidity": E18, "amountOut": E18 // 10,
                                 "zeroForOne": zfo}),
                    "expected": s({"sqrtQX96": want}), "source": spec.source(line),
                    "note": "the spec titles both cases 'output amount of 0.1 token1'; with "
                            "zeroForOne = true it is token1 out, false token0 out"})
    p_two, p121 = encode_price_sqrt(2, 1), encode_price_sqrt(121, 100)
    for fn, a in [("getAmount0Delta", "describe('#getAmount0Delta'"),
                  ("getAmount1Delta", "describe('#getAmount1Delta'")]:
        case(out, spec, "returns 0 if liquidity is 0", fn,
             {"sqrtRatioAX96": one, "sqrtRatioBX96": p_two, "liquidity": 0, "roundUp": True},
             {"amount": 0}, after=a, name=f"{fn}: returns 0 if liquidity is 0")
        case(out, spec, "returns 0 if prices are equal", "getAmount0Delta",
             {"sqrtRatioAX96": one, "sqrtRatioBX96": one, "liquidity": 0, "roundUp": True},
             {"amount": 0}, after=a, name=f"getAmount0Delta: returns 0 if prices are equal ({fn})",
             note="the spec calls getAmount0Delta in both describe blocks")
        want = 90909090909090910 if fn == "getAmount0Delta" else 100000000000000000
        for up in (True, False):
            case(out, spec, "returns 0.1 amount1 for price of 1 to 1.21", fn,
                 {"sqrtRatioAX96": one, "sqrtRatioBX96": p121, "liquidity": E18, "roundUp": up},
                 {"amount": want if up else want - 1}, after=a,
                 name=f"{fn}: price 1 to 1.21, roundUp={up}",
                 note="rounded down is asserted as rounded up minus 1")
    case(out, spec, "works for prices that overflow", "getAmount0DeltaRoundingGap",
         {"sqrtRatioAX96": encode_price_sqrt(2**90, 1), "sqrtRatioBX96": encode_price_sqrt(2**96, 1),
          "liquidity": E18}, {"gap": 1},
         note="asserts getAmount0Delta(roundUp=true) == getAmount0Delta(roundUp=false) + 1")
    sp = 1025574284609383690408304870162715216695788925244
    liq = 50015962439936049619261659728067971248
    sq = 1025574284609383582644711336373707553698163132913
    case(out, spec, "sqrtP * sqrtQ overflows", "getNextSqrtPriceFromInput",
         {"sqrtPX96": sp, "liquidity": liq, "amountIn": 406, "zeroForOne": True},
         {"sqrtQX96": sq}, name="swap computation: sqrtP * sqrtQ overflows (next price)")
    case(out, spec, "sqrtP * sqrtQ overflows", "getAmount0Delta",
         {"sqrtRatioAX96": sq, "sqrtRatioBX96": sp, "liquidity": liq, "roundUp": True},
         {"amount": 406}, name="swap computation: sqrtP * sqrtQ overflows (amount0)")


def swap_math(git_dir: str, out: list[dict[str, Any]]) -> None:
    spec = Spec(git_dir, "test/SwapMath.spec.ts")
    one = encode_price_sqrt(1, 1)
    k = "computeSwapStep"
    p20 = 20282409603651670423947251286016
    rows: list[tuple[str, tuple[int, int, int, int, int], dict[str, Any], str]] = [
        ("exact amount in that gets capped at price target in one for zero",
         (one, encode_price_sqrt(101, 100), 2 * E18, E18, 600),
         {"amountIn": 9975124224178055, "feeAmount": 5988667735148,
          "amountOut": 9925619580021728, "sqrtQ": encode_price_sqrt(101, 100)},
         "sqrtQ asserted equal to the price target"),
        ("exact amount out that gets capped at price target in one for zero",
         (one, encode_price_sqrt(101, 100), 2 * E18, -E18, 600),
         {"amountIn": 9975124224178055, "feeAmount": 5988667735148,
          "amountOut": 9925619580021728, "sqrtQ": encode_price_sqrt(101, 100)},
         "sqrtQ asserted equal to the price target"),
        ("exact amount in that is fully spent in one for zero",
         (one, encode_price_sqrt(1000, 100), 2 * E18, E18, 600),
         {"amountIn": 999400000000000000, "feeAmount": 600000000000000,
          "amountOut": 666399946655997866, "sqrtQ_is_next_price_from_input_of": "amount - feeAmount"},
         "sqrtQ asserted equal to getNextSqrtPriceFromInput(price, liquidity, amount - feeAmount)"),
        ("exact amount out that is fully received in one for zero",
         (one, encode_price_sqrt(10000, 100), 2 * E18, -E18, 600),
         {"amountIn": 2000000000000000000, "feeAmount": 1200720432259356,
          "amountOut": E18, "sqrtQ_is_next_price_from_output_of": "-amount"},
         "sqrtQ asserted equal to getNextSqrtPriceFromOutput(price, liquidity, -amount)"),
        ("amount out is capped at the desired amount out",
         (417332158212080721273783715441582, 1452870262520218020823638996,
          159344665391607089467575320103, -1, 1),
         {"amountIn": 1, "feeAmount": 1, "amountOut": 1,
          "sqrtQ": 417332158212080721273783715441581}, ""),
        ("target price of 1 uses partial input amount",
         (2, 1, 1, 3915081100057732413702495386755767, 1),
         {"amountIn": 39614081257132168796771975168, "feeAmount": 39614120871253040049813,
          "amountOut": 0, "sqrtQ": 1}, ""),
        ("entire input amount taken as fee",
         (2413, 79887613182836312, 1985041575832132834610021537970, 10, 1872),
         {"amountIn": 0, "feeAmount": 10, "amountOut": 0, "sqrtQ": 2413}, ""),
        ("handles intermediate insufficient liquidity in zero for one exact output case",
         (p20, p20 * 11 // 10, 1024, -4, 3000),
         {"amountOut": 0, "sqrtQ": p20 * 11 // 10, "amountIn": 26215, "feeAmount": 79},
         "target is sqrtP.mul(11).div(10)"),
        ("handles intermediate insufficient liquidity in one for zero exact output case",
         (p20, p20 * 9 // 10, 1024, -263000, 3000),
         {"amountOut": 26214, "sqrtQ": p20 * 9 // 10, "amountIn": 1, "feeAmount": 1},
         "target is sqrtP.mul(9).div(10)"),
    ]
    for title, (cur, tgt, liq, rem, fee), want, note in rows:
        case(out, spec, title, k, {"sqrtRatioCurrentX96": cur, "sqrtRatioTargetX96": tgt,
                                   "liquidity": liq, "amountRemaining": rem, "feePips": fee},
             want, note=note, name=f"{k}: {title}")


# ------------------------------------------------------------------ pool swaps

FEE_SPACING = {500: 10, 3000: 60, 10000: 200}


def min_tick(sp: int) -> int:
    return -(887272 // sp) * sp


def max_tick(sp: int) -> int:
    return (887272 // sp) * sp


def max_liq_per_tick(sp: int) -> int:
    return U128 // ((max_tick(sp) - min_tick(sp)) // sp + 1)


def pools() -> list[tuple[str, int, int, list[tuple[int, int, int]]]]:
    """TEST_POOLS of test/UniswapV3Pool.swaps.spec.ts: (description, fee, start sqrt price,
    positions (tickLower, tickUpper, liquidity))."""
    two = 2 * E18
    out = []

    def full(fee: int, liq: int = two) -> tuple[int, int, int]:
        return (min_tick(FEE_SPACING[fee]), max_tick(FEE_SPACING[fee]), liq)

    one = encode_price_sqrt(1, 1)
    out.append(("low fee, 1:1 price, 2e18 max range liquidity", 500, one, [full(500)]))
    out.append(("medium fee, 1:1 price, 2e18 max range liquidity", 3000, one, [full(3000)]))
    out.append(("high fee, 1:1 price, 2e18 max range liquidity", 10000, one, [full(10000)]))
    out.append(("medium fee, 10:1 price, 2e18 max range liquidity", 3000,
                encode_price_sqrt(10, 1), [full(3000)]))
    out.append(("medium fee, 1:10 price, 2e18 max range liquidity", 3000,
                encode_price_sqrt(1, 10), [full(3000)]))
    out.append(("medium fee, 1:1 price, 0 liquidity, all liquidity around current price", 3000,
                one, [(min_tick(60), -60, two), (60, max_tick(60), two)]))
    out.append(("medium fee, 1:1 price, additional liquidity around current price", 3000, one,
                [full(3000), (min_tick(60), -60, two), (60, max_tick(60), two)]))
    out.append(("low fee, large liquidity around current price (stable swap)", 500, one,
                [(-10, 10, two)]))
    out.append(("medium fee, token0 liquidity only", 3000, one, [(0, 2000 * 60, two)]))
    out.append(("medium fee, token1 liquidity only", 3000, one, [(-2000 * 60, 0, two)]))
    out.append(("close to max price", 3000, encode_price_sqrt(2**127, 1), [full(3000)]))
    out.append(("close to min price", 3000, encode_price_sqrt(1, 2**127), [full(3000)]))
    out.append(("max full range liquidity at 1:1 price with default fee", 3000, one,
                [full(3000, max_liq_per_tick(60))]))
    out.append(("initialized at the max ratio", 3000, MAX_SQRT - 1, [full(3000)]))
    out.append(("initialized at the min ratio", 3000, MIN_SQRT, [full(3000)]))
    return out


def to_precision5(x: Decimal) -> str:
    """decimal.js toPrecision(5), half-up, never exponential for these magnitudes."""
    exp = x.adjusted()
    with localcontext() as ctx:
        ctx.prec = 100
        q = x.quantize(Decimal(1).scaleb(exp - 4), rounding=ROUND_HALF_UP)
    if q.adjusted() != exp:  # 9.99995 -> 10.000
        return to_precision5(q)
    return f"{q:f}"


def fmt_amount(n: int) -> str:
    return to_precision5(Decimal(n) / Decimal(E18))


def fmt_price(sqrt_x96: int) -> str:
    with localcontext() as ctx:
        ctx.prec = 100
        return to_precision5((Decimal(sqrt_x96) / Decimal(2**96)) ** 2)


def swap_tests() -> list[dict[str, Any]]:
    """DEFAULT_POOL_SWAP_TESTS: each as the pool.swap call TestUniswapV3Callee makes."""
    i256_max = 2**255 - 1
    rows: list[dict[str, Any]] = []

    def add(zfo: bool, exact_out: bool | None, amount: int | None, limit: int | None) -> None:
        plimit = limit if limit is not None else (MIN_SQRT + 1 if zfo else MAX_SQRT - 1)
        clause = f" to price {fmt_price(limit)}" if limit is not None else ""
        if exact_out is None:
            desc = f"swap token{0 if zfo else 1} for token{1 if zfo else 0}{clause}"
            spec_amt = i256_max
        elif exact_out:
            desc = (f"swap token0 for exactly {fmt_amount(amount or 0)} token1{clause}" if zfo
                    else f"swap token1 for exactly {fmt_amount(amount or 0)} token0{clause}")
            spec_amt = -(amount or 0)
        else:
            desc = (f"swap exactly {fmt_amount(amount or 0)} token0 for token1{clause}" if zfo
                    else f"swap exactly {fmt_amount(amount or 0)} token1 for token0{clause}")
            spec_amt = amount or 0
        rows.append({"description": desc, "zeroForOne": zfo, "amountSpecified": spec_amt,
                     "sqrtPriceLimitX96": plimit})

    for zfo, out_ in [(True, False), (False, False), (True, True), (False, True)]:
        add(zfo, out_, E18, None)
    for zfo, out_ in [(True, False), (False, False), (True, True), (False, True)]:
        add(zfo, out_, E18, encode_price_sqrt(50, 100) if zfo else encode_price_sqrt(200, 100))
    for zfo, out_ in [(True, False), (False, False), (True, True), (False, True)]:
        add(zfo, out_, 1000, None)
    add(False, None, None, encode_price_sqrt(5, 2))
    add(True, None, None, encode_price_sqrt(2, 5))
    add(True, None, None, encode_price_sqrt(5, 2))
    add(False, None, None, encode_price_sqrt(2, 5))
    return rows


def parse_snapshot(text: str) -> dict[str, tuple[int, dict[str, Any]]]:
    found: dict[str, tuple[int, dict[str, Any]]] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"exports\[`UniswapV3Pool swap tests (.*) 1`\] = `", lines[i])
        if not m:
            i += 1
            continue
        start = i + 1
        body: dict[str, Any] = {}
        i += 1
        while not lines[i].startswith("`;"):
            kv = re.match(r'\s+"(\w+)": (.*),$', lines[i])
            if kv:
                v = kv[2]
                body[kv[1]] = json.loads(v) if v.startswith('"') else int(v)
            i += 1
        found[m[1]] = (start, body)
    return found


def pool_swaps(git_dir: str, out: list[dict[str, Any]]) -> None:
    spec = Spec(git_dir, "test/UniswapV3Pool.swaps.spec.ts")
    snap_path = "test/__snapshots__/UniswapV3Pool.swaps.spec.ts.snap"
    snap = parse_snapshot(show(git_dir, snap_path))
    used = set()
    for desc, fee, start, positions in pools():
        pool_line = spec.line_of(f"description: '{desc}'")
        for t in swap_tests():
            key = f"{desc} {t['description']}"
            if key not in snap:
                raise KeyError(f"no snapshot for {key!r}")
            line, body = snap[key]
            used.add(key)
            inputs = {"fee": fee, "tickSpacing": FEE_SPACING[fee], "sqrtPriceX96": start,
                      "positions": [list(p) for p in positions],
                      "zeroForOne": t["zeroForOne"], "amountSpecified": t["amountSpecified"],
                      "sqrtPriceLimitX96": t["sqrtPriceLimitX96"]}
            if "swapError" in body:
                reason = body["swapError"].rsplit("revert ", 1)[1]
                expected = {"revert": reason, "amount0Before": int(body["poolBalance0"]),
                            "amount1Before": int(body["poolBalance1"]),
                            "tickBefore": body["tickBefore"]}
            else:
                expected = {k: int(body[k]) for k in (
                    "amount0Before", "amount1Before", "amount0Delta", "amount1Delta",
                    "feeGrowthGlobal0X128Delta", "feeGrowthGlobal1X128Delta")}
                expected |= {"tickBefore": body["tickBefore"], "tickAfter": body["tickAfter"],
                             "poolPriceAfter": body["poolPriceAfter"]}
            out.append({
                "name": f"pool swap: {key}", "kind": "poolSwap", "inputs": s(inputs),
                "expected": s(expected), "source": f"{REPO}@{COMMIT}:{snap_path}#L{line}",
                "note": f"pool from {spec.path}#L{pool_line}; the swap is TestUniswapV3Callee's "
                        "pool.swap call (no price limit: MIN_SQRT_RATIO + 1 / MAX_SQRT_RATIO - 1; "
                        "swap to a price: amountSpecified = type(int256).max); amounts are the "
                        "pool's balance changes, the 'Before' values its balances after the mints"})
    missing = set(snap) - used
    if missing:
        raise KeyError(f"snapshots not matched: {sorted(missing)[:3]}")


def main() -> None:
    git_dir = sys.argv[1]
    out: list[dict[str, Any]] = []
    tick_math(git_dir, out)
    sqrt_price_math(git_dir, out)
    swap_math(git_dir, out)
    pool_swaps(git_dir, out)
    OUT.write_text(json.dumps({"uniswap_v3": out}, indent=1) + "\n")
    counts: dict[str, int] = {}
    for c in out:
        counts[c["kind"]] = counts.get(c["kind"], 0) + 1
    print(len(out), counts)


if __name__ == "__main__":
    main()
