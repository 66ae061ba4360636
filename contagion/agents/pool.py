"""Uniswap-V2 constant-product pools that liquidators sell into and arbitrageurs repair."""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from contagion.ledger import pool_source
from contagion.mechanics.amm import arbitrage_with_impact, swap_in, swap_out
from contagion.mechanics.price_path import PATH_RANGE

if TYPE_CHECKING:
    from contagion.model import ContagionModel
    from contagion.params import PoolParams

__all__ = ["AMMPool"]

SYNCED_TOL = 1e-6  # a pool within this of the external price has met the market
#: A trade this many times the reserve it goes into: the reserve left is computed as
#: ``r_out r_in / (r_in + g a)``, not ``r_out - out``, which loses a digit per factor of ten
#: of the trade and reaches 0 (a spot of 0) past ~1e16 (a 1e-9 unit pool, a 1e7 unit sale).
HUGE_TRADE = 1e6


def _swap_out(amount: Any, reserve_in: float, reserve_out: float, fee_frac: float) -> Any:
    """:func:`~contagion.mechanics.amm.swap_out`, bit for bit (the same operations in the
    same order), without its four argument checks when the amounts and the pool are plainly
    valid (amounts finite and >= 0, reserves finite and > 0, fee in [0, 1)): a pool quotes
    every liquidation's sale, and the checks cost more than the quote. Anything else goes
    through ``swap_out``, which raises as before."""
    if 0.0 < reserve_in < math.inf and 0.0 < reserve_out < math.inf and 0.0 <= fee_frac < 1.0:
        if isinstance(amount, float):
            plain = 0.0 <= amount < math.inf
        elif isinstance(amount, np.ndarray) and amount.dtype == np.float64 and amount.size:
            plain = bool(0.0 <= amount.min() and amount.max() < math.inf)
        else:
            plain = False
        if plain:
            g = 1.0 - fee_frac
            return amount * g * reserve_out / (reserve_in + amount * g)
    return swap_out(amount, reserve_in, reserve_out, fee_frac)


def _in_fee_band(x: float, y: float, price: float, depth: float, fee_frac: float,
                 cap: float) -> bool:
    """Whether :func:`~contagion.mechanics.amm.arbitrage_with_impact` would find no trade
    for valid, plain floats and a finite depth: the pool's spot within the fee band,
    ``g price <= y / x <= price / g``, compared as it compares (about half of a run's
    arbitrage calls, each spared six argument checks). Anything else: ``False``, so the
    call is made (and raises on a bad argument as before)."""
    if not (type(x) is float and type(y) is float and type(price) is float
            and type(depth) is float and type(fee_frac) is float and type(cap) is float):
        return False
    if not (0.0 < x < math.inf and 0.0 < y < math.inf and 0.0 < price < math.inf
            and 0.0 < depth < math.inf and 0.0 <= fee_frac < 1.0 and cap >= 0.0):
        return False
    g = 1.0 - fee_frac
    spot = y / x
    return not spot < g * price and not spot > price / g


