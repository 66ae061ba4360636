"""Liquidation bots with limited capital and throughput: the source of liquidation latency."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from contagion.model import ContagionModel
    from contagion.params import LiquidatorParams

__all__ = ["Liquidator"]


class Liquidator(mesa.Agent):
    """Keepers that repay unhealthy debt for a bonus and sell the seized collateral.

    Their budget resets every step: at most ``capital_usd`` of debt repaid over at most
    ``max_liquidations_per_step`` accounts. Profit (bonus minus slippage and gas) accrues
    to :attr:`cash_usd`, which starts at ``capital_usd``.
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

    def begin_step(self) -> None:
        """Reset the per-step budget."""
        self.budget_usd = float(self.params.capital_usd)
        self.budget_count = int(self.params.max_liquidations_per_step)
