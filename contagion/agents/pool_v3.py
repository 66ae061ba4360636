"""Uniswap-V3 concentrated-liquidity pools, usable wherever a V2 pool (:class:`AMMPool`) is.

The pool keeps v3-core's integer state (``sqrtPriceX96``, the tick, the in-range liquidity,
each position's range and liquidity) and trades through the exact integer maths of
:mod:`contagion.mechanics.uniswap_v3`. The engine's amounts are floats (units of the base,
US dollars of the stablecoin); the pool converts them to integer token units with 18
decimals for both tokens (:data:`DECIMALS`: one unit is ``10**18`` raw units, so the raw
price token1/token0 is the price in USD), rounding the amount sent in down, and converts
the integer amounts it pays back to floats. Its token balances (:meth:`holdings`) are kept
in floats as the engine paid them, so the model's conservation check holds exactly as for
a V2 pool.
"""

from __future__ import annotations

import math
from collections import deque
from fractions import Fraction
from typing import TYPE_CHECKING

import mesa
import numpy as np
from numpy.typing import NDArray

from contagion.agents.pool import AMMPool
from contagion.errors import ParameterError
from contagion.ledger import pool_source
from contagion.mechanics.price_path import PATH_RANGE
from contagion.mechanics.uniswap_v3 import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    Q96,
    SwapResult,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
    max_liquidity_per_tick,
    modify_position_amounts,
    swap,
)

if TYPE_CHECKING:
    from contagion.model import ContagionModel
    from contagion.params import PoolParams

__all__ = ["DECIMALS", "ConcentratedPool", "make_pool", "sqrt_price_x96_of"]

#: Decimals of both tokens in the integer maths: one engine unit (or dollar) is
#: ``10**DECIMALS`` raw units.
DECIMALS = 18
_SCALE = 10**DECIMALS
_SCALE_F = float(_SCALE)
_I256_MAX = 2**255 - 1
_LOG_TICK = math.log(1.0001)


def make_pool(model: ContagionModel, params: PoolParams) -> AMMPool:
    """The pool agent of ``params.kind``: V2 constant product or V3 concentrated."""
    return ConcentratedPool(model, params) if params.kind == "v3" else AMMPool(model, params)


