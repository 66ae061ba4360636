"""Caccioli, Shrestha, Moore & Farmer (2014): fire sales on overlapping portfolios.

``n_banks`` banks invest in ``n_assets`` assets. Every bank holds exactly ``mu``
(its *diversification*) distinct assets drawn at random, in equal dollar amounts, and has the
same leverage ``lambda = assets / equity`` (so its liabilities are ``assets * (1 - 1/lambda)``).
All prices start at 1 and every bank's portfolio at 1. A shock starts the cascade: one random
bank fails (``shock="bank"``), or one random asset loses ``asset_shock_frac`` of its value
(``shock="asset"``). A failed bank's whole portfolio is liquidated. If a fraction ``x_j`` of
asset ``j``'s shares has been liquidated its price is

``p_j = exp(-alpha x_j)``   (times ``1 - asset_shock_frac`` for the shocked asset),

banks mark their portfolios to these prices and fail when their equity falls to zero or
below; their liquidations lower prices further, until no bank fails (the fixed point).
Contagion is *global* when more than ``threshold_frac`` (5%) of the banks fail.

``alpha = 10 ln(10/9) = 1.0536`` (:data:`ALPHA_10PCT`) makes the liquidation of 10% of an
asset's shares lower its price by 10% (``exp(-0.1 alpha) = 0.9``): the calibration of
Caccioli et al., after Cifuentes, Ferrucci & Shin (2005); the same convention as
``beta = -10 ln(1 - 0.1)`` in the INET Oxford fire-sale stress-test code
(https://github.com/ox-inet-resilience/firesale_stresstest, ``markets.py``).

What the simulation shows (``python -m experiments.fire_sales``; 1000 banks, 1000 assets):
contagion happens only inside a *window* of diversification. With ``mu = 1`` a failure hits
only the banks that share that one asset, and they hold nothing else: the cascade cannot
spread. With large ``mu`` each failure liquidates a small slice of many assets, each held by
many banks, and nobody loses enough to fail. In between, one failure can take down almost
every bank; near the window's edges such cascades are rare but still near-total when they
happen ("robust yet fragile"). The window opens at a critical leverage and widens with
leverage.

Two analytic landmarks (derived here for this model, see :func:`critical_leverage` and
:func:`branching_factor`): no bank can ever fail by fire sales when
``lambda < 1 / (1 - exp(-alpha)) = 1.54`` (even the liquidation of every asset leaves it
solvent); and a failure spreads (mean offspring > 1 in the tree approximation) only above
``lambda ~ 8.6`` for ``mu = 2`` and equal numbers of banks and assets. These numbers follow
from the conventions above (equal split, all shares of an asset count in ``x_j``); the
paper's own figures may use other sizes and degree distributions.

References
----------
Caccioli, F., Shrestha, M., Moore, C. and Farmer, J. D. (2014). Stability analysis of
financial contagion due to overlapping portfolios. Journal of Banking & Finance 46, 233-245.
https://arxiv.org/abs/1210.5987

Cifuentes, R., Ferrucci, G. and Shin, H. S. (2005). Liquidity risk and contagion. Journal of
the European Economic Association 3(2-3), 556-566.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from contagion.errors import ParameterError
from contagion.validation import check_choice, check_int, check_real

__all__ = [
    "ALPHA_10PCT",
    "FireSaleResult",
    "analytic_window",
    "branching_factor",
    "contagion_window",
    "critical_leverage",
    "draw_portfolios",
    "fire_sale_cascade",
]

ALPHA_10PCT = 10.0 * math.log(10.0 / 9.0)
"""Market impact such that liquidating 10% of an asset lowers its price by 10%: 1.0536."""

SHOCKS = ("bank", "asset")
_EQUITY_TOL = 1e-12  # a bank whose equity is within 1e-12 of its assets of zero has failed


@dataclass(frozen=True)
class FireSaleResult:
    """Outcome of one fire-sale cascade.

    Attributes
    ----------
    failed : ndarray of bool, shape (n_banks,)
        Banks that failed (the initially failed ones included).
    failure_round : ndarray of int, shape (n_banks,)
        0 for the initially failed banks, ``k >= 1`` for banks that failed when marking to
        the prices of round ``k`` (the liquidations of every bank failed before it), -1 for
        survivors.
    prices : ndarray of float, shape (n_assets,)
        Prices at the fixed point.
    rounds : int
        Number of rounds in which some bank failed.
    """

    failed: NDArray[np.bool_]
    failure_round: NDArray[np.int64]
    prices: NDArray[np.float64]
    rounds: int


def draw_portfolios(n_banks: int, n_assets: int, diversification: int,
                    rng: np.random.Generator) -> sparse.csr_matrix:
    """Holdings ``Q[i, j]`` (shares of asset ``j`` held by bank ``i``, at price 1).

    Every bank holds exactly ``diversification`` distinct assets drawn uniformly at random,
    ``1 / diversification`` of each, so every portfolio is worth 1.

    Examples
    --------
    >>> Q = draw_portfolios(4, 10, 3, np.random.default_rng(0))
    >>> Q.shape, Q.sum(axis=1).round(12).ravel().tolist(), Q.getnnz(axis=1).tolist()
    ((4, 10), [1.0, 1.0, 1.0, 1.0], [3, 3, 3, 3])
    """
    n_banks = check_int("n_banks", n_banks, low=1, high=10_000_000)
    n_assets = check_int("n_assets", n_assets, low=1, high=10_000_000)
    mu = check_int("diversification", diversification, low=1, high=n_assets)
    cols = np.sort(rng.integers(0, n_assets, size=(n_banks, mu)), axis=1)
    while True:  # redraw repeated assets within a row (rare when mu << n_assets)
        dup = np.zeros(cols.shape, dtype=bool)
        dup[:, 1:] = cols[:, 1:] == cols[:, :-1]
        if not dup.any():
            break
        cols[dup] = rng.integers(0, n_assets, size=int(dup.sum()))
        cols.sort(axis=1)
    rows = np.repeat(np.arange(n_banks), mu)
    return sparse.csr_matrix((np.full(n_banks * mu, 1.0 / mu), (rows, cols.ravel())),
                             shape=(n_banks, n_assets))


def fire_sale_cascade(holdings: sparse.spmatrix | NDArray[np.float64], leverage: float, *,
                      alpha: float = ALPHA_10PCT,
                      initially_failed: NDArray[np.bool_] | None = None,
                      price_shock: NDArray[np.float64] | None = None) -> FireSaleResult:
    """Run the fire-sale cascade to its fixed point.

    Parameters
    ----------
    holdings : sparse matrix or ndarray, shape (n_banks, n_assets)
        Shares held, ``>= 0``, valued at initial prices of 1.
    leverage : float
        ``lambda = assets / equity`` of every bank, ``>= 1``; liabilities are
        ``assets * (1 - 1 / lambda)``.
    alpha : float
        Market impact, ``p_j = exp(-alpha x_j)``; ``>= 0``.
    initially_failed : ndarray of bool, optional
        Banks that fail at the start (their portfolios are liquidated).
    price_shock : ndarray of float, optional
        Multipliers in ``[0, 1]`` applied to the impacted prices (an exogenous devaluation).

    Returns
    -------
    FireSaleResult

    Notes
    -----
    Round ``k``: ``x_j`` = shares of ``j`` held by banks failed so far / all shares of ``j``;
    ``p_j = s_j exp(-alpha x_j)``; a surviving bank fails when ``sum_j Q_ij p_j <=``
    its liabilities. The failed set only grows, so the loop ends within ``n_banks`` rounds.

    Examples
    --------
    Two banks hold half of their portfolio each in asset 0, the other half in an asset of
    their own. Bank 0 fails and sells its half of asset 0's shares:
    ``p_0 = exp(-alpha / 2) = 0.9^5 = 0.59``. Bank 1 loses ``0.5 * 0.41 = 0.205`` of its
    assets: it fails at leverage 5 (equity 0.2) but not at leverage 4 (equity 0.25).

    >>> Q = np.array([[0.5, 0.5, 0.0], [0.5, 0.0, 0.5]])
    >>> fire_sale_cascade(Q, 5, initially_failed=np.array([True, False])).failure_round.tolist()
    [0, 1]
    >>> fire_sale_cascade(Q, 4, initially_failed=np.array([True, False])).failed.tolist()
    [True, False]
    """
    lam = check_real("leverage", leverage, low=1.0)
    alpha = check_real("alpha", alpha, low=0.0)
    Q = sparse.csr_matrix(holdings, dtype=np.float64)
    n, m = Q.shape
    if Q.nnz and Q.data.min() < 0:
        raise ParameterError("holdings", "a negative entry", "shares >= 0")
    failed = np.zeros(n, dtype=bool) if initially_failed is None else np.array(
        initially_failed, dtype=bool)
    if failed.shape != (n,):
        raise ParameterError("initially_failed", failed.shape, f"a boolean vector of length {n}")
    shock = np.ones(m) if price_shock is None else np.asarray(price_shock, dtype=np.float64)
    if shock.shape != (m,) or np.any(~np.isfinite(shock)) or np.any((shock < 0) | (shock > 1)):
        raise ParameterError("price_shock", "out of range", f"{m} multipliers in [0, 1]")
    assets0 = np.asarray(Q.sum(axis=1)).ravel()
    liabilities = assets0 * (1.0 - 1.0 / lam)
    shares = np.asarray(Q.sum(axis=0)).ravel()
    QT = Q.T.tocsr()
    failure_round = np.where(failed, 0, -1).astype(np.int64)
    rounds = 0
    while True:
        sold = QT @ failed.astype(np.float64)
        x = np.divide(sold, shares, out=np.zeros(m), where=shares > 0)
        prices = shock * np.exp(-alpha * x)
        value = Q @ prices
        new = ~failed & (value <= liabilities + _EQUITY_TOL * assets0)
        if not new.any():
            return FireSaleResult(failed=failed, failure_round=failure_round, prices=prices,
                                  rounds=rounds)
        rounds += 1
        failure_round[new] = rounds
        failed |= new


def critical_leverage(alpha: float = ALPHA_10PCT) -> float:
    """The leverage below which no bank can fail by fire sales: ``1 / (1 - exp(-alpha))``.

    Even if every asset a bank holds were entirely liquidated (``x_j = 1``), its portfolio
    keeps ``exp(-alpha)`` of its value; it survives when that loss is below its equity
    share ``1 / lambda``.

    Examples
    --------
    >>> round(critical_leverage(), 4)
    1.5353
    """
    alpha = check_real("alpha", alpha, low=0.0, low_open=True)
    return 1.0 / -math.expm1(-alpha)


def branching_factor(leverage: float, diversification: int, crowding: float = 1.0,
                     alpha: float = ALPHA_10PCT) -> float:
    """Mean number of banks one failure topples, in the tree approximation.

    A failed bank reached through one asset liquidates its other ``mu - 1`` assets. Each has
    ``k ~ Poisson(mu * crowding)`` other holders (``crowding = n_banks / n_assets``) and,
    with ``k + 1`` equal holders, loses ``x = 1 / (k + 1)`` of its price to
    ``exp(-alpha x)``; a holder fails on that one hit when
    ``lambda (1 - exp(-alpha / (k + 1))) >= mu``. So

    ``R = (mu - 1) sum_k k P(k; mu crowding) 1[lambda (1 - exp(-alpha/(k+1))) >= mu]``

    and a single failure can start a global cascade when ``R > 1`` (cf. the paper's
    generalised branching process). Hits from several failed neighbours are ignored, so
    finite systems cascade somewhat beyond this window.

    Examples
    --------
    >>> round(branching_factor(10, 2), 3), round(branching_factor(10, 3), 3)
    (1.353, 0.299)
    """
    lam = check_real("leverage", leverage, low=1.0)
    mu = check_int("diversification", diversification, low=1)
    c = check_real("crowding", crowding, low=0.0, low_open=True)
    alpha = check_real("alpha", alpha, low=0.0)
    mean = mu * c
    k = np.arange(1, int(mean + 12 * math.sqrt(mean) + 30))
    hit = lam * -np.expm1(-alpha / (k + 1)) >= mu
    from scipy.stats import poisson  # here: scipy.stats costs ~1 s to import

    return float((mu - 1) * np.sum(k * poisson.pmf(k, mean) * hit))


def analytic_window(leverages: list[float] | NDArray[np.float64],
                    diversifications: list[int] | NDArray[np.int64], crowding: float = 1.0,
                    alpha: float = ALPHA_10PCT) -> pd.DataFrame:
    """:func:`branching_factor` over a grid: columns ``lambda, mu, branching, possible``.

    Examples
    --------
    >>> analytic_window([10], [1, 2, 3])["possible"].tolist()
    [False, True, False]
    """
    rows = [{"lambda": float(lam), "mu": int(mu),
             "branching": branching_factor(lam, int(mu), crowding, alpha)}
            for lam in leverages for mu in diversifications]
    out = pd.DataFrame(rows, columns=["lambda", "mu", "branching"])
    out["possible"] = out["branching"] > 1.0
    return out


def contagion_window(leverages: list[float] | NDArray[np.float64],
                     diversifications: list[int] | NDArray[np.int64], *, n_banks: int = 1000,
                     n_assets: int = 1000, draws: int = 200, seed: int = 0,
                     alpha: float = ALPHA_10PCT, shock: str = "bank",
                     asset_shock_frac: float = 1.0,
                     threshold_frac: float = 0.05) -> pd.DataFrame:
    """Frequency and extent of global contagion over leverage x diversification.

    For each diversification ``mu``, ``draws`` independent portfolio networks and shocks;
    every leverage is run on the same networks and shocks (common random numbers, so the
    curves do not cross by noise). ``frequency``: the share of draws in which more than
    ``threshold_frac`` of the banks fail; ``extent``: the mean share failing in those draws
    (NaN when there are none).

    Parameters
    ----------
    leverages : list of float
        Values of ``lambda >= 1``.
    diversifications : list of int
        Values of ``mu``, ``1 <= mu <= n_assets``.
    shock : {"bank", "asset"}
        A random bank fails, or a random asset loses ``asset_shock_frac`` of its value.

    Returns
    -------
    DataFrame with columns ``lambda, mu, frequency, extent``.

    Examples
    --------
    >>> out = contagion_window([2, 20], [1, 3], n_banks=300, n_assets=300, draws=20, seed=1)
    >>> list(out.columns)
    ['lambda', 'mu', 'frequency', 'extent']
    >>> out.set_index(["lambda", "mu"])["frequency"].to_dict()
    {(2.0, 1): 0.0, (20.0, 1): 0.0, (2.0, 3): 0.0, (20.0, 3): 1.0}
    """
    n_banks = check_int("n_banks", n_banks, low=2, high=1_000_000)
    n_assets = check_int("n_assets", n_assets, low=1, high=1_000_000)
    draws = check_int("draws", draws, low=1, high=10_000_000)
    check_choice("shock", shock, SHOCKS)
    asset_shock_frac = check_real("asset_shock_frac", asset_shock_frac, low=0, high=1)
    threshold_frac = check_real("threshold_frac", threshold_frac, low=0, high=1)
    lams = [check_real("leverages", lam, low=1.0) for lam in leverages]
    mus = [check_int("diversifications", mu, low=1, high=n_assets) for mu in diversifications]
    if not lams or not mus:
        raise ParameterError("leverages/diversifications", (list(leverages),
                             list(diversifications)), "at least one value each")
    rng = np.random.default_rng(seed)
    rows = []
    for mu in mus:
        sizes = np.empty((len(lams), draws), dtype=np.int64)
        for d in range(draws):
            Q = draw_portfolios(n_banks, n_assets, mu, rng)
            failed0 = np.zeros(n_banks, dtype=bool)
            price_shock = np.ones(n_assets)
            if shock == "bank":
                failed0[rng.integers(n_banks)] = True
            else:
                price_shock[rng.integers(n_assets)] = 1.0 - asset_shock_frac
            for k, lam in enumerate(lams):
                res = fire_sale_cascade(Q, lam, alpha=alpha, initially_failed=failed0,
                                        price_shock=price_shock)
                sizes[k, d] = int(res.failed.sum())
        for k, lam in enumerate(lams):
            global_ = sizes[k] > threshold_frac * n_banks
            extent = float((sizes[k, global_] / n_banks).mean()) if global_.any() else math.nan
            rows.append({"lambda": lam, "mu": mu, "frequency": float(global_.mean()),
                         "extent": extent})
    return pd.DataFrame(rows, columns=["lambda", "mu", "frequency", "extent"])
