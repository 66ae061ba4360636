"""Price oracles: heartbeat, deviation threshold, publication delay, and their source."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import mesa

from contagion.ledger import market_source, pool_source

if TYPE_CHECKING:
    from contagion.agents.pool import AMMPool
    from contagion.model import ContagionModel
    from contagion.params import OracleParams

__all__ = ["Oracle"]


class Oracle(mesa.Agent):
    """A Chainlink-style push oracle (or a pool spot/TWAP read) that venues trust.

    Each step it observes its source as it was ``delay_steps`` ago and publishes when that
    value deviates from the last published price by more than
    ``deviation_threshold_frac`` or when ``heartbeat_steps`` have passed. Venues see
    :attr:`price` only, never the market price: the gap is the oracle's latency.
    """

    def __init__(self, model: ContagionModel, params: OracleParams) -> None:
        super().__init__(model)
        self.params = params
        self.name = params.name
        self.asset = model.market.index[params.asset]
        self.pool: AMMPool | None = model.pools[params.pool] if params.pool else None
        self._observed: deque[float] = deque(maxlen=params.delay_steps + 1)
        # the price-move ledger's clock at each observation: what the observation includes
        self._seqs: deque[int] = deque(maxlen=params.delay_steps + 1)
        self.source = (market_source(params.asset) if params.source == "external" or not params.pool
                       else pool_source(params.pool))
        first = self._read_source()
        self._observed.append(first)
        self._seqs.append(model.moves.seq)
        self._published_seq = model.moves.seq
        self.price = first
        self.last_update_step = 0
        self.last_event = -1
        self.updates = 0

    def _read_source(self) -> float:
        if self.params.source == "external" or self.pool is None:
            return float(self.model.market.price[self.asset])
        if self.params.source == "pool_spot":
            return self.pool.spot
        return self.pool.twap(self.params.twap_window_steps)

    def step(self) -> None:
        """Observe the source (late by ``delay_steps``) and publish if due."""
        self._observed.append(self._read_source())
        self._seqs.append(self.model.moves.seq)
        observed = self._observed[0]
        t = self.model.steps
        moved = abs(observed / self.price - 1.0) > self.params.deviation_threshold_frac
        due = t - self.last_update_step >= self.params.heartbeat_steps
        if not (moved or due):
            return
        old = self.price
        self.price = observed
        self.last_update_step = t
        self.updates += 1
        market = self.model.market
        why = "deviation threshold" if moved else "heartbeat"
        # the cause: what moved this oracle's own source most since its last publication
        seen = self._seqs[0]
        cause = self.model.moves.cause(self.source, after=self._published_seq, upto=seen)
        self._published_seq = seen
        self.last_event = self.model.events.add(
            "oracle_update", step=t, agent=self.name, asset=market.assets[self.asset],
            price=observed, amount=observed / old - 1.0,
            cause_id=cause,
            trigger="deviation" if moved else "heartbeat", price_before=old,
            source=str(self.params.source), delay_steps=int(self.params.delay_steps),
            detail=f"{self.name} updated {market.assets[self.asset]} {old:,.4g} -> "
                   f"{observed:,.4g} ({observed / old - 1:+.2%}) after its {why} "
                   f"(source {self.params.source}, {self.params.delay_steps} steps late)")
