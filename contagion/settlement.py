"""Obligations in flight: what is owed between a promise and its settlement.

A loan recall and a cross-margin transfer are promised in one step and settle after a
delay; until then the payee holds an unsettled claim on the payer (a *pending exposure*),
and a payer that defaults inside that window leaves the payee with the loss (settlement
risk, the "window for default" of the source article; Herstatt risk in foreign exchange,
BIS CPSS 1996). The model owns one :class:`SettlementQueue` (``model.settlements``);
custodial exchanges open records in it (their recalls, as payee; their cross-margin
transfers, as payer) and settle them at the due step.

Trades are not queued: every trade in the engine is against an AMM pool, the outside market
or a perp venue's book, which settle at once and cannot default, so a delay on them would
carry no default risk. A trade between two institutions that can default (an OTC sale with
delivery against later payment) would be a third kind.

The helpers here are pure: which records are due, whether a payer's default fell inside a
record's window, and what such a record leaves the payee with.

Examples
--------
>>> q = SettlementQueue()
>>> r = q.open("loan_recall", payer="Firm", payee="CEX", amount_usd=40e6, step=10,
...            delay_steps=6, cause_id=3)
>>> r.due_step, q.pending_usd("CEX", "Firm")
(16, 40000000.0)
>>> [x.payer for x in q.take_due(payee="CEX", kind="loan_recall", step=15)]
[]
>>> [x.payer for x in q.take_due(payee="CEX", kind="loan_recall", step=16)]
['Firm']
>>> in_window(r, default_step=12), in_window(r, default_step=20)
(True, False)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["SETTLEMENT_KINDS", "Settlement", "SettlementQueue", "due_records", "in_window",
           "pending_by_pair", "window_loss_usd"]

#: What can be in flight: a lender's recall of a loan (payer: the borrower), a cross-margin
#: transfer from a custodian's deposits to a perp venue (payer: the custodian).
SETTLEMENT_KINDS = ("loan_recall", "margin_transfer")


@dataclass(frozen=True, kw_only=True)
class Settlement:
    """One obligation in flight: ``payer`` owes ``payee`` ``amount_usd``, promised at
    ``opened_step`` (caused by event ``cause_id``), settling at ``due_step``."""

    sid: int
    kind: str
    payer: str
    payee: str
    amount_usd: float
    opened_step: int
    due_step: int
    cause_id: int = -1


def due_records(records: Sequence[Settlement], step: int
                ) -> tuple[list[Settlement], list[Settlement]]:
    """Split ``records`` into those due at ``step`` (due step <= step) and those later,
    each in the order given.

    >>> a = Settlement(sid=0, kind="loan_recall", payer="F", payee="X", amount_usd=1.0,
    ...                opened_step=1, due_step=3)
    >>> [len(x) for x in due_records([a], 2)], [len(x) for x in due_records([a], 3)]
    ([0, 1], [1, 0])
    """
    due = [r for r in records if r.due_step <= step]
    later = [r for r in records if r.due_step > step]
    return due, later


def in_window(record: Settlement, default_step: int) -> bool:
    """Whether a payer default at ``default_step`` (negative: none) fell inside the window:
    at or after the step the obligation was promised, at or before its due step."""
    return default_step >= 0 and record.opened_step <= default_step <= record.due_step


def window_loss_usd(record: Settlement, paid_usd: float) -> float:
    """What the payee loses on a settlement: the part of the amount not paid (>= 0)."""
    return max(record.amount_usd - paid_usd, 0.0)


def pending_by_pair(records: Iterable[Settlement]) -> dict[tuple[str, str], float]:
    """The pending exposure of each payee to each payer: the sum of their open records,
    keyed ``(payee, payer)`` in first-seen order."""
    out: dict[tuple[str, str], float] = {}
    for r in records:
        out[(r.payee, r.payer)] = out.get((r.payee, r.payer), 0.0) + r.amount_usd
    return out


class SettlementQueue:
    """The one owner of obligations in flight (``model.settlements``).

    Records are kept in the order opened; :meth:`take_due` hands an agent its due records
    in that order and removes them, :meth:`cancel` drops a defaulted party's records.
    """

    def __init__(self) -> None:
        self.records: list[Settlement] = []
        self._next = 0

    def open(self, kind: str, *, payer: str, payee: str, amount_usd: float, step: int,
             delay_steps: int, cause_id: int = -1) -> Settlement:
        """Promise ``amount_usd`` from ``payer`` to ``payee``, settling ``delay_steps`` after
        ``step``; return the record."""
        if kind not in SETTLEMENT_KINDS:
            raise ValueError(f"settlement kind {kind!r} is not one of {SETTLEMENT_KINDS}")
        r = Settlement(sid=self._next, kind=kind, payer=payer, payee=payee,
                       amount_usd=float(amount_usd), opened_step=int(step),
                       due_step=int(step) + int(delay_steps), cause_id=int(cause_id))
        self._next += 1
        self.records.append(r)
        return r

    def of(self, *, kind: str, payee: str | None = None, payer: str | None = None
           ) -> list[Settlement]:
        """The open records of ``kind``, for ``payee`` and/or ``payer`` when given."""
        return [r for r in self.records if r.kind == kind
                and (payee is None or r.payee == payee) and (payer is None or r.payer == payer)]

    def take_due(self, *, kind: str, step: int, payee: str | None = None,
                 payer: str | None = None) -> list[Settlement]:
        """Remove and return the records of ``kind`` (for ``payee``/``payer``) due at
        ``step``, in the order opened."""
        mine = self.of(kind=kind, payee=payee, payer=payer)
        due, _ = due_records(mine, step)
        if due:
            gone = {r.sid for r in due}
            self.records = [r for r in self.records if r.sid not in gone]
        return due

    def cancel(self, *, kind: str, payee: str | None = None, payer: str | None = None
               ) -> list[Settlement]:
        """Remove and return every open record of ``kind`` for ``payee``/``payer``."""
        mine = self.of(kind=kind, payee=payee, payer=payer)
        if mine:
            gone = {r.sid for r in mine}
            self.records = [r for r in self.records if r.sid not in gone]
        return mine

    def postpone(self, sids: Iterable[int], due_step: int) -> list[Settlement]:
        """Move the records ``sids`` to fall due no earlier than ``due_step`` (a bridge halted
        under them freezes them); return the records moved, as they are now."""
        want = set(sids)
        moved: list[Settlement] = []
        for k, r in enumerate(self.records):
            if r.sid in want and r.due_step < due_step:
                self.records[k] = dataclasses.replace(r, due_step=int(due_step))
                moved.append(self.records[k])
        return moved

    def pending_usd(self, payee: str, payer: str, kind: str | None = None) -> float:
        """What ``payer`` owes ``payee`` in flight (of ``kind``, or of every kind)."""
        return float(sum(r.amount_usd for r in self.records
                         if r.payee == payee and r.payer == payer
                         and (kind is None or r.kind == kind)))

    def total_usd(self, *, kind: str, payee: str | None = None, payer: str | None = None
                  ) -> float:
        """The sum of the open records of ``kind`` for ``payee``/``payer``."""
        return float(sum(r.amount_usd for r in self.of(kind=kind, payee=payee, payer=payer)))

    def __len__(self) -> int:
        return len(self.records)
