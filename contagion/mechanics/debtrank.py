"""DebtRank: propagation of distress (relative equity loss) from borrowers to lenders.

Unlike the default cascade of :mod:`contagion.mechanics.clearing`, DebtRank transmits losses
before anyone defaults: when a borrower's equity falls by a fraction, its lenders mark
their claims down by the same fraction.

``exposures[i, j]`` is the amount node ``i`` has lent to node ``j`` - an asset of ``i`` and
a liability of ``j`` - so distress flows from ``j`` to ``i``. This is the transpose of the
``liabilities`` convention of :func:`~contagion.mechanics.clearing.eisenberg_noe`
(``exposures = liabilities.T``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from contagion.errors import ParameterError
from contagion.validation import check_exposure_matrix, check_int, check_real, check_vector

__all__ = [
    "DebtRankResult",
    "debtrank",
    "systemic_importance",
]


@dataclass(frozen=True)
class DebtRankResult:
    """Outcome of a DebtRank propagation.

    Attributes
    ----------
    distress : ndarray of float, shape (n,)
        Final distress ``h_i(T)`` in ``[0, 1]``: the fraction of equity lost.
    debtrank : float
        ``sum_j (h_j(T) - h_j(0)) v_j``: the economic value lost through propagation,
        excluding the initial shock; in ``[0, 1]`` because ``v`` sums to 1.
    rounds : int
        Number of propagation rounds ``T``.
    history : ndarray of float, shape (T + 1, n)
        ``h(t)`` for ``t = 0..T``; row 0 is the initial condition.
    """

    distress: NDArray[np.float64]
    debtrank: float
    rounds: int
    history: NDArray[np.float64]


def _leverage(exposures: NDArray[np.float64], equity: NDArray[np.float64]) -> NDArray[np.float64]:
    """``Lambda_ij = exposures_ij / equity_i``; zero rows for nodes without positive equity."""
    positive = equity > 0
    return np.divide(
        exposures,
        equity[:, None],
        out=np.zeros_like(exposures),
        where=positive[:, None],
    )


def _weights(exposures: NDArray[np.float64], economic_value: Any) -> NDArray[np.float64]:
    n = exposures.shape[0]
    if economic_value is None:
        held = exposures.sum(axis=1)
        total = held.sum()
        return held / total if total > 0 else np.full(n, 1.0 / max(n, 1))
    v = check_vector("economic_value", economic_value, n, low=0.0)
    if n > 0 and v.sum() <= 0:
        raise ParameterError("economic_value", "all zeros", "entries >= 0 with a positive sum")
    return v / v.sum() if n > 0 else v


def _propagate(
    lam: NDArray[np.float64],
    h0: NDArray[np.float64],
    *,
    linear: bool,
    max_rounds: int,
    tol: float,
) -> list[NDArray[np.float64]]:
    """Run a batch of scenarios (rows of ``h0``) together; return ``[h(0), ..., h(T)]``."""
    h = h0
    history = [h]
    if linear:
        prev = np.zeros_like(h)
        while len(history) <= max_rounds:
            dh = h - prev
            if not np.any(dh > tol):
                break
            prev, h = h, np.minimum(1.0, h + dh @ lam.T)
            history.append(h)
    else:
        impact = np.minimum(1.0, lam)
        distressed = h > 0
        inactive = np.zeros_like(distressed)
        while distressed.any() and len(history) <= max_rounds:
            h = np.minimum(1.0, h + (h * distressed) @ impact.T)
            inactive |= distressed
            distressed = (h > 0) & ~inactive
            history.append(h)
    return history


def _validate(
    exposures: Any, equity: Any, linear: Any, max_rounds: Any, tol: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64], int, float]:
    a = check_exposure_matrix("exposures", exposures)
    e = check_vector("equity", equity, a.shape[0])
    if not isinstance(linear, bool | np.bool_):
        raise ParameterError("linear", linear, "True or False")
    rounds = check_int("max_rounds", max_rounds, low=1)
    tol = check_real("tol", tol, low=0.0)
    return a, e, rounds, tol


def debtrank(
    exposures: Any,
    equity: Any,
    initial_distress: Any,
    *,
    economic_value: Any = None,
    linear: bool = False,
    max_rounds: int = 100,
    tol: float = 1e-12,
) -> DebtRankResult:
    """Propagate an initial distress through an exposure network with DebtRank.

    Parameters
    ----------
    exposures : array_like, shape (n, n)
        ``exposures[i, j]`` is the amount ``i`` has lent to ``j``; entries ``>= 0``, zero
        diagonal.
    equity : array_like, shape (n,)
        Each node's equity (capital) before the shock. Nodes with ``equity <= 0`` start
        fully distressed (``h = 1``) and count as part of the initial shock; their
        distress reaches their lenders like any other node's.
    initial_distress : array_like, shape (n,)
        ``h(0)``, the fraction of equity each node has lost to the exogenous shock, in
        ``[0, 1]``.
    economic_value : array_like, shape (n,), optional
        Weights ``v`` (``>= 0``, normalised to sum 1). Default: each node's share of all
        exposures held, ``v_i = sum_j exposures_ij / sum_kj exposures_kj`` (its relative
        interbank asset size); uniform if there are no exposures.
    linear : bool, default False
        ``False``: original DebtRank, each node propagates once. ``True``: linear DebtRank,
        every increment of distress propagates.
    max_rounds : int, default 100
        Upper bound on the number of rounds, ``>= 1``. The original algorithm ends within
        ``n`` rounds; the linear one runs until no increment exceeds ``tol``.
    tol : float, default 1e-12
        Linear DebtRank stops when no node's distress grew by more than ``tol``.

    Returns
    -------
    DebtRankResult

    Raises
    ------
    ParameterError
        On a malformed ``exposures`` matrix, vectors of the wrong length, distress outside
        ``[0, 1]``, negative or all-zero ``economic_value``, or out-of-range options.

    Notes
    -----
    Leverage ``Lambda_ij = exposures_ij / equity_i``; impact of ``j`` on ``i``
    ``W_ji = min(1, Lambda_ij)`` (Battiston et al. 2012).

    Original DebtRank: each node is undistressed (U), distressed (D) or inactive (I); nodes
    with ``h_i(0) > 0`` start in D. Each round

    ``h_i(t+1) = min(1, h_i(t) + sum_{j in D(t)} W_ji h_j(t))``,

    then D nodes become I and U nodes with ``h > 0`` become D. A node therefore passes on
    its distress once, in the round after it became distressed; later increments (e.g. from
    cycles) are received but not passed on. The run stops when no node is in D.

    Linear DebtRank (Bardoscia et al. 2015), with ``h(-1) = 0`` and no cap on ``Lambda``:

    ``h_i(t+1) = min(1, h_i(t) + sum_j Lambda_ij (h_j(t) - h_j(t-1)))``.

    It equals the iteration ``h(t+1) = min(1, h(0) + Lambda h(t))``, and by induction on
    ``t`` it is never below the original algorithm, round by round.

    DebtRank ``R = sum_j (h_j(T) - h_j(0)) v_j``.

    References
    ----------
    .. [1] S. Battiston, M. Puliga, R. Kaushik, P. Tasca and G. Caldarelli, "DebtRank: too
       central to fail? Financial networks, the FED and systemic risk", Scientific Reports
       2, 541, 2012.
    .. [2] M. Bardoscia, S. Battiston, F. Caccioli and G. Caldarelli, "DebtRank: a
       microscopic foundation for shock propagation", PLoS ONE 10(6), e0130406, 2015.

    Examples
    --------
    A star: node 0 has borrowed 10, 20 and 30 from nodes 1, 2, 3, whose equity is 20, 10
    and 60. Node 0 fails (``h_0 = 1``); in round 1 the lenders lose ``10/20 = 0.5``,
    ``min(1, 20/10) = 1`` and ``30/60 = 0.5``; in round 2 they pass it on to nobody. The
    lenders hold 1/6, 2/6 and 3/6 of all exposures, so
    ``R = (0.5 * 1 + 1 * 2 + 0.5 * 3) / 6 = 2/3``.

    >>> A = [[0, 0, 0, 0], [10, 0, 0, 0], [20, 0, 0, 0], [30, 0, 0, 0]]
    >>> res = debtrank(A, [5, 20, 10, 60], [1, 0, 0, 0])
    >>> res.distress.tolist(), round(res.debtrank, 6), res.rounds
    ([1.0, 0.5, 1.0, 0.5], 0.666667, 2)
    """
    a, e, max_rounds, tol = _validate(exposures, equity, linear, max_rounds, tol)
    n = a.shape[0]
    h0 = check_vector("initial_distress", initial_distress, n, low=0.0)
    if np.any(h0 > 1):
        raise ParameterError("initial_distress", f"max entry {h0.max():g}", "0 <= x <= 1")
    v = _weights(a, economic_value)
    h0 = np.where(e > 0, h0, 1.0)
    history = _propagate(
        _leverage(a, e), h0[None, :], linear=linear, max_rounds=max_rounds, tol=tol
    )
    hist = np.concatenate(history, axis=0)
    return DebtRankResult(
        distress=hist[-1].copy(),
        debtrank=float((hist[-1] - hist[0]) @ v),
        rounds=hist.shape[0] - 1,
        history=hist,
    )


def systemic_importance(
    exposures: Any, equity: Any, *, linear: bool = False
) -> NDArray[np.float64]:
    """DebtRank of each node: the value lost when it alone starts fully distressed.

    Parameters
    ----------
    exposures : array_like, shape (n, n)
        ``exposures[i, j]`` is the amount ``i`` has lent to ``j``.
    equity : array_like, shape (n,)
        Each node's equity; nodes with ``equity <= 0`` start fully distressed in every
        scenario (see :func:`debtrank`).
    linear : bool, default False
        Use linear DebtRank instead of the original algorithm.

    Returns
    -------
    ndarray of float, shape (n,)
        ``R_k``, the :func:`debtrank` of the scenario ``h(0) = unit vector k``, with the
        default economic weights (share of exposures held) and ``max_rounds = 100``.

    Notes
    -----
    ``R_k = sum_j (h_j(T) - h_j(0)) v_j`` with ``h(0) = e_k`` (Battiston et al. 2012, who
    rank institutions by it). The ``n`` scenarios run as one vectorised batch.

    References
    ----------
    .. [1] S. Battiston, M. Puliga, R. Kaushik, P. Tasca and G. Caldarelli, "DebtRank: too
       central to fail? Financial networks, the FED and systemic risk", Scientific Reports
       2, 541, 2012.

    Examples
    --------
    A chain: node 0 owes 5 to node 1 (equity 10), node 1 owes 4 to node 2 (equity 8).
    Node 0 failing costs node 1 half its equity and node 2 a quarter; node 1 failing costs
    node 2 half; node 2 owes nobody anything.

    >>> A = [[0, 0, 0], [5, 0, 0], [0, 4, 0]]
    >>> systemic_importance(A, [1, 10, 8]).round(4).tolist()
    [0.3889, 0.2222, 0.0]
    """
    a, e, max_rounds, tol = _validate(exposures, equity, linear, 100, 1e-12)
    n = a.shape[0]
    v = _weights(a, None)
    h0 = np.maximum(np.eye(n), (e <= 0).astype(np.float64)[None, :])
    history = _propagate(_leverage(a, e), h0, linear=linear, max_rounds=max_rounds, tol=tol)
    return np.asarray((history[-1] - history[0]) @ v, dtype=np.float64)
