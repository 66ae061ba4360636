"""The credit network's dense fast path (issue 14): for a few institutions the model clears
without a scipy sparse matrix; its matrix and row/column sums must be scipy's, bit for bit,
so runs stay byte-identical."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from contagion.credit import _dense_sums


def _scipy(n: int, rows: list[int], cols: list[int], vals: list[float]) -> tuple:
    L = sparse.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    return L.toarray(), np.asarray(L.sum(axis=1)).ravel(), np.asarray(L.sum(axis=0)).ravel()


@st.composite
def links(draw: st.DrawFn) -> tuple:
    n = draw(st.integers(2, 14))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          unique=True, max_size=n * n))
    amounts = st.floats(1e-3, 1e12, allow_nan=False) | st.floats(-1e6, -1e-3)
    vals = [draw(amounts) for _ in pairs]
    return n, [p[0] for p in pairs], [p[1] for p in pairs], vals


@settings(max_examples=300, deadline=None)
@given(links())
def test_dense_sums_are_scipys_bit_for_bit(case: tuple) -> None:
    n, rows, cols, vals = case
    got = _dense_sums(n, rows, cols, vals)
    assert got is not None
    for mine, theirs in zip(got, _scipy(n, rows, cols, vals), strict=True):
        assert mine.tobytes() == theirs.tobytes()


def test_long_rows_use_scipys_summation_order() -> None:
    # 12 entries in one row: numpy's pairwise reduction differs from a left-to-right sum here
    rng = np.random.default_rng(3)
    vals = (rng.random(12) * 10.0 ** rng.integers(-3, 12, 12)).tolist()
    cols = rng.permutation(13)[:12].tolist()
    rows = [0 if c != 0 else 1 for c in cols]
    got = _dense_sums(13, rows, cols, vals)
    assert got is not None
    for mine, theirs in zip(got, _scipy(13, rows, cols, vals), strict=True):
        assert mine.tobytes() == theirs.tobytes()


def test_repeated_links_fall_back_to_scipy() -> None:
    assert _dense_sums(3, [0, 0], [1, 1], [1.0, 2.0]) is None
    assert _dense_sums(3, [], [], []) is not None


def test_reused_clearing_is_the_clearing(monkeypatch: pytest.MonkeyPatch) -> None:
    # the default preset's network stands still for most steps after its first defaults:
    # reusing the last clearing must change nothing
    from contagion import credit
    from contagion.runner import SWEEP, simulate
    from models import get_scenario

    sc = get_scenario("default", n_traders=200, steps=60)
    calls = {"solved": 0}
    solve = credit._clear

    def counted(*args: object, **kw: object) -> object:
        calls["solved"] += 1
        return solve(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(credit, "_clear", counted)
    cached = simulate(sc, seed=2, record=SWEEP)
    with_cache = calls["solved"]
    monkeypatch.setattr(credit, "_remember_clearing", lambda key, rates: None)
    monkeypatch.setattr(credit, "_LAST_CLEARING", None)
    calls["solved"] = 0
    fresh = simulate(sc, seed=2, record=SWEEP)
    assert calls["solved"] > with_cache  # the cache was used...
    for name in ("events", "series", "venues", "exposures"):  # ...and changed nothing
        assert getattr(cached, name).equals(getattr(fresh, name)), name
    assert (cached.venues["recovery_rate"] < 1).any()  # a run with real clearings


@settings(max_examples=300, deadline=None)
@given(links())
def test_small_sums_are_the_dense_sums_bit_for_bit(case: tuple) -> None:
    from contagion.credit import _small_sums

    n, rows, cols, vals = case
    got = _small_sums(n, rows, cols, vals)
    if got is None:  # too many links, or a row of more than 8: the numpy path
        assert len(vals) > 64 or max(rows.count(r) for r in set(rows)) > 8
        return
    dense = _dense_sums(n, rows, cols, vals)
    assert dense is not None
    for mine, theirs in zip(got, dense[1:], strict=True):
        assert np.asarray(mine).tobytes() == theirs.tobytes()


def test_small_sums_refuse_repeated_links() -> None:
    from contagion.credit import _small_sums

    assert _small_sums(3, [0, 0], [1, 1], [1.0, 2.0]) is None
    assert _small_sums(3, [], [], []) == ([0.0] * 3, [0.0] * 3)