class AMMPool(mesa.Agent):
    """A pool of ``base`` against the numeraire stablecoin.

    Each step, arbitrageurs trade the pool toward the external price with at most
    ``arb_capacity_usd_per_step`` of notional; their external leg moves the external price
    (so selling into the pool has a partly permanent impact), and they stop where the pool
    meets the external price after that move, so the two never cross.
    """

    def __init__(self, model: ContagionModel, params: PoolParams) -> None:
        super().__init__(model)
        self.params = params
        self.name = params.name
        market = model.market
        self.base = market.index[params.base]
        self.quote = market.numeraire
        self.reserve_base = float(params.reserve_base)
        self.reserve_quote = float(params.reserve_base * market.price[self.base])
        self.history: deque[float] = deque(maxlen=10_000)
        self.history.append(self.spot)
        self.volume_sold_usd = 0.0
        self.step_impact_frac = 0.0
        self._step_start_spot = self.spot
        self.arb_capacity_usd_per_step = float(params.arb_capacity_usd_per_step)
        self.source = pool_source(params.name)
        self._mark = self.spot  # the spot when a move was last attributed to an event
        self._first_spot = self.spot
        self._synced_seq = model.moves.seq  # when arbitrage last brought it to the market

    @property
    def spot(self) -> float:
        """Marginal price of base in USD (no fee)."""
        return self.reserve_quote / self.reserve_base

    def twap(self, window: int, delay: int = 0) -> float:
        """Time-weighted average spot over the last ``window`` recorded steps, ``delay`` late."""
        h = self.history
        end = max(1, len(h) - delay)
        seg = [h[i] for i in range(max(0, end - window), end)]  # not a copy of the history
        if not seg:
            return float(np.mean(seg))
        # np.mean's own arithmetic (a float64 sum, divided by the count) without its
        # bookkeeping, which cost more than the sum of a few spots
        return float(np.add.reduce(np.array(seg, dtype=np.float64)) / len(seg))

    def sell_base(self, units: float) -> float:
        """Sell ``units`` of base into the pool; return USD out (float Uniswap maths)."""
        if units <= 0:
            return 0.0
        x, y = self.reserve_base, self.reserve_quote
        out = float(_swap_out(units, x, y, self.params.fee_frac))
        self.reserve_base += units
        if units > HUGE_TRADE * x:  # y - out would cancel (to 0 past 1e16): y x / (x + g a)
            self.reserve_quote = y * x / (x + (1.0 - self.params.fee_frac) * units)
            out = y - self.reserve_quote
        else:
            self.reserve_quote -= out
        self.volume_sold_usd += out
        return out

    def buy_base(self, usd: float) -> float:
        """Pay ``usd`` of the stablecoin into the pool for base; return base units out."""
        if usd <= 0:
            return 0.0
        x, y = self.reserve_base, self.reserve_quote
        out = float(_swap_out(usd, y, x, self.params.fee_frac))
        self.reserve_quote += usd
        if usd > HUGE_TRADE * y:  # as in sell_base
            self.reserve_base = x * y / (y + (1.0 - self.params.fee_frac) * usd)
            out = x - self.reserve_base
        else:
            self.reserve_base -= out
        return out

    def manipulate(self, usd: float, direction: str) -> float:
        """An outside attacker trades ``usd`` of notional to push the price; returns the move."""
        before = self.spot
        market = self.model.market
        if direction == "pump":
            got = self.buy_base(usd)
            market.outside_receives(self.quote, -usd)
            market.outside_receives(self.base, got)
        else:
            # at most down to 1 / PATH_RANGE of its first spot: units worth $usd at a spot
            # that falls each step would otherwise drain the quote reserve to 0 (y' ~ y^2/usd)
            floor = self._first_spot / PATH_RANGE
            units = usd / self.spot
            if self.spot * self.reserve_base ** 2 / (self.reserve_base + units) ** 2 < floor:
                units = max(float(np.sqrt(self.reserve_base * self.reserve_quote / floor))
                            - self.reserve_base, 0.0)
            got = self.sell_base(units)
            market.outside_receives(self.base, -units)
            market.outside_receives(self.quote, got)
        return self.spot / before - 1.0

    def attribute(self, event_id: int) -> None:
        """Record the spot's move since the last attribution as ``event_id``'s doing."""
        now = self.spot
        self.model.moves.record(self.source, event_id, float(np.log(now / self._mark)))
        self._mark = now

    def quote_sell(self, units: float) -> float:
        """USD that selling ``units`` of base would return now (no state change)."""
        if units <= 0:
            return 0.0
        return float(_swap_out(units, self.reserve_base, self.reserve_quote, self.params.fee_frac))

    def cost_to_buy(self, units: float) -> float:
        """USD that buying ``units`` of base from the pool would cost now (``inf`` if it
        cannot pay them; no state change)."""
        return float(swap_in(units, self.reserve_quote, self.reserve_base, self.params.fee_frac))

    def begin_step(self) -> None:
        """Mark the spot at the start of the step (for the step's price-impact measure)."""
        self._step_start_spot = self.spot

    def quote_sell_many(self, units: np.ndarray) -> np.ndarray:
        """USD out for each entry of ``units`` sold alone into the current pool."""
        return np.asarray(_swap_out(np.asarray(units, dtype=np.float64), self.reserve_base,
                                   self.reserve_quote, self.params.fee_frac), dtype=np.float64)

    def arbitrage(self) -> None:
        """Arbitrageurs pull the pool toward the external price, within their capacity,
        up to where it meets that price as their own unwind moves it (no overshoot)."""
        market = self.model.market
        d_base, d_quote = self._arbitrage_trade()
        moves = self.model.moves
        if d_base == 0.0 and d_quote == 0.0:
            if abs(self.spot / market.quote_price(self.base) - 1.0) < SYNCED_TOL:
                self._synced_seq = moves.seq
            return
        # what opened the gap since the pool last met the market: the largest move on
        # either side (a crash outside the pool, a fire sale into it)
        window = {"after": self._synced_seq, "upto": moves.seq}
        gap_cause = moves.cause(self.source, **window)
        external_cause = moves.cause(market.source[self.base], **window)
        self._take_arbitrage(d_base, d_quote)
        # the arbitrageur is part of the outside world: it takes -d_base base and pays d_quote
        market.outside_receives(self.base, -d_base)
        market.outside_receives(self.quote, -d_quote)
        # and unwinds on the external market: buying from the pool = selling outside
        market.impact(self.base, -d_base)
        # the pool moved toward the market; the market took the pool's flow
        self.attribute(external_cause)
        market.attribute(self.base, gap_cause)
        if abs(self.spot / market.quote_price(self.base) - 1.0) < SYNCED_TOL:
            self._synced_seq = moves.seq

    def _arbitrage_trade(self) -> tuple[float, float]:
        """The arbitrage's signed changes of the pool's base and quote (not yet made)."""
        market = self.model.market
        x, y, fee = self.reserve_base, self.reserve_quote, self.params.fee_frac
        price, depth = market.quote_price(self.base), market.quote_depth(self.base)
        cap = self.arb_capacity_usd_per_step
        if _in_fee_band(x, y, price, depth, fee, cap):
            return 0.0, 0.0
        return arbitrage_with_impact(x, y, price, depth, fee, cap)

    def _take_arbitrage(self, d_base: float, d_quote: float) -> None:
        """Make the trade :meth:`_arbitrage_trade` planned."""
        self.reserve_base += d_base
        self.reserve_quote += d_quote

    def scale_arb_capacity(self, multiplier: float) -> None:
        """Arbitrageurs' capacity this step: ``multiplier`` times the normal one (a
        liquidity shock thins the books they hedge on)."""
        self.arb_capacity_usd_per_step = float(self.params.arb_capacity_usd_per_step * multiplier)

    def end_step(self) -> None:
        """Record the spot for TWAPs and the step's impact."""
        self.history.append(self.spot)
        self.step_impact_frac = self.spot / self._step_start_spot - 1.0

    def holdings(self) -> dict[int, float]:
        """Units of each asset in the pool."""
        return {self.base: self.reserve_base, self.quote: self.reserve_quote}
