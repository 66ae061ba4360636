"""Who moved each price, and by how much: the causes that oracles and venues cite.

Every price a venue can read has a *source*: an asset's external market price
(``"market:ETH"``) or a pool's spot (``"pool:ETH/USDC"``). Whenever an event moves a source
(a price shock, a liquidation selling into a pool, a fire sale into the order book, an
arbitrageur repairing a pool, a token crash), the move is recorded here with that event's
id, the log price change it made and a sequence number. An oracle publishing at step t cites
the event that moved *its own source* the most since its last publication, up to the moment it
observed (``delay_steps`` late), not "the last event that touched the asset anywhere": a
random tick of the external price cannot hide a fire sale in the pool the oracle reads.

The model owns one :class:`PriceMoves`; the market and the pools record into it.
"""

from __future__ import annotations

from collections import deque

__all__ = ["PriceMoves", "market_source", "pool_source"]


def market_source(asset: str) -> str:
    """The source name of ``asset``'s external market price."""
    return f"market:{asset}"


def pool_source(pool: str) -> str:
    """The source name of pool ``pool``'s spot price."""
    return f"pool:{pool}"


class PriceMoves:
    """Recorded price moves per source, bounded to the last ``keep`` per source.

    Examples
    --------
    >>> moves = PriceMoves()
    >>> a = moves.seq
    >>> moves.record("pool:P", 7, -0.30)   # event 7: a fire sale, -30%
    >>> moves.record("pool:P", 9, +0.02)   # event 9: arbitrage, +2%
    >>> moves.record("market:X", 11, -0.01)
    >>> moves.cause("pool:P", after=a, upto=moves.seq)
    7
    >>> moves.last("pool:P"), moves.last("market:X"), moves.last("pool:Q")
    (9, 11, -1)
    """

    def __init__(self, keep: int = 4096) -> None:
        self.seq = 0  # moves recorded so far (all sources): the clock of observations
        self._log: dict[str, deque[tuple[int, int, float]]] = {}
        self._keep = keep

    def record(self, source: str, event_id: int, log_move: float) -> None:
        """Event ``event_id`` moved ``source`` by ``log_move`` (log of new / old price)."""
        if event_id < 0 or log_move == 0.0:
            return
        self.seq += 1
        log = self._log.get(source)
        if log is None:
            log = self._log[source] = deque(maxlen=self._keep)
        log.append((self.seq, int(event_id), float(log_move)))

    def cause(self, source: str, *, after: int, upto: int) -> int:
        """The event that moved ``source`` the most in the sequence window ``(after, upto]``;
        if none did, the last event that moved it up to ``upto``; -1 if none ever did."""
        best, best_size, last = -1, -1.0, -1
        for seq, event_id, move in reversed(self._log.get(source, ())):
            if seq > upto:
                continue
            if seq <= after:
                if last < 0:
                    last = event_id
                break
            if last < 0:
                last = event_id
            if abs(move) > best_size:
                best, best_size = event_id, abs(move)
        return best if best >= 0 else last

    def last(self, source: str) -> int:
        """The last event that moved ``source`` (-1 if none)."""
        log = self._log.get(source)
        return log[-1][1] if log else -1
