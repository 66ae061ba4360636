"""Sparse Eisenberg-Noe: the same clearing as the dense solve, in memory that grows with
the links, so the credit network of 25,000 institutions clears without an n x n matrix."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

import contagion.credit as credit
from contagion.errors import ParameterError
from contagion.mechanics.clearing import eisenberg_noe
from contagion.runner import simulate
from models import get_scenario


def _network(rng: np.random.Generator, n: int, density: float) -> tuple[np.ndarray, np.ndarray]:
    L = np.where(rng.random((n, n)) < density, rng.uniform(0, 10, (n, n)), 0.0)
    np.fill_diagonal(L, 0.0)
    return L, rng.uniform(0, 12, n)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30),
       density=st.floats(0.05, 0.9), alpha=st.sampled_from([1.0, 0.5, 0.0]),
       beta=st.sampled_from([1.0, 0.7, 0.0]))
def test_sparse_and_dense_clear_alike(seed: int, n: int, density: float, alpha: float,
                                      beta: float) -> None:
    L, e = _network(np.random.default_rng(seed), n, density)
    dense = eisenberg_noe(L, e, alpha=alpha, beta=beta)
    sp = eisenberg_noe(sparse.csr_matrix(L), e, alpha=alpha, beta=beta)
    np.testing.assert_allclose(sp.payments, dense.payments, rtol=1e-9, atol=1e-9)
    assert (sp.defaulted == dense.defaulted).all()
    assert (sp.default_round == dense.default_round).all()
    np.testing.assert_allclose(sp.payment_matrix.toarray(), dense.payment_matrix, rtol=1e-9,
                               atol=1e-9)
    np.testing.assert_allclose(sp.equity, dense.equity, rtol=1e-9, atol=1e-8)


def test_sparse_input_is_checked_like_dense() -> None:
    with pytest.raises(ParameterError, match="zero diagonal"):
        eisenberg_noe(sparse.csr_matrix([[1.0, 0.0], [0.0, 0.0]]), [1, 1])
    with pytest.raises(ParameterError, match="entries >= 0"):
        eisenberg_noe(sparse.csr_matrix([[0.0, -1.0], [0.0, 0.0]]), [1, 1])
    with pytest.raises(ParameterError, match="square"):
        eisenberg_noe(sparse.csr_matrix(np.zeros((2, 3))), [1, 1])


def test_twenty_five_thousand_institutions_clear_without_a_dense_matrix() -> None:
    rng = np.random.default_rng(7)
    n, k = 25_000, 4  # each institution lends to 4 others
    lender = np.repeat(np.arange(n), k)
    borrower = (lender + rng.integers(1, n, lender.size)) % n
    amount = rng.uniform(1, 10, lender.size)
    L = sparse.coo_matrix((amount, (borrower, lender)), shape=(n, n)).tocsr()  # borrower owes
    owed = np.asarray(L.sum(axis=1)).ravel()
    e = owed * rng.uniform(0.5, 1.5, n)  # a third of them cannot pay from outside assets
    tracemalloc.start()
    res = eisenberg_noe(L, e)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 300e6  # a dense 25,000 x 25,000 float matrix alone is 5,000 MB
    assert res.defaulted.any() and not res.defaulted.all()
    assert (res.payments <= owed + 1e-9).all()
    # the clearing identity: a defaulter pays all it has, a solvent node pays in full
    pi = sparse.diags(np.divide(1.0, owed, out=np.zeros(n), where=owed > 0)) @ L
    have = e + pi.T @ res.payments
    np.testing.assert_allclose(res.payments[res.defaulted], have[res.defaulted], rtol=1e-8)
    np.testing.assert_allclose(res.payments[~res.defaulted], owed[~res.defaulted])


def test_the_model_clears_sparsely_above_the_threshold_with_the_same_outcome(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sc = get_scenario("classic_gai_kapadia")
    dense = simulate(sc, seed=0)
    monkeypatch.setattr(credit, "SPARSE_ABOVE", 0)
    sp = simulate(sc, seed=0)
    d_def = dense.events[dense.events["kind"] == "default"][["step", "venue"]]
    s_def = sp.events[sp.events["kind"] == "default"][["step", "venue"]]
    assert len(d_def) > 1
    assert d_def.values.tolist() == s_def.values.tolist()
    np.testing.assert_allclose(sp.venues["recovery_rate"], dense.venues["recovery_rate"],
                               rtol=1e-9, atol=1e-12)
