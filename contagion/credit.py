"""The venue-to-venue credit layer: institutions' balance sheets cleared by Eisenberg-Noe.

Nodes are the institutions (lending protocols, custodial exchanges, trading firms) plus one
sink, ``outside``, standing for depositors, retail suppliers and other outside creditors.
Each step the model clears this network; the payment ratio of each institution is the
recovery rate its creditors can expect, which marks their claims on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from contagion.mechanics.clearing import ClearingResult, eisenberg_noe

if TYPE_CHECKING:
    from contagion.model import ContagionModel

__all__ = ["OUTSIDE", "clear_institutions", "credit_matrix", "recovery_rates"]

OUTSIDE = "outside"


def credit_matrix(model: ContagionModel) -> tuple[list[str], NDArray[np.float64],
                                                  NDArray[np.float64]]:
    """Nominal liabilities between institutions and their external assets.

    Returns ``(names, liabilities, external_assets)`` with ``liabilities[i, j]`` what ``i``
    owes ``j``; the last node is :data:`OUTSIDE`.
    """
    names = [*model.institutions, OUTSIDE]
    idx = {n: i for i, n in enumerate(names)}
    n = len(names)
    L = np.zeros((n, n))
    e = np.zeros(n)
    market = model.market
    for name, inst in model.institutions.items():
        i = idx[name]
        if inst.kind == "lending":
            for holder, _ in inst.supply_nominal.items():
                L[i, idx.get(holder, idx[OUTSIDE])] += inst.claim_of(holder)
            e[i] = inst.cash_usd + float(inst.book.debt.sum())
        elif inst.kind == "custodial":
            L[i, idx[OUTSIDE]] += inst.deposits_usd() + inst.payables_usd()
            for lender, amount in inst.borrowings.items():
                L[i, idx[lender]] += amount
            token = inst.token_units * float(market.price[inst.token]) if inst.token is not None else 0
            e[i] = inst.cash_usd + token + inst.illiquid_usd + inst.held_assets_usd()
        elif inst.kind == "firm":
            for lender, amount in inst.borrowings.items():
                L[i, idx[lender]] += amount
            e[i] = inst.assets_usd()
    np.fill_diagonal(L, 0.0)
    return names, L, np.maximum(e, 0.0)


def recovery_rates(model: ContagionModel) -> dict[str, float]:
    """Each institution's clearing payment ratio (1.0 when it can pay in full).

    Notes
    -----
    When every node's external assets plus full receipts cover its liabilities, paying in
    full is the greatest clearing vector, so the linear solve is skipped. Default costs
    come from the scenario's :class:`~contagion.params.ClearingParams`.
    """
    names, L, e = credit_matrix(model)
    owed = L.sum(axis=1)
    if np.all(e + L.sum(axis=0) >= owed * (1 - 1e-12)):
        return dict.fromkeys(names, 1.0)
    res = _clear(model, L, e)
    return dict(zip(names, res.recovery_rate.tolist(), strict=True))


def _clear(model: ContagionModel, L: NDArray[np.float64], e: NDArray[np.float64]
           ) -> ClearingResult:
    """Eisenberg-Noe with the scenario's default costs (``ClearingParams``)."""
    c = model.scenario.clearing
    return eisenberg_noe(L, e, alpha=c.external_assets_frac, beta=c.interbank_receipts_frac)


def clear_institutions(model: ContagionModel) -> tuple[list[str], ClearingResult]:
    """Clear the institutions' network; return node names and the clearing result."""
    names, L, e = credit_matrix(model)
    return names, _clear(model, L, e)
