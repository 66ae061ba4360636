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
    # venue -> (isolated cohort tops up there, cross cohort tops up there): the world
    # graph's tops_up edges, set by the model's wiring; a venue not listed: both do
    topup_at: dict[str, tuple[bool, bool]] = field(default_factory=dict)

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

    def wire_topups(self, topup_at: dict[str, tuple[bool, bool]]) -> None:
        """Where each cohort tops up (from the world graph's ``tops_up`` edges)."""
        self.topup_at = dict(topup_at)
        self.__dict__.pop("_masks", None)

    def _topup_mask(self, venue: Any) -> NDArray[np.bool_]:
        """Rows of ``venue``'s book owned by traders whose policy is to top up and whose
        cohort tops up at ``venue`` (cached)."""
        cache = self.__dict__.setdefault("_masks", {})
        mask = cache.get(venue.name)
        if mask is None or mask.shape[0] != len(venue.book):
            own = venue.book.owner
            mask = (own >= 0) & (own < self.n)
            isolated, cross = self.topup_at.get(venue.name, (True, True))
            mine = own[mask]
            mask[mask] = self.tops_up[mine] & np.where(self.cross[mine], cross, isolated)
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
        """Traders near liquidation repay debt from their wallet; return USD repaid.

        They repay stablecoin debt only: a debt in a borrowed asset is left to liquidators
        (buying it back would be a market order this model does not give traders)."""
        total = 0.0
        for v in model.lending:
            b = v.book
            hf = v.health()
            # debt-free rows have HF = inf; rows of firms or of traders who never top up
            # are masked out once (the mask is fixed for the run)
            rows = np.flatnonzero((hf < self.topup_below) & self._topup_mask(v))
            if rows.size == 0:  # nobody near liquidation: nothing to pay (most steps)
                continue
            owed = v.debt_usd(rows)
            want = np.maximum(owed - owed * hf[rows] / self.topup_to, 0.0)
            if v.debt_asset_ids.size:  # they repay their stablecoin debt, no more
                want = np.minimum(want, b.debt[rows])
            rows, pay = self._pay(rows, b.owner[rows], want)
            if rows.size:
                v.repay(rows, pay)
                total += self._log(model, v.name, pay, "repay_debt",
                                   "repaid debt to lift their health factor")
        return total

    def releverage_lending(self, model: ContagionModel) -> float:
        """Traders whose health factor rose above their venue's ``releverage_above_hf``
        borrow back towards ``releverage_to_hf`` and loop it into collateral, within the
        venue's bounds (:meth:`LendingProtocol.borrow_against`); return USD borrowed.

        The same traders as top up (they manage their positions); debt-free accounts and
        firms do not."""
        total = 0.0
        for v in model.lending:
            if not v.releverage_on:
                continue
            hf = v.health()
            p = v.params
            rows = np.flatnonzero((hf > p.releverage_above_hf) & np.isfinite(hf)
                                  & self._topup_mask(v))
            if rows.size == 0:
                continue
            want = v.debt_usd(rows) * (hf[rows] / p.releverage_to_hf - 1.0)
            total += float(v.borrow_against(rows, want).sum())
        return total

    def topup_perp(self, model: ContagionModel) -> float:
        """Perp traders near maintenance margin add collateral from their wallet."""
        total = 0.0
        for v in model.perps:
            b = v.book
            ratio = v.margin_ratio()
            rows = np.flatnonzero((ratio < self.topup_below) & self._topup_mask(v))
            if rows.size == 0:  # nobody near maintenance (the margin state is computed)
                continue
            marks, size = v.marks(), b.size[rows]
            if v.pm_on:  # portfolio margin: the venue's own (scenario-based) margin
                mm = v.margin_state()[1][rows]
            else:
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
