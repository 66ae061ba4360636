"""Traders: accounts at one or several venues, and the policies they act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from contagion.model import ContagionModel

__all__ = ["Trader", "TraderPopulation"]


class Trader(mesa.Agent):
    """One trader, or a cohort of traders sharing a policy in a large run.

    A Trader references its holder ids (its rows in every venue's book are found through
    the books' ``owner`` arrays). Behaviour is vectorised: :class:`TraderPopulation` applies
    each policy to every trader that has it in one array operation, so a million accounts
    need neither a million objects nor a Python loop.
    """

    def __init__(self, model: ContagionModel, holder_ids: NDArray[np.int64], *, label: str,
                 cross_margined: bool, tops_up: bool) -> None:
        super().__init__(model)
        self.holder_ids = holder_ids
        self.label = label
        self.cross_margined = cross_margined
        self.tops_up = tops_up

    @property
    def size(self) -> int:
        return int(self.holder_ids.size)


@dataclass
class TraderPopulation:
    """Per-trader state and policy as arrays (the model owns one)."""

    wallet_usd: NDArray[np.float64]
    tops_up: NDArray[np.bool_]
    cross: NDArray[np.bool_]
    topup_below: float
    topup_to: float
    liquidated: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        if self.liquidated.shape != self.wallet_usd.shape:
            self.liquidated = np.zeros(self.wallet_usd.shape, dtype=bool)

    @property
    def n(self) -> int:
        return int(self.wallet_usd.size)

    def mark_liquidated(self, owners: NDArray[np.int64]) -> None:
        """Remember which traders have been liquidated (for node states); holders that are
        not traders (firms, the outside world) are ignored."""
        t = owners[(owners >= 0) & (owners < self.n)]
        self.liquidated[t] = True

    def receive(self, owners: NDArray[np.int64], amounts: NDArray[np.float64]) -> None:
        """Credit stablecoin to the traders ``owners`` (repeats add up): withdrawals paid out,
        a yield venue's leavers' proceeds. The population owns the wallets."""
        np.add.at(self.wallet_usd, owners, amounts)

    def _topup_mask(self, venue: Any) -> NDArray[np.bool_]:
        """Rows of ``venue``'s book owned by traders whose policy is to top up (cached)."""
        cache = self.__dict__.setdefault("_masks", {})
        mask = cache.get(venue.name)
        if mask is None or mask.shape[0] != len(venue.book):
            own = venue.book.owner
            mask = (own >= 0) & (own < self.n)
            mask[mask] = self.tops_up[own[mask]]
            cache[venue.name] = mask
        return mask

    def _pay(self, rows: NDArray[np.int64], owners: NDArray[np.int64],
             want: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Take up to ``want`` from the owners' wallets; return the paying rows and amounts
        (those with an empty wallet can do nothing this step)."""
        pay = np.minimum(want, self.wallet_usd[owners])
        paying = pay > 1e-9
        rows, owners, pay = rows[paying], owners[paying], pay[paying]
        self.wallet_usd[owners] -= pay
        return rows, pay

    def topup_lending(self, model: ContagionModel) -> float:
        """Traders near liquidation repay debt from their wallet; return USD repaid."""
        total = 0.0
        for v in model.lending:
            b = v.book
            hf = v.health()
            # debt-free rows have HF = inf; rows of firms or of traders who never top up
            # are masked out once (the mask is fixed for the run)
            rows = np.flatnonzero((hf < self.topup_below) & self._topup_mask(v))
            want = np.maximum(b.debt[rows] - b.debt[rows] * hf[rows] / self.topup_to, 0.0)
            rows, pay = self._pay(rows, b.owner[rows], want)
            if rows.size:
                v.repay(rows, pay)
                total += self._log(model, v.name, pay, "repay_debt",
                                   "repaid debt to lift their health factor")
        return total

    def topup_perp(self, model: ContagionModel) -> float:
        """Perp traders near maintenance margin add collateral from their wallet."""
        total = 0.0
        for v in model.perps:
            b = v.book
            ratio = v.margin_ratio()
            rows = np.flatnonzero((ratio < self.topup_below) & self._topup_mask(v))
            marks, size = v.marks(), b.size[rows]
            mm = np.abs(size[:, 0]) * float(marks[0]) * float(v.mmrs[0])
            for k in range(1, b.markets):  # every market's maintenance margin
                mm = mm + np.abs(size[:, k]) * float(marks[k]) * float(v.mmrs[k])
            want = np.maximum((self.topup_to - ratio[rows]) * mm, 0.0)
            rows, pay = self._pay(rows, b.owner[rows], want)
            if rows.size:
                v.add_collateral(rows, pay)
                total += self._log(model, v.name, pay, "add_margin",
                                   "added margin to stay above maintenance")
        return total

    @staticmethod
    def _log(model: ContagionModel, venue: str, pay: NDArray[np.float64], action: str,
             what: str) -> float:
        total = float(pay.sum())
        n = int((pay > 0).sum())
        model.events.add("margin_topup", step=model.steps, venue=venue, value_usd=total,
                         amount=float(n), action=action, accounts=n,
                         detail=f"{n} traders on {venue} {what} (${total:,.0f})")
        return total
