"""The price-move ledger finds its window by bisection (issue 14): it must cite the same
events as the scan over a bounded deque it replaced, ties, NaN moves and trimming included."""

from __future__ import annotations

import random
from collections import deque

from contagion.ledger import PriceMoves


class _Scan:
    """The ledger before issue 14: a deque of the last ``keep`` moves per source, scanned."""

    def __init__(self, keep: int) -> None:
        self.seq = 0
        self.log: dict[str, deque[tuple[int, int, float]]] = {}
        self.keep = keep

    def record(self, source: str, event_id: int, log_move: float) -> None:
        if event_id < 0 or log_move == 0.0:
            return
        self.seq += 1
        self.log.setdefault(source, deque(maxlen=self.keep)).append(
            (self.seq, int(event_id), float(log_move)))

    def cause(self, source: str, *, after: int, upto: int) -> int:
        best, best_size, last = -1, -1.0, -1
        for seq, event_id, move in reversed(self.log.get(source, ())):
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
        log = self.log.get(source)
        return log[-1][1] if log else -1


def test_bisected_windows_cite_what_the_scan_cited() -> None:
    rng = random.Random(1)
    moves = [0.0, -0.0, 0.1, -0.1, 0.5, -0.5, float("nan")]
    for _ in range(200):
        keep = rng.choice([3, 5, 8, 50])
        old, new = _Scan(keep), PriceMoves(keep)
        for _ in range(rng.randint(1, 300)):
            source = rng.choice("pqr")
            move = rng.choice([*moves, rng.uniform(-1, 1)])
            event = rng.randint(-2, 1000)
            old.record(source, event, move)
            new.record(source, event, move)
            upto = rng.randint(0, old.seq + 2)
            after = rng.randint(-1, upto + 1)
            for s in "pqrz":
                assert new.cause(s, after=after, upto=upto) == old.cause(s, after=after, upto=upto)
                assert new.last(s) == old.last(s)
