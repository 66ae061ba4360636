"""Gai & Kapadia (2010): contagion in a random interbank network, and its contagion window.

``n_banks`` banks sit on a directed Erdos-Renyi network with mean degree ``z``: each ordered
pair (i, j) is a link "i lent to j" with probability ``z / (n - 1)``. Every bank's interbank
assets are ``interbank_frac`` of its assets, split evenly over its debtors; its capital is
``capital_frac`` of its assets; recovery on a defaulted claim is zero. One random bank's
external assets are wiped out (so it defaults); a bank with ``k`` debtors of which ``m`` have
defaulted has lost ``m * interbank_frac / k``, and defaults when that reaches its capital.
Contagion is *global* when more than 5% of the banks default.

The knife-edge matters: with the paper's numbers a bank with exactly 5 debtors loses exactly its
capital when one defaults. ``rule="geq"`` defaults it (loss >= capital), ``rule="gt"`` does not
(loss > capital). The comparison is made in exact rational arithmetic (``5 m >= k``, not a
floating-point product), so the rule, not rounding, decides.

References
----------
Gai, P. and Kapadia, S. (2010). Contagion in financial networks. Proceedings of the Royal
Society A 466, 2401-2423.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from contagion.errors import ParameterError
from contagion.validation import check_choice, check_int, check_real

__all__ = ["analytic_window", "cascade_size", "contagion_window", "vulnerable_degree"]

RULES = ("geq", "gt")


def _fraction(name: str, value: float | str | Fraction) -> Fraction:
    frac = Fraction(str(value)) if not isinstance(value, Fraction) else value
    if not 0 < frac < 1:
        raise ParameterError(name, value, "0 < x < 1")
    return frac


def vulnerable_degree(interbank_frac: float | str = "0.2", capital_frac: float | str = "0.04",
                      rule: str = "geq") -> int:
    """The largest number of debtors ``k`` for which one debtor's default topples a bank.

    Examples
    --------
    >>> vulnerable_degree(rule="geq"), vulnerable_degree(rule="gt")
    (5, 4)
    """
    check_choice("rule", rule, RULES)
    ib, cap = _fraction("interbank_frac", interbank_frac), _fraction("capital_frac", capital_frac)
    ratio = ib / cap  # one default costs ib/k; vulnerable when ib/k >= cap, i.e. k <= ib/cap
    k = ratio.numerator // ratio.denominator
    if rule == "gt" and ratio.denominator == 1:
        k -= 1  # exactly at the knife-edge: a loss equal to capital is survived
    return int(k)


def cascade_size(creditors_of: sparse.csr_matrix, degree: NDArray[np.int64], seed_bank: int, *,
                 ib: Fraction, cap: Fraction, rule: str) -> int:
    """Number of banks that default after ``seed_bank`` fails (it included).

    ``creditors_of[i, j] = 1`` when bank i lent to bank j; ``degree[i]`` is i's number of
    debtors. A bank with ``m`` defaulted debtors defaults when ``m * ib / k >= cap`` (``geq``)
    or ``> cap`` (``gt``), compared exactly as integers.
    """
    n = degree.size
    defaulted = np.zeros(n, dtype=bool)
    defaulted[seed_bank] = True
    # m * ib / k  vs  cap   <=>   m * ib.num * cap.den  vs  k * cap.num * ib.den
    left = ib.numerator * cap.denominator
    right = degree.astype(np.int64) * (cap.numerator * ib.denominator)
    while True:
        m = creditors_of @ defaulted.astype(np.int64)
        lhs = m.astype(np.int64) * left
        hit = (lhs >= right) if rule == "geq" else (lhs > right)
        new = hit & (degree > 0) & (m > 0) & ~defaulted
        if not new.any():
            return int(defaulted.sum())
        defaulted |= new


def contagion_window(z_values: list[float] | NDArray[np.float64], n_banks: int = 1000,
                     draws: int = 1000, seed: int = 0, rule: str = "geq", *,
                     interbank_frac: float | str = "0.2", capital_frac: float | str = "0.04",
                     threshold_frac: float = 0.05) -> pd.DataFrame:
    """Frequency and extent of global contagion over mean degrees ``z`` (Gai & Kapadia, fig. 1).

    For each ``z``: ``draws`` independent networks, each with one random bank shocked.
    ``frequency`` is the share of draws in which more than ``threshold_frac`` of the banks
    default; ``extent`` is the mean share defaulting in those draws (NaN when there are none).

    Examples
    --------
    >>> out = contagion_window([0.5, 4.0], n_banks=200, draws=50, seed=1)
    >>> list(out.columns)
    ['z', 'frequency', 'extent']
    >>> bool(out.loc[1, "frequency"] > out.loc[0, "frequency"])
    True
    """
    n_banks = check_int("n_banks", n_banks, low=2, high=1_000_000)
    draws = check_int("draws", draws, low=1, high=10_000_000)
    check_choice("rule", rule, RULES)
    check_real("threshold_frac", threshold_frac, low=0, high=1)
    ib, cap = _fraction("interbank_frac", interbank_frac), _fraction("capital_frac", capital_frac)
    zs = [check_real("z_values", z, low=0, high=n_banks - 1) for z in z_values]
    if not zs:
        raise ParameterError("z_values", list(z_values), "at least one mean degree")
    rng = np.random.default_rng(seed)
    rows = []
    for z in zs:
        p = z / (n_banks - 1)
        sizes = np.empty(draws, dtype=np.int64)
        for d in range(draws):
            # directed Erdos-Renyi: draw the number of links, then distinct ordered pairs
            n_links = rng.binomial(n_banks * (n_banks - 1), p)
            src = rng.integers(0, n_banks, size=2 * n_links + 16)
            dst = rng.integers(0, n_banks, size=src.size)
            keep = src != dst
            pairs = np.unique(src[keep] * n_banks + dst[keep])
            if pairs.size > n_links:
                pairs = rng.choice(pairs, size=n_links, replace=False)
            i, j = np.divmod(pairs, n_banks)
            creditors_of = sparse.csr_matrix((np.ones(i.size, dtype=np.int64), (i, j)),
                                             shape=(n_banks, n_banks))
            degree = np.bincount(i, minlength=n_banks)
            sizes[d] = cascade_size(creditors_of, degree, int(rng.integers(n_banks)), ib=ib,
                                    cap=cap, rule=rule)
        global_ = sizes > threshold_frac * n_banks
        extent = float((sizes[global_] / n_banks).mean()) if global_.any() else float("nan")
        rows.append({"z": z, "frequency": float(global_.mean()), "extent": extent})
    return pd.DataFrame(rows)


def analytic_window(z_values: list[float] | NDArray[np.float64], rule: str = "geq", *,
                    interbank_frac: float | str = "0.2",
                    capital_frac: float | str = "0.04") -> pd.DataFrame:
    """The cascade condition of Gai & Kapadia for Poisson degrees: contagion is possible when
    the vulnerable cluster percolates, ``sum_{k=1}^{K} k P(k; z) > 1``.

    Notes
    -----
    With independent Poisson(z) in- and out-degrees, the condition
    ``G0'(1) = sum_{j,k} j k p_j p_k v_k / z = 1`` reduces to ``sum_k k p_k v_k = 1`` with
    ``v_k = 1`` for ``1 <= k <= K`` (``K`` = :func:`vulnerable_degree`) and 0 otherwise.

    Examples
    --------
    >>> w = analytic_window([0.5, 3.0, 10.0])
    >>> w["possible"].tolist()
    [False, True, False]
    """
    from scipy.stats import poisson  # here: scipy.stats costs ~1 s to import

    k_max = vulnerable_degree(interbank_frac, capital_frac, rule)
    ks = np.arange(1, k_max + 1)
    rows = []
    for z in z_values:
        value = float((ks * poisson.pmf(ks, z)).sum())
        rows.append({"z": float(z), "condition": value, "possible": value > 1.0})
    return pd.DataFrame(rows)
