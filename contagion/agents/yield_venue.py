"""A yield venue on a pegged stablecoin (Anchor) whose depositors run when the peg breaks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
from numpy.typing import NDArray

from contagion.errors import ParameterError
from contagion.mechanics.peg import exit_thresholds, heavy_tailed_sizes, queue_sale_proceeds

if TYPE_CHECKING:
    from contagion.model import ContagionModel
    from contagion.params import YieldVenueParams

__all__ = ["YieldVenue"]


class YieldVenue(mesa.Agent):
    """Deposits of a stablecoin held for traders, and their sophistication-ordered run.

    The depositors are traders (``owner`` holds their ids); the venue holds their
    stablecoin one for one. Each step, every depositor whose exit threshold the depeg of
    the venue's pool has reached starts to leave: it withdraws and sells
    ``exit_frac_per_step`` of its deposit a step into the pool, queued by threshold (the
    first to leave sell first, at the better price); the USD goes to its wallet. The exit
    record (``exit_step``, ``sold_units``, ``proceeds_usd``, :meth:`exit_price`) says who
    left when and at what price; the event log has one ``withdrawal`` per depositor when
    its exit starts (account, step, first price) and one per step for the others still
    selling (``account=-1``), so its size grows with depositors, not depositors x steps.
    """

    kind = "yield"

    def __init__(self, model: ContagionModel, params: YieldVenueParams) -> None:
        super().__init__(model)
        self.params = params
        self.name = params.name
        market = model.market
        self.asset = market.index[params.asset]
        self.pool = model.pools[params.pool]
        rng = model.rng
        n = model.population.n
        self.owner = np.flatnonzero(rng.random(n) < params.share_of_traders).astype(np.int64)
        if self.owner.size == 0:
            raise ParameterError(f"yield_venues[{self.name}].share_of_traders",
                                 params.share_of_traders,
                                 "a share that gives the venue at least one depositor")
        sizes_usd = heavy_tailed_sizes(self.owner.size, params.deposits_usd,
                                       params.size_tail_alpha, rng)
        self.deposit_units = sizes_usd / float(market.price[self.asset])
        self.remaining_units = self.deposit_units.copy()
        self.threshold = exit_thresholds(sizes_usd, params.min_exit_depeg_frac,
                                         params.max_exit_depeg_frac,
                                         ordered=params.sophistication_ordered, rng=rng)
        m = self.owner.size
        self.exit_step = np.full(m, -1, dtype=np.int64)
        self.sold_units = np.zeros(m)
        self.proceeds_usd = np.zeros(m)
        self.step_sold_units = 0.0

    # ------------------------------------------------------------------ views
    def deposits_units(self) -> float:
        """Stablecoin still deposited."""
        return float(self.remaining_units.sum())

    def depositors_leaving(self) -> int:
        """Depositors who have started to leave and still hold deposits."""
        return int(((self.exit_step >= 0) & (self.remaining_units > 0)).sum())

    def exit_price(self) -> NDArray[np.float64]:
        """Average USD per unit each depositor sold at (nan for those who never sold)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.sold_units > 0, self.proceeds_usd / self.sold_units, np.nan)

    def account_owners(self) -> NDArray[np.int64]:
        """The trader id of each depositor."""
        return np.asarray(self.owner)

    def holdings(self) -> dict[int, float]:
        """The depositors' stablecoin the venue holds."""
        return {self.asset: self.deposits_units()}

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Depositors past their threshold withdraw and sell into the pool, in queue order."""
        self.step_sold_units = 0.0
        pool = self.pool
        depeg = 1.0 - pool.spot
        now = int(self.model.steps)
        leaving = (self.exit_step < 0) & (self.threshold <= depeg) & (self.remaining_units > 0)
        self.exit_step[leaving] = now
        rows = np.flatnonzero((self.exit_step >= 0) & (self.remaining_units > 0))
        if rows.size == 0:
            return
        rows = rows[np.lexsort((-self.deposit_units[rows], self.threshold[rows]))]
        left = self.remaining_units[rows]
        chunk = self.params.exit_frac_per_step * self.deposit_units[rows]
        units = np.where(left - chunk <= 1e-9 * self.deposit_units[rows], left, chunk)
        proceeds = queue_sale_proceeds(units, pool.reserve_base, pool.reserve_quote,
                                       pool.params.fee_frac)
        got = pool.sell_base(float(units.sum()))
        proceeds[-1] += got - float(proceeds.sum())  # rounding: pay out exactly what the pool did
        self.remaining_units[rows] -= units
        self.sold_units[rows] += units
        self.proceeds_usd[rows] += proceeds
        self.step_sold_units = float(units.sum())
        self.model.population.receive(self.owner[rows], proceeds)
        self._log_sales(rows, units, proceeds, depeg, got)

    def _log_sales(self, rows: NDArray[np.int64], units: NDArray[np.float64],
                   proceeds: NDArray[np.float64], depeg: float, got: float) -> None:
        """One ``withdrawal`` event per depositor whose exit starts this step (who, when,
        at what price), one for the rest of the step's sellers together (``account=-1``)."""
        market, pool, now = self.model.market, self.pool, int(self.model.steps)
        asset = market.assets[self.asset]
        new = self.exit_step[rows] == now
        cause = int(market.last_move_event[self.asset])
        where = (f"into {pool.name} (step total {units.sum():,.0f} {asset} for ${got:,.0f}; "
                 f"{asset} spot now {pool.spot:.4f})")
        step = {"reason": "depeg_exit", "selling_into": pool.name, "depeg_frac": depeg,
                "step_units": float(units.sum()), "step_usd": got, "spot_after": pool.spot}
        ids = self.model.events.add_many(
            "withdrawal", step=now, n=int(new.sum()), venue=self.name, agent=pool.name,
            account=self.owner[rows[new]], asset=asset, amount=units[new],
            value_usd=proceeds[new], price=proceeds[new] / units[new], cause_id=cause,
            phase="start", depositors=int(new.sum()), **step,
            detail=f"{int(new.sum())} depositors of {self.name} started to leave at a depeg of "
                   f"{depeg:.2%}, selling {where}")
        if not new.all():
            rest_units, rest_usd = float(units[~new].sum()), float(proceeds[~new].sum())
            more = self.model.events.add(
                "withdrawal", step=now, venue=self.name, agent=pool.name, asset=asset,
                amount=rest_units, value_usd=rest_usd, price=rest_usd / rest_units,
                cause_id=cause, phase="continue", depositors=int((~new).sum()), **step,
                detail=f"{int((~new).sum())} depositors of {self.name} already leaving kept "
                       f"selling {where}")
            ids = np.append(ids, more)
        market.moved(self.asset, int(ids[0]), pool)
