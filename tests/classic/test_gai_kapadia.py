"""Gai & Kapadia (2010): knife-edge rule, exact arithmetic, and the contagion window."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from scipy import sparse

from contagion.errors import ParameterError
from models.classic.gai_kapadia import (
    analytic_window,
    cascade_size,
    contagion_window,
    vulnerable_degree,
)


def _star(k: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Bank 0 lent to banks 1..k; nobody else lent to anyone."""
    i = np.zeros(k, dtype=np.int64)
    j = np.arange(1, k + 1)
    creditors_of = sparse.csr_matrix((np.ones(k, dtype=np.int64), (i, j)), shape=(k + 1, k + 1))
    return creditors_of, np.bincount(i, minlength=k + 1)


def test_knife_edge_bank_with_five_debtors_defaults_only_under_geq() -> None:
    # 0.2 / 5 = 0.04 exactly: one defaulted debtor costs the bank exactly its capital
    assert 0.2 * (1 / 5) != 0.04  # floating point would decide this case by rounding
    creditors_of, degree = _star(5)
    ib, cap = Fraction("0.2"), Fraction("0.04")
    assert cascade_size(creditors_of, degree, 1, ib=ib, cap=cap, rule="geq") == 2
    assert cascade_size(creditors_of, degree, 1, ib=ib, cap=cap, rule="gt") == 1


def test_a_bank_with_six_debtors_survives_one_default_under_both_rules() -> None:
    creditors_of, degree = _star(6)
    for rule in ("geq", "gt"):
        assert cascade_size(creditors_of, degree, 3, ib=Fraction("0.2"), cap=Fraction("0.04"),
                            rule=rule) == 1


def test_vulnerable_degree_follows_the_rule() -> None:
    assert vulnerable_degree(rule="geq") == 5
    assert vulnerable_degree(rule="gt") == 4
    assert vulnerable_degree("0.2", "0.03") == 6  # 0.2/0.03 = 6.67: no knife-edge
    assert vulnerable_degree("0.2", "0.03", rule="gt") == 6


def test_simulated_contagion_window_matches_the_paper() -> None:
    out = contagion_window([0.5, 3.0, 4.0, 6.0, 10.0], n_banks=300, draws=150, seed=3)
    freq = dict(zip(out["z"], out["frequency"], strict=True))
    ext = dict(zip(out["z"], out["extent"], strict=True))
    assert freq[0.5] < 0.05  # rare below z = 1
    assert freq[3.0] > 0.5 and freq[4.0] > 0.5  # high across the middle
    assert freq[10.0] < 0.1  # vanishing by z = 8-10
    assert ext[6.0] > 0.9  # near-total extent when it happens in the upper part


def test_same_seed_same_window() -> None:
    a = contagion_window([2.0], n_banks=100, draws=30, seed=5)
    b = contagion_window([2.0], n_banks=100, draws=30, seed=5)
    assert a.equals(b)


def test_analytic_window_opens_above_one_and_closes_before_eight() -> None:
    w = analytic_window(np.arange(0.5, 10.01, 0.25))
    inside = w.loc[w["possible"], "z"]
    assert 1.0 < inside.min() <= 1.25
    assert 7.0 <= inside.max() < 8.0
    narrower = analytic_window(np.arange(0.5, 10.01, 0.25), rule="gt")
    assert narrower["possible"].sum() < w["possible"].sum()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"rule": "ge"}, r"'rule' = 'ge' .* 'geq', 'gt'"),
    ({"n_banks": 1}, r"'n_banks' = 1"),
    ({"interbank_frac": "1.2"}, r"'interbank_frac'"),
    ({"draws": 0}, r"'draws' = 0"),
])
def test_bad_parameters_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        contagion_window([1.0], **kwargs)
