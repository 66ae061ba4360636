"""Insurance funds: balances that absorb a venue's bad debt before losses are socialised."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from contagion.model import ContagionModel
    from contagion.params import InsuranceFundParams

__all__ = ["InsuranceFund"]


class InsuranceFund(mesa.Agent):
    """A stablecoin balance that pays a venue's shortfalls and receives liquidation fees."""

    def __init__(self, model: ContagionModel, params: InsuranceFundParams) -> None:
        super().__init__(model)
        self.params = params
        self.name = params.name
        self.balance_usd = float(params.balance_usd)
        self.initial_usd = float(params.balance_usd)
        self.paid_usd = 0.0
        self.received_usd = 0.0
        self.exhausted = False

    def deposit(self, amount_usd: float) -> None:
        """Receive fees."""
        self.balance_usd += amount_usd
        self.received_usd += amount_usd

    def draw(self, amount_usd: float, *, venue: str, cause_id: int) -> float:
        """Pay up to ``amount_usd`` toward ``venue``'s shortfall; return what was paid."""
        paid = min(max(amount_usd, 0.0), self.balance_usd)
        if paid <= 0.0 and amount_usd <= 0.0:
            return 0.0
        step = self.model.steps
        eid = cause_id
        if paid > 0:
            self.balance_usd -= paid
            self.paid_usd += paid
            eid = self.model.events.add(
                "fund_draw", step=step, venue=venue, agent=self.name, value_usd=paid,
                cause_id=cause_id, purpose="shortfall", fund=self.name,
                balance_after_usd=self.balance_usd, shortfall_usd=amount_usd,
                detail=f"{self.name} paid ${paid:,.0f} of {venue}'s ${amount_usd:,.0f} shortfall; "
                       f"${self.balance_usd:,.0f} left")
        if not self.exhausted and paid < amount_usd - 1e-9:
            self.exhausted = True
            self.model.events.add(
                "fund_exhausted", step=step, venue=venue, agent=self.name,
                value_usd=amount_usd - paid, cause_id=eid, purpose="shortfall", fund=self.name,
                detail=f"{self.name} is exhausted: ${amount_usd - paid:,.0f} of {venue}'s "
                       "shortfall is left to socialise")
        return paid
