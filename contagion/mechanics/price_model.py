r"""Joint price innovations: correlation (or factor loadings), Student-t tails, GARCH(1,1).

Pure functions of their parameters and a passed-in :class:`numpy.random.Generator`; the
same generator state gives the same innovations. :class:`~contagion.agents.market.Market`
feeds them to each asset's own path (:mod:`contagion.mechanics.price_path`), which keeps
its drift, crash and jumps: only the noise becomes joint.

* :func:`correlation_factor`: a matrix ``M`` with ``M M^T = C`` for a correlation matrix
  ``C`` (Cholesky), refusing a matrix that is not square, symmetric, of unit diagonal and
  positive semi-definite, naming the entry.
* :func:`factor_factor`: the same from factor loadings ``B`` (``C = B B^T + diag(1 - |b_i|^2)``).
* :func:`joint_innovations`: ``steps x n`` draws of unit variance and correlation ``C``,
  Gaussian or multivariate Student-t (one chi-square mixing variable a step, shared by all
  assets, so they have fat tails *together*: tail dependence).
* :func:`garch_filter`: GARCH(1,1) volatility on standardised draws, started at the
  unconditional variance ``omega / (1 - alpha - beta)``.

Notes
-----
Student-t with ``nu > 2`` degrees of freedom scaled to unit variance:
``z = g sqrt((nu - 2) / W)``, ``g ~ N(0, C)``, ``W ~ chi2(nu)``; each margin has excess
kurtosis ``6 / (nu - 4)`` (``nu > 4``).

GARCH(1,1) (Bollerslev 1986): ``eps_t = sqrt(h_t) z_t``,
``h_{t+1} = omega + alpha eps_t^2 + beta h_t``, stationary when ``alpha + beta < 1`` with
``E[eps^2] = omega / (1 - alpha - beta)``.

References
----------
Bollerslev, T. (1986). Generalized autoregressive conditional heteroskedasticity. Journal
of Econometrics 31, 307-327.
McNeil, A. J., Frey, R. and Embrechts, P. (2015). Quantitative Risk Management, 2nd ed.,
Princeton University Press: sec. 6.2 (normal mixtures, the multivariate t), sec. 4.2 (GARCH).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from contagion.errors import ParameterError
from contagion.validation import check_int, check_real

__all__ = [
    "INNOVATIONS",
    "correlation_factor",
    "factor_factor",
    "garch_filter",
    "joint_innovations",
]

INNOVATIONS = ("normal", "student_t")

#: Entries of a correlation matrix may miss symmetry, the unit diagonal or positive
#: semi-definiteness by this much (a matrix typed with 15 digits, or estimated).
TOLERANCE = 1e-9


def _matrix(name: str, rows: Sequence[Sequence[float]], n_cols: int | None = None
            ) -> NDArray[np.float64]:
    """``rows`` as a float matrix, each entry a finite real number, rows of equal length."""
    if len(rows) == 0:
        raise ParameterError(name, rows, "a non-empty matrix (a list of rows)")
    width = len(rows[0]) if n_cols is None else n_cols
    out = np.empty((len(rows), width))
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ParameterError(f"{name}[{i}]", list(row), f"a row of {width} numbers",
                                 "every row has as many entries as the first")
        for j, v in enumerate(row):
            out[i, j] = check_real(f"{name}[{i}][{j}]", v, low=-1, high=1)
    return out


def correlation_factor(correlation: Sequence[Sequence[float]], *, name: str = "correlation"
                       ) -> NDArray[np.float64]:
    """A matrix ``M`` with ``M M^T = C``: the lower Cholesky factor of the correlation ``C``.

    ``C`` must be square, symmetric, of unit diagonal and positive semi-definite; otherwise
    a :class:`~contagion.errors.ParameterError` names the entry (``correlation[0][1]``) or,
    for a matrix that is not PSD, its most negative eigenvalue and the entry whose row
    carries most of it. A PSD but singular ``C`` (a correlation of exactly 1) has no
    Cholesky factor: ``M`` is then ``V sqrt(max(w, 0))`` from its eigen-decomposition.

    Examples
    --------
    >>> correlation_factor([[1.0, 0.6], [0.6, 1.0]]).round(3).tolist()
    [[1.0, 0.0], [0.6, 0.8]]
    >>> correlation_factor([[1.0, 0.9], [0.9, 0.5]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    contagion.errors.ParameterError: parameter 'correlation[1][1]' = 0.5 is invalid: ...
    """
    c = _matrix(name, correlation)
    n = c.shape[0]
    if c.shape[1] != n:
        raise ParameterError(name, [list(r) for r in correlation],
                             f"a square matrix ({n} rows of {n})", f"its rows have {c.shape[1]}")
    for i in range(n):
        if abs(c[i, i] - 1.0) > TOLERANCE:
            raise ParameterError(f"{name}[{i}][{i}]", float(c[i, i]),
                                 "exactly 1 (a correlation matrix has a unit diagonal)")
    for i in range(n):
        for j in range(i + 1, n):
            if abs(c[i, j] - c[j, i]) > TOLERANCE:
                raise ParameterError(f"{name}[{j}][{i}]", float(c[j, i]),
                                     f"{c[i, j]!r}, equal to {name}[{i}][{j}] (a correlation "
                                     "matrix is symmetric)")
    c = 0.5 * (c + c.T)
    w, v = np.linalg.eigh(c)
    if w[0] < -TOLERANCE:
        k = int(np.argmax(np.abs(v[:, 0])))  # the asset the offending direction loads most
        j = int(np.argmax(np.where(np.arange(n) == k, -np.inf, np.abs(c[k]))))
        raise ParameterError(f"{name}[{k}][{j}]", float(c[k, j]),
                             "a value that leaves the matrix positive semi-definite",
                             f"its smallest eigenvalue is {w[0]:.4g} < 0: these correlations "
                             "cannot hold together; the offending direction loads most on "
                             f"row {k}")
    try:
        return np.asarray(np.linalg.cholesky(c), dtype=np.float64)
    except np.linalg.LinAlgError:  # PSD but singular
        return np.asarray(v * np.sqrt(np.clip(w, 0.0, None)), dtype=np.float64)


def factor_factor(loadings: Sequence[Sequence[float]], *, name: str = "factor_loadings"
                  ) -> NDArray[np.float64]:
    """``M = [B, diag(sqrt(1 - |b_i|^2))]`` with ``M M^T = B B^T + diag(1 - |b_i|^2)``.

    Row ``i`` of ``B`` (``n x k``) is asset ``i``'s loadings on ``k`` independent
    unit-variance factors; the rest of its unit variance is its own (idiosyncratic) noise,
    so ``sum_f B[i, f]^2 <= 1``.

    Examples
    --------
    >>> m = factor_factor([[0.8], [0.6]])
    >>> (m @ m.T).round(2).tolist()
    [[1.0, 0.48], [0.48, 1.0]]
    """
    b = _matrix(name, loadings)
    share = (b**2).sum(axis=1)
    for i, s in enumerate(share):
        if s > 1.0 + TOLERANCE:
            raise ParameterError(f"{name}[{i}]", b[i].tolist(),
                                 "loadings whose squares sum to at most 1",
                                 f"they sum to {s:.4g}: an asset's variance is 1, its factors' "
                                 "share cannot exceed it")
    return np.hstack([b, np.diag(np.sqrt(np.clip(1.0 - share, 0.0, None)))])


def joint_innovations(factor: NDArray[np.float64], steps: int, *, rng: np.random.Generator,
                      innovations: str = "normal", dof: float = 5.0,
                      joint_tails: bool = True) -> NDArray[np.float64]:
    """``steps x n`` innovations of unit variance and covariance ``factor @ factor.T``.

    ``innovations="normal"``: ``z_t = M e_t``, ``e_t ~ N(0, I)``. ``"student_t"``: the
    multivariate t with ``dof > 2`` scaled to unit variance, ``z_t = M e_t sqrt((dof - 2) /
    W_t)``, ``W_t ~ chi2(dof)`` one per step for all assets. Draws ``e`` (``steps x k``) then
    ``W`` from ``rng``, in that order.

    Examples
    --------
    >>> z = joint_innovations(np.eye(2), 3, rng=np.random.default_rng(0))
    >>> z.shape
    (3, 2)
    """
    check_int("steps", steps, low=0)
    if innovations not in INNOVATIONS:
        raise ParameterError("innovations", innovations, " or ".join(INNOVATIONS))
    e = rng.standard_normal(size=(steps, factor.shape[1]))
    z = e @ factor.T
    if innovations == "student_t":
        dof = check_real("dof", dof, low=2, low_open=True)
        if joint_tails:
            w = rng.chisquare(dof, size=steps)
            z *= np.sqrt((dof - 2.0) / w)[:, None]
        else:
            z *= np.sqrt((dof - 2.0) / rng.chisquare(dof, size=z.shape))
    return z


def garch_filter(z: NDArray[np.float64], *, omega: float, alpha: float, beta: float
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GARCH(1,1) on standardised innovations ``z`` (``steps`` or ``steps x n``).

    Returns ``(eps, h)``: ``eps_t = sqrt(h_t) z_t`` and the conditional variances ``h``,
    with ``h_0 = omega / (1 - alpha - beta)`` (the unconditional variance) and
    ``h_{t+1} = omega + alpha eps_t^2 + beta h_t``. Each column is its own process.

    Examples
    --------
    >>> eps, h = garch_filter(np.array([1.0, -2.0, 0.5]), omega=0.1, alpha=0.2, beta=0.7)
    >>> h.round(4).tolist()
    [1.0, 1.0, 1.6]
    >>> eps.round(4).tolist()
    [1.0, -2.0, 0.6325]
    """
    omega = check_real("garch omega", omega, low=0, low_open=True)
    alpha = check_real("garch alpha", alpha, low=0, high=1, high_open=True)
    beta = check_real("garch beta", beta, low=0, high=1, high_open=True)
    if alpha + beta >= 1.0:
        raise ParameterError("garch alpha + beta", alpha + beta, "< 1",
                             "a GARCH(1,1) with alpha + beta >= 1 has no finite unconditional "
                             "variance")
    z = np.asarray(z, dtype=np.float64)
    h = np.empty_like(z)
    eps = np.empty_like(z)
    h_t = np.full(z.shape[1:], omega / (1.0 - alpha - beta))
    for t in range(z.shape[0]):  # a recursion in time, vectorised over assets
        h[t] = h_t
        eps[t] = np.sqrt(h_t) * z[t]
        h_t = omega + alpha * eps[t] ** 2 + beta * h_t
    return eps, h
