"""What every venue that liquidates accounts records: the base of lending and perp venues."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from contagion.model import ContagionModel

__all__ = ["MarginVenue"]


class MarginVenue(mesa.Agent):
    """A venue that margins accounts and liquidates them, with its running totals.

    Attributes (all cumulative unless ``step_``): ``liquidated_usd`` (debt repaid or notional
    closed), ``liquidation_count``, ``bad_debt_usd`` (shortfalls beyond collateral),
    ``fund_paid_usd`` (what its insurance fund covered), ``socialised_usd`` (losses passed to
    suppliers or clawed back from accounts), ``defaulted`` and ``default_step``.
    """

    kind = "venue"

    def __init__(self, model: ContagionModel, name: str) -> None:
        super().__init__(model)
        self.name = name
        self.defaulted = False
        self.default_step = -1
        self.liquidated_usd = 0.0
        self.liquidation_count = 0
        self.step_liquidated_usd = 0.0
        self.step_liquidations = 0
        self.bad_debt_usd = 0.0
        self.fund_paid_usd = 0.0
        self.socialised_usd = 0.0

    def account_owners(self) -> NDArray[np.int64]:
        """The holder id of each account row (traders ``0..n-1``, firms, -1 outside)."""
        return np.asarray(self.book.owner)

    def begin_liquidation_round(self) -> None:
        """Reset the per-step counters."""
        self.step_liquidated_usd = 0.0
        self.step_liquidations = 0

    def record_liquidations(self, count: int, usd: float) -> None:
        """Add a round's liquidations to the counters."""
        self.liquidated_usd += usd
        self.liquidation_count += count
        self.step_liquidated_usd += usd
        self.step_liquidations += count
