"""The venue-to-venue credit layer: institutions' balance sheets cleared by Eisenberg-Noe.

Nodes are the institutions (lending protocols, custodial exchanges, trading firms) plus one
sink, ``outside``, standing for depositors, retail suppliers and other outside creditors.
Each step the model clears this network; the payment ratio of each institution is the
recovery rate its creditors can expect, which marks their claims on it.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from contagion.institution import OUTSIDE, NetworkMember
from contagion.mechanics.clearing import ClearingResult, eisenberg_noe

if TYPE_CHECKING:
    from contagion.model import ContagionModel

__all__ = ["OUTSIDE", "SPARSE_ABOVE", "clear_institutions", "credit_matrix", "credit_network",
           "recovery_rates"]

#: Above this many institutions the credit network is cleared as a sparse matrix (memory and
#: time in the number of links); below it a dense solve is faster and exact to the last bit
#: of earlier versions.
SPARSE_ABOVE = 400


def _credit_entries(model: ContagionModel) -> tuple[list[str], list[int], list[int],
                                                   list[float], NDArray[np.float64]]:
    """Node names, the nonzero liabilities as (row, column, amount) lists in the order the
    institutions report them, and the external assets (not yet floored at 0)."""
    names = [*model.institutions, OUTSIDE]
    idx = {n: i for i, n in enumerate(names)}
    out = idx[OUTSIDE]
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    e = np.zeros(len(names))
    members: dict[str, NetworkMember] = model.institutions
    for name, inst in members.items():
        i = idx[name]
        position = inst.credit_position()
        e[i] = position.external_assets_usd
        for creditor, amount in position.owed:
            j = idx.get(creditor, out)
            if i != j and amount != 0.0:
                rows.append(i)
                cols.append(j)
                vals.append(float(amount))
    return names, rows, cols, vals, e


def credit_network(model: ContagionModel) -> tuple[list[str], Any, NDArray[np.float64]]:
    """Nominal liabilities between institutions (a sparse CSR matrix, ``L[i, j]`` what ``i``
    owes ``j``) and their external assets; the last node is :data:`OUTSIDE`.

    The credit links are the world graph's ``credit`` edges (each institution's
    ``borrowings``, read from them at set-up and repaid since); lenders' supplier claims and
    custodians' deposits are liabilities too.
    """
    names, rows, cols, vals, e = _credit_entries(model)
    L = sparse.coo_matrix((vals, (rows, cols)), shape=(len(names), len(names))).tocsr()
    return names, L, np.maximum(e, 0.0)


def _dense_sums(n: int, rows: list[int], cols: list[int], vals: list[float]
                ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None:
    """The dense liabilities matrix and its row and column sums, bit for bit those of
    :func:`credit_network`'s CSR matrix (``L.toarray()``, ``L.sum(axis=1)``,
    ``L.sum(axis=0)``) without building it, or ``None`` when a (row, column) pair repeats
    (scipy would add the repeats up; that case goes through scipy).

    The sums take the same floating-point path as scipy's: a row sum is ``np.add.reduceat``
    over the row's entries in column order (``_minor_reduce``), a column sum adds the
    entries one by one in row order (``ones @ L``, a CSC matvec).
    """
    key = np.asarray(rows, dtype=np.int64) * n + np.asarray(cols, dtype=np.int64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    if key.size and bool((key[1:] == key[:-1]).any()):
        return None
    r, c = np.divmod(key, n)
    data = np.asarray(vals, dtype=np.float64)[order]
    dense = np.zeros((n, n))
    dense[r, c] = data
    owed = np.zeros(n)
    if data.size:
        indptr = np.searchsorted(r, np.arange(n + 1))
        major = np.flatnonzero(np.diff(indptr))
        owed[major] = np.add.reduceat(data, indptr[major])
    owed_to = np.zeros(n)
    np.add.at(owed_to, c, data)  # in row order: unbuffered, entry by entry
    return dense, owed, owed_to


#: Up to this many links (and at most 8 in a row) the clearing's first test, whether every
#: institution can pay in full, is made on Python floats (:func:`_small_sums`): the numpy
#: calls of :func:`_dense_sums` cost more than the arithmetic on a handful of links.
SMALL_LINKS = 64


def _small_sums(n: int, rows: list[int], cols: list[int], vals: list[float]
                ) -> tuple[list[float], list[float]] | None:
    """:func:`_dense_sums`'s row and column sums as Python floats, bit for bit, or ``None``
    when a (row, column) pair repeats or a row has more than 8 entries.

    A row sum is numpy's reduction of the row's entries in column order: the first entry
    plus the rest added left to right from 0 (numpy's pairwise sum of fewer than 8 values);
    a column sum adds its entries one by one in row order from 0 (``np.add.at``).
    """
    if len(vals) > SMALL_LINKS:
        return None
    order = sorted(range(len(vals)), key=lambda k: rows[k] * n + cols[k])
    owed = [0.0] * n
    owed_to = [0.0] * n
    row, first, rest, count, last_key = -1, 0.0, 0.0, 0, -1
    for k in order:
        key = rows[k] * n + cols[k]
        if key == last_key:
            return None
        last_key = key
        r, v = rows[k], vals[k]
        if r != row:
            if row >= 0:
                owed[row] = first + rest
            row, first, rest, count = r, v, 0.0, 1
        else:
            rest += v
            count += 1
            if count > 8:
                return None
        owed_to[cols[k]] += v
    if row >= 0:
        owed[row] = first + rest
    return owed, owed_to


def credit_matrix(model: ContagionModel) -> tuple[list[str], NDArray[np.float64],
                                                  NDArray[np.float64]]:
    """:func:`credit_network` with a dense liabilities matrix (for small networks)."""
    names, L, e = credit_network(model)
    return names, L.toarray(), e


def recovery_rates(model: ContagionModel) -> dict[str, float]:
    """Each institution's clearing payment ratio (1.0 when it can pay in full).

    Notes
    -----
    When every node's external assets plus full receipts cover its liabilities, paying in
    full is the greatest clearing vector, so the linear solve is skipped. Default costs
    come from the scenario's :class:`~contagion.params.ClearingParams`.
    """
    names, rows, cols, vals, e = _credit_entries(model)
    e = np.maximum(e, 0.0)
    n = len(names)
    if n > SPARSE_ABOVE:
        return _sparse_recovery_rates(model, names, rows, cols, vals, e)
    small = _small_sums(n, rows, cols, vals)
    if small is not None and all(a + b >= c * (1 - 1e-12)
                                 for a, b, c in zip(e.tolist(), small[1], small[0], strict=True)):
        return dict.fromkeys(names, 1.0)  # the test below, on a few links: no numpy
    # the same network as last time? Keyed on the links as listed (the same lists make the
    # same matrix; a clearing of the same matrix listed otherwise is made again, the same)
    c = model.scenario.clearing
    key = (tuple(names), c.external_assets_frac, c.interbank_receipts_frac, tuple(rows),
           tuple(cols), array("d", vals).tobytes(), e.tobytes())
    last = _LAST_CLEARING  # one read: (key, rates) are replaced together
    if last is not None and last[0] == key:  # it was not paid in full then, nor is now
        return dict(last[1])
    sums = _dense_sums(n, rows, cols, vals)
    if sums is None:  # repeated links: scipy adds them up
        L = sparse.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
        dense = L.toarray()
        owed, owed_to = np.asarray(L.sum(axis=1)).ravel(), np.asarray(L.sum(axis=0)).ravel()
    else:  # a few institutions: no sparse matrix at all (it cost more than the clearing)
        dense, owed, owed_to = sums
    if np.all(e + owed_to >= owed * (1 - 1e-12)):
        return dict.fromkeys(names, 1.0)
    rates = dict(zip(names, _clear(model, dense, e).recovery_rate.tolist(), strict=True))
    _remember_clearing(key, rates)
    return rates


def _sparse_recovery_rates(model: ContagionModel, names: list[str], rows: list[int],
                           cols: list[int], vals: list[float], e: NDArray[np.float64]
                           ) -> dict[str, float]:
    """:func:`recovery_rates` of a network of many institutions, cleared sparse."""
    n = len(names)
    L = sparse.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    owed = np.asarray(L.sum(axis=1)).ravel()
    owed_to = np.asarray(L.sum(axis=0)).ravel()
    if np.all(e + owed_to >= owed * (1 - 1e-12)):
        return dict.fromkeys(names, 1.0)
    return dict(zip(names, _clear(model, L, e).recovery_rate.tolist(), strict=True))


#: The last dense clearing: its inputs and recovery rates. After the first defaults the
#: network often stands still for many steps (three clearings in four in the default
#: preset repeat the one before); the clearing is a pure function of these inputs, so the
#: rates are reused exactly.
_LAST_CLEARING: tuple[tuple[Any, ...], dict[str, float]] | None = None


def _remember_clearing(key: tuple[Any, ...], rates: dict[str, float]) -> None:
    global _LAST_CLEARING
    _LAST_CLEARING = (key, dict(rates))


def _clear(model: ContagionModel, L: Any, e: NDArray[np.float64]) -> ClearingResult:
    """Eisenberg-Noe with the scenario's default costs (``ClearingParams``)."""
    c = model.scenario.clearing
    return eisenberg_noe(L, e, alpha=c.external_assets_frac, beta=c.interbank_receipts_frac)


def clear_institutions(model: ContagionModel) -> tuple[list[str], ClearingResult]:
    """Clear the institutions' network; return node names and the clearing result."""
    names, L, e = credit_network(model)
    return names, _clear(model, L if len(names) > SPARSE_ABOVE else L.toarray(), e)
