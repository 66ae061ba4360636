"""The event log: every mechanism's action as a record with its cause.

Each record has an ``event_id`` and a ``cause_id`` (the event that triggered it, ``-1`` for
an exogenous shock), so :func:`trace_cause` can follow any default back to the first price
move. Records are appended in columnar chunks (one chunk per batch of accounts), so logging
a thousand liquidations is one call, not a thousand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EVENT_COLUMNS", "EVENT_KINDS", "EventLog", "trace_cause"]

EVENT_KINDS = (
    "price_shock",
    "pool_manipulation",
    "oracle_update",
    "liquidation",
    "perp_liquidation",
    "bad_debt",
    "fund_draw",
    "fund_exhausted",
    "adl",
    "socialised_loss",
    "margin_topup",
    "withdrawal",
    "withdrawal_freeze",
    "token_sale",
    "asset_sale",
    "loan_recall",
    "loan_loss",
    "default",
    "token_crash",
    "collateral_loss",
    "liquidity_shock",
    "gas_spike",
    "keeper_dropout",
    "auction",
    "zero_bid",
    "asset_writedown",
)

EVENT_COLUMNS = {
    "event_id": np.int64,
    "step": np.int64,
    "kind": object,
    "venue": object,
    "agent": object,
    "account": np.int64,
    "asset": object,
    "amount": np.float64,
    "value_usd": np.float64,
    "price": np.float64,
    "cause_id": np.int64,
    "detail": object,
}


@dataclass
class _Chunk:
    n: int
    columns: dict[str, Any]


class EventLog:
    """Append-only, columnar event log.

    Examples
    --------
    >>> log = EventLog()
    >>> shock = log.add("price_shock", step=1, asset="ETH", price=1900.0, detail="ETH -5%")
    >>> ids = log.add_many("liquidation", step=2, n=2, venue="LendA", account=[3, 7],
    ...                    value_usd=[100.0, 50.0], cause_id=shock)
    >>> df = log.to_frame()
    >>> df[["event_id", "kind", "account", "cause_id"]].values.tolist()
    [[0, 'price_shock', -1, -1], [1, 'liquidation', 3, 0], [2, 'liquidation', 7, 0]]
    >>> trace_cause(df, 2)
    [2, 0]
    """

    def __init__(self) -> None:
        self._chunks: list[_Chunk] = []
        self._next_id = 0
        self._frame: pd.DataFrame | None = None

    def __len__(self) -> int:
        return self._next_id

    def add(self, kind: str, *, step: int, **fields: Any) -> int:
        """Append one event; return its id."""
        return int(self.add_many(kind, step=step, n=1, **fields)[0])

    def add_many(self, kind: str, *, step: int, n: int, **fields: Any) -> np.ndarray:
        """Append ``n`` events of one kind; array fields have length ``n``, scalars broadcast.

        Returns the new events' ids.
        """
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        unknown = set(fields) - set(EVENT_COLUMNS)
        if unknown:
            raise ValueError(f"unknown event fields {sorted(unknown)}")
        ids = np.arange(self._next_id, self._next_id + n, dtype=np.int64)
        if n == 0:
            return ids
        cols: dict[str, Any] = {"event_id": ids, "step": step, "kind": kind}
        cols.update(fields)
        self._chunks.append(_Chunk(n, cols))
        self._next_id += n
        self._frame = None
        return ids

    def to_frame(self) -> pd.DataFrame:
        """All events as a DataFrame with the columns of :data:`EVENT_COLUMNS`."""
        if self._frame is not None:
            return self._frame
        defaults = {"venue": "", "agent": "", "account": -1, "asset": "", "amount": np.nan,
                    "value_usd": np.nan, "price": np.nan, "cause_id": -1, "detail": ""}
        data: dict[str, list[np.ndarray]] = {c: [] for c in EVENT_COLUMNS}
        for chunk in self._chunks:
            for col, dtype in EVENT_COLUMNS.items():
                v = chunk.columns.get(col, defaults.get(col))
                arr = np.asarray(v, dtype=dtype)
                if arr.ndim == 0:
                    arr = np.full(chunk.n, arr.item() if dtype is not object else v, dtype=dtype)
                data[col].append(arr)
        frame = pd.DataFrame({
            c: (np.concatenate(v) if v else np.array([], dtype=EVENT_COLUMNS[c]))
            for c, v in data.items()
        })
        for col in ("kind", "venue", "agent", "asset", "detail"):
            frame[col] = frame[col].astype(str)
        self._frame = frame
        return frame


def trace_cause(events: pd.DataFrame, event_id: int) -> list[int]:
    """Follow ``cause_id`` links from ``event_id`` back to an exogenous event.

    Returns the chain of ids, starting with ``event_id`` and ending with the root cause.
    """
    cause = dict(zip(events["event_id"].to_numpy(), events["cause_id"].to_numpy(), strict=True))
    chain = [int(event_id)]
    seen = {int(event_id)}
    while True:
        nxt = int(cause.get(chain[-1], -1))
        if nxt < 0 or nxt in seen:
            return chain
        chain.append(nxt)
        seen.add(nxt)
