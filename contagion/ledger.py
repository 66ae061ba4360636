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

from bisect import bisect_right

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
        # per source, three parallel lists: each move's sequence number (increasing), its
        # event and its size |log move|; only the last ``keep`` count (older ones are
        # trimmed in batches), and a window is found by bisection, not by a scan
        self._log: dict[str, tuple[list[int], list[int], list[float]]] = {}
        self._keep = keep

    def record(self, source: str, event_id: int, log_move: float) -> None:
        """Event ``event_id`` moved ``source`` by ``log_move`` (log of new / old price)."""
        if event_id < 0 or log_move == 0.0:
            return
        self.seq += 1
        log = self._log.get(source)
        if log is None:
            log = self._log[source] = ([], [], [])
        seqs, ids, sizes = log
        seqs.append(self.seq)
        ids.append(int(event_id))
        sizes.append(abs(float(log_move)))
        if len(seqs) > 2 * self._keep:
            for column in log:
                del column[:len(column) - self._keep]

    def cause(self, source: str, *, after: int, upto: int) -> int:
        """The event that moved ``source`` the most in the sequence window ``(after, upto]``
        (the latest of equal moves); if none did, the last event that moved it up to
        ``upto``; -1 if none ever did."""
        log = self._log.get(source)
        if log is None:
            return -1
        seqs, ids, sizes = log
        base = max(len(seqs) - self._keep, 0)  # the last ``keep`` moves are remembered
        hi = bisect_right(seqs, upto, base)  # moves up to ``upto``: [base, hi)
        if hi == base:
            return -1
        lo = bisect_right(seqs, after, base, hi)  # of which before the window: [base, lo)
        if lo == hi:
            return ids[hi - 1]
        window = sizes[lo:hi]
        largest = max(window)
        if largest != largest:  # NaN first: max() would keep it; NaN sizes never win
            best = [k for k, size in enumerate(window) if size == size]
            if not best:
                return ids[hi - 1]
            largest = max(window[k] for k in best)
        return ids[hi - 1 - window[::-1].index(largest)]

    def last(self, source: str) -> int:
        """The last event that moved ``source`` (-1 if none)."""
        log = self._log.get(source)
        return log[1][-1] if log else -1