def sqrt_price_x96_of(price: float) -> int:
    """``floor(sqrt(price) * 2**96)`` exactly for a float ``price``, kept inside
    ``[MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1]``."""
    f = Fraction(price)
    root = math.isqrt(f.numerator * 2**192 // f.denominator)
    return min(max(root, MIN_SQRT_RATIO), MAX_SQRT_RATIO - 1)


def _price_of(sqrt_price_x96: int) -> float:
    return sqrt_price_x96 * sqrt_price_x96 / 2**192


def _raw(amount: float) -> int:
    return min(int(amount * _SCALE_F), _I256_MAX)


class ConcentratedPool(AMMPool):
    """A Uniswap-V3 pool of ``base`` (token0) against the stablecoin (token1).

    Positions are minted at the start price ``P0`` from ``params.v3_ranges`` (see
    :class:`~contagion.params.PoolParams`): together they hold twice ``reserve_base`` at
    ``P0`` in value, as the V2 pool of the same parameters, so a single full-range position
    trades as that V2 pool (up to integer rounding). Swaps, quotes and arbitrage run
    v3-core's :func:`~contagion.mechanics.uniswap_v3.swap` across the initialized ticks.

    ``reserve_base`` and ``reserve_quote`` are the *virtual* reserves of the current range
    (``L / sqrt(P)`` and ``L sqrt(P)``): the constant-product curve a small trade sees, for
    callers that price a trade with V2 formulas; trades themselves always go through the
    V3 maths. The pool's real token balances are :meth:`holdings`.
    """

    def __init__(self, model: ContagionModel, params: PoolParams) -> None:
        mesa.Agent.__init__(self, model)
        self.params = params
        self.name = params.name
        market = model.market
        self.base = market.index[params.base]
        self.quote = market.numeraire
        self.fee_pips = round(params.fee_frac * 1e6)
        self.tick_spacing = int(params.tick_spacing)
        p0 = float(market.price[self.base])
        self.sqrt_price = sqrt_price_x96_of(p0)
        self.tick = get_tick_at_sqrt_ratio(self.sqrt_price)
        self.liquidity = 0
        #: [tick_lower, tick_upper, liquidity] of each position
        self.positions: list[list[int]] = []
        self.ticks: dict[int, int] = {}
        self.balance_base = 0.0
        self.balance_quote = 0.0
        self._mint(p0)
        self.start_price = self.spot
        self._start_liquidity = self.liquidity
        self.withdrawn_base = 0.0
        self.withdrawn_quote_usd = 0.0
        self.fees_base = 0.0  # fees paid in, in each token
        self.fees_quote_usd = 0.0
        self._pending: SwapResult | None = None
        self.history: deque[float] = deque(maxlen=10_000)
        self.history.append(self.spot)
        self.volume_sold_usd = 0.0
        self.step_impact_frac = 0.0
        self._step_start_spot = self.spot
        self.arb_capacity_usd_per_step = float(params.arb_capacity_usd_per_step)
        self.source = pool_source(params.name)
        self._mark = self.spot
        self._first_spot = self.spot
        self._synced_seq = model.moves.seq

    # ------------------------------------------------------------ state
    def _mint(self, p0: float) -> None:
        """Mint ``v3_ranges`` at the start price: each range gets its share of the value
        ``2 reserve_base P0`` (in raw token1), as integer liquidity."""
        params, sp = self.params, self.tick_spacing
        lo_max, hi_max = -(MAX_TICK // sp) * sp, (MAX_TICK // sp) * sp
        value_raw = 2.0 * params.reserve_base * p0 * _SCALE_F
        s = self.sqrt_price / Q96
        cap = max_liquidity_per_tick(sp)
        for i, (width, share) in enumerate(params.v3_ranges):
            if math.isinf(width):
                lo, hi = lo_max, hi_max
            else:
                lo = math.floor(math.log(p0 / (1.0 + width)) / _LOG_TICK / sp) * sp
                hi = math.ceil(math.log(p0 * (1.0 + width)) / _LOG_TICK / sp) * sp
                lo = min(max(lo, lo_max), (self.tick // sp) * sp)
                hi = max(min(hi, hi_max), (self.tick // sp + 1) * sp)
            s_lo = get_sqrt_ratio_at_tick(lo) / Q96
            s_hi = get_sqrt_ratio_at_tick(hi) / Q96
            per_l = (1.0 / s - 1.0 / s_hi) * p0 + (s - s_lo)  # value of one unit of L
            liq = int(share * value_raw / per_l)
            if not 0 < liq <= cap:
                raise ParameterError(f"pools[{self.name}].reserve_base", params.reserve_base,
                                     f"a size whose range {i} liquidity fits 0 < L <= {cap}",
                                     f"it needs L = {liq}")
            a0, a1 = modify_position_amounts(self.sqrt_price, self.tick, lo, hi, liq)
            self.balance_base += a0 / _SCALE_F
            self.balance_quote += a1 / _SCALE_F
            self.positions.append([lo, hi, liq])
            if lo <= self.tick < hi:
                self.liquidity += liq
        self._rebuild_ticks()

    def _rebuild_ticks(self) -> None:
        """Each initialized tick's liquidityNet from the positions (a tick no position
        uses is cleared, as the pool's bitmap does)."""
        ticks: dict[int, int] = {}
        for lo, hi, liq in self.positions:
            if liq > 0:
                ticks[lo] = ticks.get(lo, 0) + liq
                ticks[hi] = ticks.get(hi, 0) - liq
        self.ticks = ticks

    def _swap(self, zero_for_one: bool, amount: int, limit: int | None = None) -> SwapResult | None:
        """The pool's swap (not committed); ``None`` when there is nothing to do."""
        if limit is None:
            limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
        if amount == 0 or (self.sqrt_price <= limit if zero_for_one else self.sqrt_price >= limit):
            return None
        return swap(self.sqrt_price, self.tick, self.liquidity, self.ticks, self.tick_spacing,
                    self.fee_pips, zero_for_one, amount, limit)

    def _commit(self, r: SwapResult, zero_for_one: bool) -> None:
        self.sqrt_price, self.tick, self.liquidity = r.sqrt_price_x96, r.tick, r.liquidity
        if zero_for_one:
            self.fees_base += r.fee_amount / _SCALE_F
        else:
            self.fees_quote_usd += r.fee_amount / _SCALE_F

    @property
    def spot(self) -> float:
        """Marginal price of base in USD (no fee): ``(sqrtPriceX96 / 2**96)**2``."""
        return _price_of(self.sqrt_price)

    @property
    def reserve_base(self) -> float:
        """Virtual base reserve of the current range, ``L / sqrt(P)`` (units; ``L`` at least
        one raw unit, so a pool priced out of its ranges shows a vanishing, not an empty,
        curve to the V2 formulas)."""
        return max(self.liquidity, 1) / _SCALE_F * Q96 / self.sqrt_price

    @reserve_base.setter
    def reserve_base(self, value: float) -> None:
        raise AttributeError("a V3 pool's reserves are virtual: trade through its methods")

    @property
    def reserve_quote(self) -> float:
        """Virtual quote reserve of the current range, ``L sqrt(P)`` (USD; as
        :attr:`reserve_base`)."""
        return max(self.liquidity, 1) / _SCALE_F * self.sqrt_price / Q96

    @reserve_quote.setter
    def reserve_quote(self, value: float) -> None:
        raise AttributeError("a V3 pool's reserves are virtual: trade through its methods")

    @property
    def in_range_liquidity(self) -> float:
        """The liquidity at the current price, in units of ``10**DECIMALS``."""
        return self.liquidity / _SCALE_F

    # ------------------------------------------------------------ trades
    def _sell(self, units: float, floor_price: float | None = None) -> tuple[float, float]:
        """Sell up to ``units`` of base (down to ``floor_price``); return (units the pool
        took, USD out)."""
        limit = None if floor_price is None else max(sqrt_price_x96_of(floor_price),
                                                     MIN_SQRT_RATIO + 1)
        r = self._swap(True, _raw(units), limit)
        if r is None:
            return 0.0, 0.0
        self._commit(r, True)
        return r.amount0 / _SCALE_F, -r.amount1 / _SCALE_F

    def sell_base(self, units: float) -> float:
        """Sell ``units`` of base into the pool; return USD out (V3 integer maths).

        The pool keeps all ``units``: a sale that drains every range down to the lowest
        price fills in part and the rest is sold for nothing.
        """
        if units <= 0:
            return 0.0
        _, out = self._sell(units)
        self.balance_base += units
        self.balance_quote -= out
        self.volume_sold_usd += out
        return out

    def buy_base(self, usd: float) -> float:
        """Pay ``usd`` of the stablecoin into the pool for base; return base units out."""
        if usd <= 0:
            return 0.0
        r = self._swap(False, _raw(usd))
        if r is None:
            out = 0.0
        else:
            self._commit(r, False)
            out = -r.amount0 / _SCALE_F
        self.balance_quote += usd
        self.balance_base -= out
        return out

    def manipulate(self, usd: float, direction: str) -> float:
        """An outside attacker trades ``usd`` of notional to push the price; returns the move.

        A dump stops at ``1 / PATH_RANGE`` of the first spot, as for a V2 pool; the attacker
        then sells only what the pool took."""
        if direction == "pump":
            return super().manipulate(usd, direction)
        before = self.spot
        market = self.model.market
        taken, got = self._sell(usd / self.spot, self._first_spot / PATH_RANGE)
        self.balance_base += taken
        self.balance_quote -= got
        self.volume_sold_usd += got
        market.outside_receives(self.base, -taken)
        market.outside_receives(self.quote, got)
        return self.spot / before - 1.0

    def quote_sell(self, units: float) -> float:
        """USD that selling ``units`` of base would return now (exact, no state change)."""
        if units <= 0:
            return 0.0
        r = self._swap(True, _raw(units))
        return 0.0 if r is None else -r.amount1 / _SCALE_F

    def cost_to_buy(self, units: float) -> float:
        """USD that buying ``units`` of base would cost now: the exact-output swap's input
        (``inf`` if the pool cannot pay them all below its top price; no state change)."""
        want = _raw(units)
        r = self._swap(False, -want) if want > 0 else None
        if r is None:
            return 0.0 if want <= 0 else math.inf
        return r.amount1 / _SCALE_F if -r.amount0 >= want else math.inf

    def _sell_curve(self) -> tuple[NDArray[np.float64], ...]:
        """The ranges a sale walks through, from the price down: per segment the net
        input at its start and end, the USD paid out before it, its top sqrt price and its
        liquidity (floats, in units)."""
        s_hi = self.sqrt_price / Q96
        liq = self.liquidity
        c0, c1, q0, tops, ls = [], [], [], [], []
        c = q = 0.0
        below = sorted((t for t in self.ticks if t <= self.tick), reverse=True)
        for t in [*below, None]:
            s_lo = (get_sqrt_ratio_at_tick(t) if t is not None else MIN_SQRT_RATIO) / Q96
            lf = liq / _SCALE_F
            dc = lf * (1.0 / s_lo - 1.0 / s_hi) if lf > 0 else 0.0
            c0.append(c)
            c1.append(c + dc)
            q0.append(q)
            tops.append(s_hi)
            ls.append(lf)
            c, q = c + dc, q + lf * (s_hi - s_lo)
            if t is not None:
                liq -= self.ticks[t]
            s_hi = s_lo
        return tuple(np.array(a, dtype=np.float64) for a in (c0, c1, q0, tops, ls))

    def quote_sell_many(self, units: np.ndarray) -> np.ndarray:
        """USD out for each entry of ``units`` sold alone into the current pool.

        Vectorised in floats over the pool's ranges (within 1e-9 of :meth:`quote_sell`'s
        integer maths): the net input ``units (1 - fee)`` is located among the ranges, and
        within one of liquidity ``L`` from sqrt price ``s`` the price moves to
        ``s' = L s / (L + x s)``, paying ``L (s - s') = L x s**2 / (L + x s)``.
        """
        u = np.asarray(units, dtype=np.float64)
        x = np.maximum(u, 0.0) * (1.0 - self.params.fee_frac)
        c0, c1, q0, tops, ls = self._sell_curve()
        i = np.searchsorted(c1, x, side="right")
        inside = i < c1.size
        j = np.minimum(i, c1.size - 1)
        r, t, lj = x - c0[j], tops[j], ls[j]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # L (s - s') with s' = L s / (L + r s), written without the cancellation
            out = np.where(inside, q0[j] + lj * r * t * t / (lj + r * t),
                           q0[-1] + ls[-1] * (tops[-1] - MIN_SQRT_RATIO / Q96))
        return np.asarray(np.where(u > 0, out, 0.0), dtype=np.float64)

    # ------------------------------------------------------------ arbitrage
    def _arbitrage_trade(self) -> tuple[float, float]:
        """The trade that stops where the pool's fee-adjusted price meets the external
        price after the arbitrageur's external unwind (as :func:`arbitrage_with_impact`
        for V2): a bisection on the target sqrt price, each candidate priced by the exact
        swap to it, then the swap to the last candidate short of the meeting point (capped
        at ``arb_capacity_usd_per_step`` of quote in, or out)."""
        self._pending = None
        market = self.model.market
        p = market.quote_price(self.base)
        depth = market.quote_depth(self.base)
        g = 1.0 - self.params.fee_frac
        cap = self.arb_capacity_usd_per_step
        spot = self.spot
        if cap <= 0.0 or g * p <= spot <= p / g:
            return 0.0, 0.0
        buy = spot < g * p  # the pool is cheap: buy base from it (token1 in)
        target = sqrt_price_x96_of(g * p if buy else p / g)
        if buy:
            target = min(max(target, self.sqrt_price), MAX_SQRT_RATIO - 1)
        else:
            target = max(min(target, self.sqrt_price), MIN_SQRT_RATIO + 1)
        if target == self.sqrt_price:
            return 0.0, 0.0
        if math.isfinite(depth):
            target = self._meeting_point(buy, target, p, depth, g)
            if target == self.sqrt_price:
                return 0.0, 0.0
        amount = _raw(cap) if math.isfinite(cap) else _I256_MAX
        # buying: at most cap of quote in (exact input); selling: at most cap out (exact output)
        r = self._swap(not buy, amount if buy else -amount, target)
        if r is None or (r.amount0 == 0 and r.amount1 == 0):
            return 0.0, 0.0
        self._pending = r
        return r.amount0 / _SCALE_F, r.amount1 / _SCALE_F

    def _meeting_point(self, buy: bool, target: int, p: float, depth: float, g: float) -> int:
        """The sqrt price (between now and ``target``) where the pool's fee-adjusted spot
        meets ``p`` moved by the unwind of the base the swap to it trades; rounded toward
        the current price, so the two never cross."""
        def short_of(q: int) -> bool:  # True: at q the pool has not yet met the market
            r = self._swap(not buy, _I256_MAX, q)
            if r is None:
                return True
            d = abs(r.amount0) / _SCALE_F
            if buy:
                return _price_of(r.sqrt_price_x96) < g * p * math.exp(-d * p / depth)
            return g * _price_of(r.sqrt_price_x96) > p * math.exp(min(d * p / depth, 700.0))

        near, far = self.sqrt_price, target
        if short_of(far):
            return far
        for _ in range(200):
            if abs(far - near) <= max(1, near >> 44):
                break
            mid = (near + far) // 2
            if short_of(mid):
                near = mid
            else:
                far = mid
        return near

    def _take_arbitrage(self, d_base: float, d_quote: float) -> None:
        r = self._pending
        if r is not None:
            self._commit(r, r.amount0 > 0)
        self._pending = None
        self.balance_base += d_base
        self.balance_quote += d_quote

    # ------------------------------------------------------------ liquidity
    def begin_step(self) -> None:
        """Mark the step's start spot; LPs pull liquidity if the price fell far enough."""
        super().begin_step()
        self.withdraw_liquidity()

    def withdraw_liquidity(self) -> None:
        """LPs burn ``lp_withdraw_frac_per_step`` of every in-range position once the spot
        is more than ``lp_withdraw_below_frac`` below the start price; the tokens go to
        them (the outside world). Logs a ``liquidity_withdrawal`` event."""
        p = self.params
        frac = p.lp_withdraw_frac_per_step
        drawdown = 1.0 - self.spot / self.start_price
        if frac <= 0.0 or drawdown <= p.lp_withdraw_below_frac or self.liquidity == 0:
            return
        before = self.liquidity
        a0 = a1 = 0
        touched = 0
        for pos in self.positions:
            lo, hi, liq = pos
            if not lo <= self.tick < hi or liq == 0:
                continue
            d = int(liq * frac)
            if d <= 0:
                continue
            b0, b1 = modify_position_amounts(self.sqrt_price, self.tick, lo, hi, -d)
            a0, a1 = a0 - b0, a1 - b1
            pos[2] = liq - d
            self.liquidity -= d
            touched += 1
        if touched == 0:
            return
        self._rebuild_ticks()
        base_units = min(a0 / _SCALE_F, max(self.balance_base, 0.0))
        quote_usd = min(a1 / _SCALE_F, max(self.balance_quote, 0.0))
        self.balance_base -= base_units
        self.balance_quote -= quote_usd
        self.withdrawn_base += base_units
        self.withdrawn_quote_usd += quote_usd
        market = self.model.market
        market.outside_receives(self.base, base_units)
        market.outside_receives(self.quote, quote_usd)
        asset = market.assets[self.base]
        spot = self.spot
        left = self.liquidity / self._start_liquidity if self._start_liquidity else 0.0
        self.model.events.add(
            "liquidity_withdrawal", step=self.model.steps, agent=self.name, asset=asset,
            amount=base_units, value_usd=base_units * spot + quote_usd, price=spot,
            cause_id=self.model.moves.last(self.source),
            liquidity_frac=1.0 - self.liquidity / before, positions=touched,
            base_units=base_units, quote_usd=quote_usd, drawdown_frac=drawdown,
            liquidity_left_frac=left,
            detail=f"LPs of {self.name} pulled {1.0 - self.liquidity / before:.0%} of its "
                   f"in-range liquidity ({base_units:,.4g} {asset} and ${quote_usd:,.0f}) "
                   f"with {asset} {drawdown:.0%} below its start; {left:.0%} of the starting "
                   "depth is left at the price")

    def holdings(self) -> dict[int, float]:
        """Units of each asset in the pool (its real token balances)."""
        return {self.base: self.balance_base, self.quote: self.balance_quote}
