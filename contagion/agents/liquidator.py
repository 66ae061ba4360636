"""Liquidation bots with limited capital and throughput: the source of liquidation latency."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from contagion.mechanics.auction import gas_multiplier, keeper_gas_tolerances

if TYPE_CHECKING:
    from contagion.model import ContagionModel
    from contagion.params import LiquidatorParams

__all__ = ["Liquidator"]


class Liquidator(mesa.Agent):
    """Keepers that repay unhealthy debt for a bonus and sell the seized collateral.

    Their budget resets every step: at most ``capital_usd`` of debt repaid over at most
    ``max_liquidations_per_step`` accounts. Profit (bonus minus slippage and gas) accrues
    to :attr:`cash_usd`, which starts at ``capital_usd``.

    Gas follows the spike of their parameters (:attr:`gas_multiple`, :attr:`gas_cost_now_usd`);
    gas is a cost they weigh, not a transfer the model books. In collateral auctions they
    are ``bidders`` keepers with different gas tolerances: :attr:`active` marks those whose
    bots still bid at this step's gas price. The start and end of a spike and each keeper
    that drops out are logged (``gas_spike``, ``keeper_dropout``).
    """

    def __init__(self, model: ContagionModel, params: LiquidatorParams) -> None:
        super().__init__(model)
        self.params = params
        self.name = params.name
        self.cash_usd = float(params.capital_usd) if params.capital_usd != float("inf") else 0.0
        self.budget_usd = float(params.capital_usd)
        self.budget_count = int(params.max_liquidations_per_step)
        self.repaid_usd = 0.0
        self.profit_usd = 0.0
        self.tolerances = keeper_gas_tolerances(params.bidders, params.bidder_max_gas_multiple)
        self.gas_multiple = 1.0
        self.active = np.ones(params.bidders, dtype=bool)
        self.gas_event = -1

    @property
    def gas_cost_now_usd(self) -> float:
        """What one liquidation (or one auction's bids) costs in gas at this step."""
        return float(self.params.gas_cost_usd * self.gas_multiple)

    @property
    def active_bidders(self) -> int:
        """Keepers still bidding at this step's gas price."""
        return int(self.active.sum())

    def begin_step(self) -> None:
        """Reset the per-step budget; move gas along its spike; log who drops out."""
        self.budget_usd = float(self.params.capital_usd)
        self.budget_count = int(self.params.max_liquidations_per_step)
        p = self.params
        before = self.gas_multiple
        self.gas_multiple = gas_multiplier(
            int(self.model.steps), spike_multiplier=p.gas_spike_multiplier,
            start_step=p.gas_spike_start_step, duration_steps=p.gas_spike_duration_steps)
        if self.gas_multiple != before:
            self._log_gas_change(before)
        active = self.tolerances >= self.gas_multiple
        dropped = np.flatnonzero(self.active & ~active)
        self.active = active
        if dropped.size:
            self._log_dropouts(dropped)

    def _log_gas_change(self, before: float) -> None:
        m, ev = self.model, self.model.events
        spike = self.gas_multiple > before
        cause = int(m.market.last_move_event.max()) if spike else self.gas_event
        self.gas_event = ev.add(
            "gas_spike", step=m.steps, agent=self.name, amount=self.gas_multiple,
            value_usd=self.gas_cost_now_usd, cause_id=cause, phase="spike" if spike else "easing",
            normal_gas_cost_usd=self.params.gas_cost_usd, keepers=int(self.tolerances.size),
            keepers_active=int((self.tolerances >= self.gas_multiple).sum()),
            detail=(f"network congestion: gas x{self.gas_multiple:g}, a liquidation or auction "
                    f"bid now costs ${self.gas_cost_now_usd:,.0f} in gas "
                    f"(normally ${self.params.gas_cost_usd:,.0f})") if spike else
                   (f"gas back to x{self.gas_multiple:g} (${self.gas_cost_now_usd:,.0f} a bid): "
                    f"{int((self.tolerances >= self.gas_multiple).sum())} of "
                    f"{self.tolerances.size} keepers bid again"))

    def _log_dropouts(self, dropped: np.ndarray) -> None:
        m = self.model
        budgets = self.tolerances[dropped] * self.params.gas_cost_usd
        left = int(self.active.sum())
        m.events.add_many(
            "keeper_dropout", step=m.steps, n=int(dropped.size), agent=self.name,
            amount=(dropped + 1).astype(np.float64), value_usd=budgets, cause_id=self.gas_event,
            keeper=dropped + 1, keepers=int(self.tolerances.size), keepers_left=left,
            gas_cost_usd=self.gas_cost_now_usd, tolerance=self.tolerances[dropped],
            detail=[f"keeper {k + 1} of {self.tolerances.size} stops bidding: gas "
                    f"${self.gas_cost_now_usd:,.0f} a bid exceeds what its bot pays "
                    f"(${b:,.0f}, x{t:g} normal); {left} keeper{'s' if left != 1 else ''} left"
                    for k, b, t in zip(dropped, budgets, self.tolerances[dropped], strict=True)])
