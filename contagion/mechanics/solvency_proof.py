"""What a custodian's solvency proof publishes, by kind, from its true books at a snapshot.

Three kinds (``CustodialParams.proof_kind``):

``exact``
    The engine's older reading: the true ratio of assets to liabilities, every step, no lag.
    An oracle no real proof gives; kept so that ``solvency_proofs=True`` means what it did.
``reserves``
    A reserves-only attestation (proof of reserves: an auditor or an on-chain signature shows
    that the custodian controls so much at the snapshot; Mazars' attestations for Binance,
    Crypto.com and KuCoin, withdrawn in December 2022). It says nothing about liabilities:
    depositors can only compare the reserves with the liabilities the custodian *reports*,
    which leave out ``hidden_frac`` of its customer balances (FTX's ~$8B hole of customer
    money, ``../shared/research/scenario-facts.md`` section 4). Funds borrowed just before the
    snapshot and returned after it (``borrowed_usd``) count as reserves, and the loan is not
    shown: Vitalik Buterin, "Having a safe CEX: proof of solvency and beyond" (19 Nov 2022,
    https://vitalik.ca/general/2022/11/19/proof_of_solvency.html) on why a proof of assets
    alone is not a proof of solvency.
``liabilities``
    A proof of reserves together with a proof of liabilities: customer balances in a
    Merkle sum tree (or, in the zero-knowledge kind, a ZK-SNARK over the balances: Binance's
    zk-PoR, PSE's Summa) whose root every customer checks their own leaf against, so no
    customer balance can be left out without the customer noticing (same post, section
    "Balance lists and Merkle trees"). The liabilities shown are therefore the true ones
    (hidden balances included). Modelling decision: the snapshot loan behind borrowed
    reserves shows too (counted among the liabilities at the snapshot, as a full proof of
    solvency requires), so borrowed funds add the same amount to both sides: they move the
    ratio towards 1 but can never lift a ratio below 1 above it. Real Merkle sum trees
    cover customer balances only; a lender outside them is caught only if its claim is
    proven too — the docs (``docs/solvency-proofs.md``) say so.

The functions are pure: the agent (``CustodialExchange``) takes snapshots of its books and
publishes what :func:`publish` returns.

Examples
--------
>>> p = publish("reserves", assets_usd=90.0, liabilities_usd=100.0, hidden_frac=0.2)
>>> p.reserves_usd, p.liabilities_shown_usd, round(p.ratio, 4)
(90.0, 80.0, 1.125)
>>> q = publish("liabilities", assets_usd=90.0, liabilities_usd=100.0, hidden_frac=0.2)
>>> q.liabilities_shown_usd, q.ratio
(100.0, 0.9)
>>> b = publish("reserves", assets_usd=90.0, liabilities_usd=100.0, borrowed_usd=20.0)
>>> b.ratio
1.1
>>> round(publish("liabilities", assets_usd=90.0, liabilities_usd=100.0,
...               borrowed_usd=20.0).ratio, 4)
0.9167
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["PROOF_KINDS", "Proof", "due_snapshot", "is_snapshot", "publish",
           "updated_thresholds"]

PROOF_KINDS = ("exact", "reserves", "liabilities")


@dataclass(frozen=True)
class Proof:
    """What one proof publishes: reserves, the liabilities it shows and their ratio."""

    kind: str
    reserves_usd: float
    liabilities_shown_usd: float
    ratio: float  # reserves / liabilities shown (inf when nothing is shown)


def publish(kind: str, *, assets_usd: float, liabilities_usd: float, hidden_frac: float = 0.0,
            deposits_usd: float | None = None, borrowed_usd: float = 0.0) -> Proof:
    """What a proof of ``kind`` publishes from the true books at its snapshot.

    ``assets_usd`` and ``liabilities_usd`` are the true books; ``hidden_frac`` of the
    customer deposits (``deposits_usd``, all the liabilities when None) is left out of the
    liabilities the custodian reports; ``borrowed_usd`` is borrowed for the snapshot.

    - ``exact``: assets / liabilities (the truth; hidden and borrowed play no part).
    - ``reserves``: (assets + borrowed) / (liabilities - hidden deposits).
    - ``liabilities``: (assets + borrowed) / (liabilities + borrowed).
    """
    if kind not in PROOF_KINDS:
        raise ValueError(f"proof kind {kind!r}: one of {PROOF_KINDS}")
    if kind == "exact":
        reserves, shown = assets_usd, liabilities_usd
    elif kind == "reserves":
        deposits = liabilities_usd if deposits_usd is None else deposits_usd
        reserves, shown = assets_usd + borrowed_usd, liabilities_usd - hidden_frac * deposits
    else:
        reserves, shown = assets_usd + borrowed_usd, liabilities_usd + borrowed_usd
    ratio = reserves / shown if shown > 0 else math.inf
    return Proof(kind=kind, reserves_usd=float(reserves), liabilities_shown_usd=float(shown),
                 ratio=float(ratio))


def is_snapshot(step: int, *, every: int) -> bool:
    """Whether ``step`` is a snapshot step: ``every``, ``2 every``, ... (none at step 0).

    >>> [s for s in range(12) if is_snapshot(s, every=5)]
    [5, 10]
    """
    return step >= every and step % every == 0


def due_snapshot(step: int, *, every: int, lag: int) -> int | None:
    """The snapshot whose proof is published at ``step``, ``lag`` steps after it was taken
    (None: no publication then).

    >>> [(s, due_snapshot(s, every=7, lag=2)) for s in (2, 7, 9, 16)]
    [(2, None), (7, None), (9, 7), (16, 14)]
    """
    snap = step - lag
    return snap if is_snapshot(snap, every=every) else None


def updated_thresholds(base: NDArray[np.float64], ratio: float, *, weight: float,
                       floor: float) -> NDArray[np.float64]:
    """Depositors' run thresholds after a proof publishing ``ratio``.

    Each depositor's threshold is its own base threshold moved by ``weight * (ratio - 1)``
    (a cushion above 1 makes it tolerate more stress before it runs, a shortfall less),
    held within ``[floor, 1]``; a cushion counts up to 100% (a ratio of 2). It does not
    accumulate: a proof replaces what the last one said.

    >>> updated_thresholds(np.array([0.3, 0.6]), 1.1, weight=0.5, floor=0.05).round(6)
    array([0.35, 0.65])
    >>> updated_thresholds(np.array([0.3]), 0.5, weight=1.0, floor=0.05)
    array([0.05])
    """
    r = min(ratio, 2.0) if math.isfinite(ratio) else 2.0
    return np.clip(base + weight * (r - 1.0), floor, 1.0)
