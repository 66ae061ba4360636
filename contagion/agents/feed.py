"""What a venue reads for an asset no oracle feeds it: the market price itself.

When the world graph has no ``price_feed`` edge into a venue for an asset (a user removed
the oracle), the venue marks that asset to the external market price of the moment, with no
heartbeat, deviation threshold or delay: the counterfactual "a perfect oracle". It has the
two things venues read of an oracle, :attr:`price` and :attr:`last_event` (the event that
last moved the market price, the cause of whatever the venue does next).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contagion.agents.market import Market

__all__ = ["MarketPriceFeed"]


class MarketPriceFeed:
    """The market price of one asset, read as a venue reads an oracle."""

    def __init__(self, market: Market, asset: str) -> None:
        self.market = market
        self.asset = market.index[asset]
        self.name = f"{asset} market price"

    @property
    def price(self) -> float:
        return float(self.market.price[self.asset])

    @property
    def last_event(self) -> int:
        return int(self.market.last_move_event[self.asset])
