"""The hot path's shortcuts give what the plain numpy they replace gives (issue 14)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.agents.lending import _argmax_rows, _health_of, _top_k
from contagion.mechanics.lending import health_factor
from contagion.model import ContagionModel
from models import get_scenario


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(1, 30_000), k=st.integers(1, 300), seed=st.integers(0, 2**32 - 1),
       levels=st.sampled_from([0, 3, 50]))
def test_top_k_is_argpartitions_set(n: int, k: int, seed: int, levels: int) -> None:
    """Same set as ``argpartition(-x, k - 1)[:k]``, ties at the k-th value included
    (``levels`` > 0 draws from few distinct values: ties everywhere)."""
    k = min(k, n)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels, n).astype(float) if levels else rng.lognormal(size=n)
    got = _top_k(x, k)
    assert got.size == k
    assert set(got.tolist()) == set(np.argpartition(-x, k - 1)[:k].tolist())


def test_top_k_large_untied() -> None:
    """The sampled threshold path (n > 8k), on distinct values: exactly the top k."""
    x = np.random.default_rng(1).random(200_000)
    got = np.sort(_top_k(x, 200))
    assert np.array_equal(got, np.sort(np.argsort(-x)[:200]))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(n=st.integers(1, 2_000), k=st.integers(1, 5), seed=st.integers(0, 2**32 - 1),
       f_order=st.booleans())
def test_argmax_rows_is_argmax(n: int, k: int, seed: int, f_order: bool) -> None:
    """First largest per row, as ``np.argmax(axis=1)``, ties and zeros included."""
    rng = np.random.default_rng(seed)
    v = rng.integers(0, 3, (n, k)).astype(float) * rng.choice([1.0, 0.5], (n, k))
    if f_order:
        v = np.asfortranarray(v)
    j, best = _argmax_rows(v)
    assert np.array_equal(j, np.argmax(v, axis=1))
    assert np.array_equal(best, v[np.arange(n), j])


def test_health_of_is_health_factor_bit_for_bit() -> None:
    """The engine's two-pass health factor equals ``health_factor(w, 1.0, debt)``'s bytes,
    zero, negative, NaN and infinite debts and collateral included."""
    rng = np.random.default_rng(5)
    n = 50_000
    weighted = rng.lognormal(size=n) * rng.choice([0.0, 1.0, -0.0], n, p=[0.1, 0.8, 0.1])
    debt = rng.lognormal(size=n) * rng.choice([0.0, 1.0, -1.0, -0.0], n, p=[0.2, 0.6, 0.1, 0.1])
    weighted[:4] = [np.nan, np.inf, 1.0, 0.0]
    debt[4:9] = [np.nan, np.inf, 1e-320, -1e-320, 0.0]
    with np.errstate(over="ignore"):  # 1 / 1e-320 overflows, in both
        want = np.asarray(health_factor(weighted, 1.0, debt, validate=False))
        assert _health_of(weighted, debt).tobytes() == want.tobytes()


def test_insolvent_debt_cache_follows_writes() -> None:
    """The cached insolvent debt is recomputed after the book changes (a write-off, a
    repayment) and equals a fresh computation."""
    model = ContagionModel(get_scenario("default", n_traders=300, steps=60), seed=2)
    model.run(55)
    v = next(x for x in model.lending if x.insolvent_debt_usd() > 0)
    before = v.insolvent_debt_usd()
    assert before == v._insolvent_debt(model.market.quote_prices(v.asset_ids), v.prices())
    hf = v.health()
    under = np.flatnonzero(hf < 1.0)
    assert under.size and before > 0
    v.repay(under, v.book.debt[under] * 0.5)  # halves every underwater debt
    after = v.insolvent_debt_usd()
    assert after != before
    assert after == v._insolvent_debt(model.market.quote_prices(v.asset_ids), v.prices())


def test_perp_margin_state_after_liquidations_is_a_full_pass() -> None:
    """After a liquidation round the row-by-row refreshed margin state equals, bit for bit,
    what a full pass computes; so does the cross credit kept across steps."""
    model = ContagionModel(get_scenario("default", n_traders=2000, steps=60), seed=3)
    refreshed = 0
    stage = model._stage_clearing_houses  # runs right after the liquidations

    def check_then_stage() -> None:
        nonlocal refreshed
        for pv in model.perps:
            if pv._refreshed:
                refreshed += 1
                eq, mm = pv.margin_state()
                assert np.array_equal(eq, pv.equity())
                assert np.array_equal(mm, pv.maintenance())
            credit = pv.cross_credit()
            pv._credit_key = (-1, False, 0.0)
            assert np.array_equal(credit, pv.cross_credit())
        stage()

    model._stage_clearing_houses = check_then_stage  # type: ignore[method-assign]
    model.run(60)
    assert refreshed > 10  # most rounds liquidated accounts and refreshed rows


def test_views_kept_across_steps_equal_fresh_passes() -> None:
    """What the venues keep across steps or rounds (lending health factors, liquidation
    candidates, collateral totals; the perp ratio the top-ups computed) equals, bit for bit,
    what a fresh pass computes at the liquidation stage (the perp ratio: from the margin
    state the round reads); most steps after the crash reuse them."""
    from contagion.agents.perp import _ratio_of

    model = ContagionModel(get_scenario("default", n_traders=3000, steps=100), seed=1)
    reused = {"hf": 0, "cand": 0, "ratio": 0}
    stage = model._stage_liquidations

    def check_then_stage() -> None:
        for v in model.lending:
            kept_full = v._hf_full == v._state_key() and v._hf_step == model.steps
            hf = v.health().copy()
            weighted = v.weighted_collateral()
            with np.errstate(divide="ignore", invalid="ignore"):
                fresh = np.where(v.debt_usd() > 0, weighted / v.debt_usd(), np.inf)
            if kept_full:
                reused["hf"] += 1
                assert hf.tobytes() == fresh.tobytes()
            top = max(model.liquidators[0].budget_count, 1)
            key = (v._state_key(v.prices()), v._hf_gen, top)
            if key == v._cand_key:
                reused["cand"] += 1
                for kept, new in zip(v._cand, v._candidates(v.prices(), top), strict=True):
                    assert kept.tobytes() == new.tobytes()
            assert v.collateral_units().tobytes() == v.book.collateral.sum(axis=0).tobytes()
        for pv in model.perps:
            pre = pv._current_pre_ratio()
            if pre is not None:
                reused["ratio"] += 1
                eq, mm = pv.margin_state()  # with the top-ups' sums, as the round reads it
                assert pre.tobytes() == _ratio_of(eq, pv.cross_credit(), mm).tobytes()
        stage()

    model._stage_liquidations = check_then_stage  # type: ignore[method-assign]
    model.run(100)
    assert reused["hf"] > 10 and reused["cand"] > 10 and reused["ratio"] > 50


def test_units_value_is_the_matrix_product_bit_for_bit() -> None:
    """One column: the product plus 0.0 gives ``units @ prices``'s bytes (signed zeros,
    NaN, infinities, subnormals); more columns: the product itself."""
    from contagion.agents.collateral_quality import units_value

    rng = np.random.default_rng(7)
    units = rng.lognormal(size=(5_000, 1)) * rng.choice([0.0, 1.0, -0.0], (5_000, 1))
    units[:6, 0] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-310]
    with np.errstate(all="ignore"):
        for p in ([1234.5 * 0.83], [-0.0], [0.0], [np.inf], [1e-300], [-2.5]):
            prices = np.array(p)
            assert units_value(units, prices).tobytes() == (units @ prices).tobytes()
    wide = rng.lognormal(size=(1_000, 3))
    prices = np.array([2000.0, 1.5, 0.3])
    assert units_value(wide, prices).tobytes() == (wide @ prices).tobytes()


def test_perp_margin_state_kept_across_steps_is_a_full_pass() -> None:
    """A step that starts with the book, marks and margin fractions of the last full margin
    pass keeps it: equal, bit for bit, to a fresh pass (most steps after the crash); so do
    the balance-sheet sums and the open interest kept with it."""
    model = ContagionModel(get_scenario("default", n_traders=3000, steps=100), seed=1)
    kept = 0
    stage = model._stage_traders

    def check_then_stage() -> None:
        nonlocal kept
        for pv in model.perps:
            before = pv._state_gen
            eq, mm = pv.margin_state()
            if pv._state_gen == before:
                kept += 1
                assert eq.tobytes() == pv.equity().tobytes()
                assert mm.tobytes() == pv.maintenance().tobytes()
            marks = pv.marks()
            oi = sum(float(np.abs(pv.book.size[1:, k]).sum() * float(marks[k]))
                     for k in range(pv.book.markets))
            assert pv.open_interest_usd() == oi
            sheet = pv.balance_sheet()
            assert sheet.assets_usd == pv.book.cash()
            assert sheet.liabilities_usd == float(np.maximum(pv.margin_state()[0][1:], 0).sum())
        stage()

    model._stage_traders = check_then_stage  # type: ignore[method-assign]
    model.run(100)
    assert kept > 30
