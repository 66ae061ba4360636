"""Tests of contagion.mechanics.portfolio_margin (scenario-based portfolio margin).

Documented numbers: Deribit support, "Portfolio Margin" (+-16% in 9 buckets, vol up/same/
down, extended table), https://support.deribit.com/hc/en-us/articles/25944756247837 ;
Deribit, "Portfolio Margin" (IV shock ``(30/dte)^0.30 x 38%``, contingency examples),
https://www.deribit.com/pages/docs/portfoliomargin .
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from contagion.errors import ParameterError
from contagion.mechanics.options import VolSurface, bsm_greeks, bsm_price
from contagion.mechanics.portfolio_margin import (
    DERIBIT_EXTENDED_MOVES,
    InstrumentTable,
    PortfolioMarginParams,
    account_greeks,
    instrument_vols,
    liquidation_order,
    portfolio_margin,
    risk_contributions,
    scenario_pnl_per_unit,
)

S = 50_000.0
T30 = 30 / 365
FLAT = [VolSurface.flat(0.6)]
CALL_PERP = InstrumentTable(kind=("call", "perp"), asset=(0, 0), strike=(S, 0.0),
                            expiry_yrs=(T30, 0.0))
NO_ADDONS = PortfolioMarginParams(short_option_contingency_frac=0.0,
                                  offset_perp_contingency_frac=0.0)


def _atm_delta() -> float:
    return float(bsm_greeks(True, S, S, T30, 0.6).delta)


# --- the grid ----------------------------------------------------------------------------


def test_default_grid_is_deribits_16pct_in_9_buckets_times_three_vol_regimes() -> None:
    sc = PortfolioMarginParams().scenarios()
    assert sc.price_move.size == 27
    np.testing.assert_allclose(np.unique(sc.price_move), np.linspace(-0.16, 0.16, 9), atol=1e-15)
    assert 0.0 in sc.price_move.tolist()
    assert sorted(set(sc.vol_regime.tolist())) == [-1, 0, 1]
    np.testing.assert_array_equal(sc.weight, 1.0)


def test_extended_table_is_vol_up_only_with_a_fraction_of_the_pnl() -> None:
    p = PortfolioMarginParams(extended_moves=DERIBIT_EXTENDED_MOVES, extended_pnl_frac=0.25)
    sc = p.scenarios()
    ext = slice(27, None)
    np.testing.assert_array_equal(sc.price_move[ext], DERIBIT_EXTENDED_MOVES)
    np.testing.assert_array_equal(sc.vol_regime[ext], 1)
    np.testing.assert_array_equal(sc.weight[ext], 0.25)
    # a far out-of-the-money short call: only the extended table sees the +500% move
    t = InstrumentTable(kind=("call",), asset=(0,), strike=(2 * S,), expiry_yrs=(T30,))
    base = portfolio_margin([[-1.0]], t, [S], FLAT, NO_ADDONS).maintenance_usd[0]
    ext_p = PortfolioMarginParams(extended_moves=DERIBIT_EXTENDED_MOVES, extended_pnl_frac=0.25,
                                  short_option_contingency_frac=0.0)
    extended = portfolio_margin([[-1.0]], t, [S], FLAT, ext_p).maintenance_usd[0]
    v0 = float(bsm_price(True, S, 2 * S, T30, 0.6))
    v1 = float(bsm_price(True, 6 * S, 2 * S, T30, 0.6 * (1 + 0.38)))
    assert base < 0.01 * extended
    assert extended == pytest.approx(0.25 * (v1 - v0), rel=1e-12)


def test_vol_shock_scales_with_30_over_days_to_expiry_to_the_power_030() -> None:
    t = InstrumentTable(kind=("put",), asset=(0,), strike=(S,), expiry_yrs=(15 / 365,))
    pnl = scenario_pnl_per_unit(t, [S], [0.5])
    sc = PortfolioMarginParams().scenarios()
    zero_up = int(np.flatnonzero((sc.price_move == 0) & (sc.vol_regime == 1))[0])
    zero_dn = int(np.flatnonzero((sc.price_move == 0) & (sc.vol_regime == -1))[0])
    shock = (30 / 15) ** 0.30 * 0.38
    v0 = float(bsm_price(False, S, S, 15 / 365, 0.5))
    up = float(bsm_price(False, S, S, 15 / 365, 0.5 * (1 + shock)))
    dn = float(bsm_price(False, S, S, 15 / 365, 0.5 * (1 - shock)))
    assert pnl[0, zero_up] == pytest.approx(up - v0, rel=1e-12)
    assert pnl[0, zero_dn] == pytest.approx(dn - v0, rel=1e-12)


# --- the brief's claims ------------------------------------------------------------------


def test_delta_hedged_book_margin_is_far_below_the_sum_of_its_legs() -> None:
    d = _atm_delta()
    books = np.array([[1.0, -d], [1.0, 0.0], [0.0, -d]])  # hedged, call alone, perp alone
    pm = portfolio_margin(books, CALL_PERP, [S], FLAT)
    hedged, call, perp = pm.maintenance_usd
    # the perp alone loses 16% of its notional; the hedged book loses only on vol down
    assert perp == pytest.approx(0.16 * d * S, rel=1e-12)
    assert hedged / (call + perp) < 0.30            # measured: 0.17
    assert hedged < 0.5 * min(call, perp)
    # also on a skewed, term-structured surface
    skew = [VolSurface(expiries_yrs=(7 / 365, 90 / 365), strikes=(0.8, 1.0, 1.2),
                       vols=((0.9, 0.65, 0.75), (0.75, 0.55, 0.6)))]
    v = float(instrument_vols(CALL_PERP, [S], skew)[0])
    d_skew = float(bsm_greeks(True, S, S, T30, v).delta)
    pm_skew = portfolio_margin([[1.0, -d_skew], [1.0, 0.0], [0.0, -d_skew]], CALL_PERP, [S], skew)
    h, c, p = pm_skew.maintenance_usd
    assert h / (c + p) < 0.30


def test_naked_short_call_margin_is_its_worst_scenario_loss_by_hand() -> None:
    k, t, v = 1.05 * S, 10 / 365, 0.7
    inst = InstrumentTable(kind=("call",), asset=(0,), strike=(k,), expiry_yrs=(t,))
    params = PortfolioMarginParams()
    scale = (30 / 10) ** 0.30
    v0 = float(bsm_price(True, S, k, t, v))
    losses = []
    for m in np.linspace(-0.16, 0.16, 9):
        for f in (0.38, 0.0, -0.38):
            losses.append(-(v0 - float(bsm_price(True, S * (1 + m), k, t, v * (1 + f * scale)))))
    by_hand = max(losses)
    pm = portfolio_margin([[-2.0]], inst, [S], [v], params)
    assert pm.worst_loss_usd[0, 0] == pytest.approx(2 * by_hand, rel=1e-12)
    assert pm.contingency_usd[0, 0] == pytest.approx(2 * 0.01 * S)
    assert pm.maintenance_usd[0] == pytest.approx(2 * by_hand + 2 * 0.01 * S, rel=1e-12)
    assert pm.initial_usd[0] == pytest.approx(2.0 * pm.maintenance_usd[0])
    sc = params.scenarios()
    w = int(pm.worst_scenario[0, 0])
    assert (sc.price_move[w], sc.vol_regime[w]) == (pytest.approx(0.16), 1)


def test_deribit_contingency_examples() -> None:
    # "call +10 and put -20 at strike X: net short -10, 10 x 0.01 BTC added"
    opts = InstrumentTable(kind=("call", "put", "call"), asset=(0, 0, 0), strike=(S, S, S),
                           expiry_yrs=(T30, T30, 2 * T30))
    only = PortfolioMarginParams(offset_perp_contingency_frac=0.0)
    pm = portfolio_margin([[10.0, -20.0, 0.0], [10.0, -20.0, 5.0]], opts, [S], FLAT, only)
    np.testing.assert_allclose(pm.contingency_usd[:, 0], [10 * 0.01 * S, 10 * 0.01 * S])
    # "long 100 BTC in future A, short 100 BTC in future B: 1% x 100 BTC added"
    perps = InstrumentTable(kind=("perp", "perp"), asset=(0, 0), strike=(0, 0), expiry_yrs=(0, 0))
    pm = portfolio_margin([[100.0, -100.0], [100.0, -40.0]], perps, [S], [0.0, 0.0])
    np.testing.assert_allclose(pm.contingency_usd[:, 0], [0.01 * 100 * S, 0.01 * 40 * S])
    assert pm.worst_loss_usd[0, 0] == pytest.approx(0.0, abs=1e-9 * S)  # flat: no scenario loss
    assert pm.worst_loss_usd[1, 0] == pytest.approx(0.16 * 60 * S)


def test_deribit_vega_offset_example() -> None:
    # "net long 10 VEGA in expirations A/B/C and net short 10 VEGA in D/E/F: 25% -> 2.5";
    # vega per vol point, as Deribit quotes it.
    t1, t2 = T30, 3 * T30
    inst = InstrumentTable(kind=("call", "call"), asset=(0, 0), strike=(S, S), expiry_yrs=(t1, t2))
    vega = bsm_greeks(True, S, S, np.array([t1, t2]), 0.6).vega / 100.0
    q = np.array([[10.0 / vega[0], -10.0 / vega[1]], [10.0 / vega[0], 0.0]])
    p = PortfolioMarginParams(vega_offset_contingency_frac=0.25,
                              short_option_contingency_frac=0.0)
    pm = portfolio_margin(q, inst, [S], FLAT, p)
    np.testing.assert_allclose(pm.contingency_usd[:, 0], [2.5, 0.0], atol=1e-9)
    pnl = scenario_pnl_per_unit(inst, [S], FLAT, p)
    with pytest.raises(ParameterError, match="'vols' = None"):
        portfolio_margin(q, inst, [S], None, p, pnl_per_unit=pnl)


def test_assets_are_margined_separately_and_summed() -> None:
    inst = InstrumentTable(kind=("perp", "perp"), asset=(0, 1), strike=(0, 0), expiry_yrs=(0, 0))
    pm = portfolio_margin([[1.0, -10.0]], inst, [S, 3_000.0], [0.0, 0.0])
    np.testing.assert_allclose(pm.worst_loss_usd[0], [0.16 * S, 0.16 * 30_000.0])
    assert pm.maintenance_usd[0] == pytest.approx(0.16 * (S + 30_000.0))


# --- vectorisation and sub-additivity ----------------------------------------------------

BOOK = InstrumentTable(
    kind=("perp", "perp", "call", "put", "call", "put", "call"),
    asset=(0, 0, 0, 0, 0, 0, 0),
    strike=(0.0, 0.0, 0.9 * S, 0.9 * S, 1.1 * S, 1.1 * S, S),
    expiry_yrs=(0.0, 0.0, 7 / 365, 7 / 365, T30, T30, 90 / 365),
)
SURF = [VolSurface(expiries_yrs=(7 / 365, 90 / 365), strikes=(0.8, 1.0, 1.2),
                   vols=((0.9, 0.65, 0.75), (0.75, 0.55, 0.6)))]


def test_one_pass_over_accounts_equals_account_by_account() -> None:
    q = np.random.default_rng(3).normal(size=(50, BOOK.size))
    together = portfolio_margin(q, BOOK, [S], SURF)
    for a in (0, 17, 49):
        alone = portfolio_margin(q[a], BOOK, [S], SURF)
        assert alone.maintenance_usd[0] == pytest.approx(together.maintenance_usd[a], rel=1e-12)
        assert alone.worst_scenario[0, 0] == together.worst_scenario[a, 0]


sizes = arrays(np.float64, BOOK.size, elements=st.floats(-5, 5, allow_subnormal=False))


@settings(max_examples=60, deadline=None)
@given(sizes, sizes)
def test_margin_is_sub_additive(a: np.ndarray, b: np.ndarray) -> None:
    p = PortfolioMarginParams(offset_perp_contingency_frac=0.0)  # that add-on charges offsets
    mm = portfolio_margin(np.stack([a, b, a + b]), BOOK, [S], SURF, p).maintenance_usd
    assert mm[2] <= mm[0] + mm[1] + 1e-9 * S


def test_margin_scales_with_the_book() -> None:
    q = np.random.default_rng(5).normal(size=BOOK.size)
    mm = portfolio_margin(np.stack([q, 3 * q]), BOOK, [S], SURF).maintenance_usd
    assert mm[1] == pytest.approx(3 * mm[0], rel=1e-12)


# --- risk contributions and liquidation order --------------------------------------------


def test_euler_contributions_add_up_to_the_worst_loss() -> None:
    q = np.random.default_rng(7).normal(size=(20, BOOK.size))
    pnl = scenario_pnl_per_unit(BOOK, [S], SURF)
    pm = portfolio_margin(q, BOOK, [S], SURF, pnl_per_unit=pnl)
    c = risk_contributions(q, BOOK, pm, pnl)
    np.testing.assert_allclose(c.sum(axis=1), pm.worst_loss_usd[:, 0], rtol=1e-10, atol=1e-9)


def test_incremental_contribution_is_the_margin_saved_by_closing_the_position() -> None:
    q = np.random.default_rng(11).normal(size=(5, BOOK.size))
    pnl = scenario_pnl_per_unit(BOOK, [S], SURF)
    pm = portfolio_margin(q, BOOK, [S], SURF, pnl_per_unit=pnl)
    c = risk_contributions(q, BOOK, pm, pnl, method="incremental")
    for j in range(BOOK.size):
        closed = q.copy()
        closed[:, j] = 0.0
        after = portfolio_margin(closed, BOOK, [S], SURF, pnl_per_unit=pnl).worst_loss_usd[:, 0]
        np.testing.assert_allclose(c[:, j], pm.worst_loss_usd[:, 0] - after, atol=1e-9)


def test_liquidation_closes_the_riskiest_position_first() -> None:
    # a delta-hedged long call plus a large naked short put: the put goes first, the hedge
    # pair's members last; the empty slot is never chosen before a live position.
    inst = InstrumentTable(kind=("call", "perp", "put", "call"), asset=(0, 0, 0, 0),
                           strike=(S, 0.0, 0.9 * S, 1.2 * S), expiry_yrs=(T30, 0.0, T30, T30))
    q = np.array([[1.0, -_atm_delta(), -5.0, 0.0]])
    pnl = scenario_pnl_per_unit(inst, [S], FLAT)
    pm = portfolio_margin(q, inst, [S], FLAT, pnl_per_unit=pnl)
    for method in ("euler", "incremental"):
        c = risk_contributions(q, inst, pm, pnl, method=method)
        order = liquidation_order(c, q)[0].tolist()
        assert order[0] == 2 and order[-1] == 3
        assert c[0, 3] == 0.0
    closed = q.copy()
    closed[0, 2] = 0.0
    assert portfolio_margin(closed, inst, [S], FLAT).maintenance_usd[0] < 0.2 * pm.maintenance_usd[0]


# --- greeks ------------------------------------------------------------------------------


def test_account_greeks_of_a_delta_hedged_book() -> None:
    d = _atm_delta()
    g = account_greeks([[1.0, -d], [2.0, 0.0]], CALL_PERP, [S], FLAT)
    one = bsm_greeks(True, S, S, T30, 0.6)
    np.testing.assert_allclose(g.delta[:, 0], [0.0, 2 * d], atol=1e-12)
    np.testing.assert_allclose(g.gamma[:, 0], [float(one.gamma), 2 * float(one.gamma)])
    np.testing.assert_allclose(g.vega[:, 0], [float(one.vega), 2 * float(one.vega)])
    np.testing.assert_allclose(g.theta[:, 0], [float(one.theta), 2 * float(one.theta)])


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"kind": ("perp", "swap")}, r"'instruments.kind\[1\]' = 'swap'"),
    ({"asset": (0, -1)}, r"'instruments.asset\[1\]' = -1"),
    ({"strike": (0.0, 0.0)}, r"'instruments.strike\[1\]' = 0.0 .*option"),
    ({"expiry_yrs": (0.0, -1.0)}, r"'instruments.expiry_yrs' = -1.0"),
    ({"strike": (0.0,)}, r"'instruments.strike' = '1 entries'"),
])
def test_instrument_table_errors_name_the_entry(kwargs: dict[str, object], match: str) -> None:
    base: dict[str, object] = {"kind": ("perp", "call"), "asset": (0, 0), "strike": (0.0, S),
                               "expiry_yrs": (0.0, T30)}
    with pytest.raises(ParameterError, match=match):
        InstrumentTable(**(base | kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"price_steps": 8}, "'price_steps' = 8 .*odd"),
    ({"price_range_frac": 1.0}, "'price_range_frac'"),
    ({"vol_down_frac": 1.5}, "'vol_down_frac'"),
    ({"extended_moves": (0.5, -1.0)}, r"'extended_moves\[1\]' = -1.0"),
    ({"initial_margin_multiple": 0.5}, "'initial_margin_multiple'"),
])
def test_params_errors_name_the_field(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        PortfolioMarginParams(**kwargs)  # type: ignore[arg-type]


def test_call_errors_name_the_argument() -> None:
    with pytest.raises(ParameterError, match="'sizes' = 'array of shape"):
        portfolio_margin([[1.0, 2.0, 3.0]], CALL_PERP, [S], FLAT)
    with pytest.raises(ParameterError, match="'spot'"):
        portfolio_margin([[1.0, 0.0]], CALL_PERP, [], FLAT)
    with pytest.raises(ParameterError, match="'vols' = '1 vols'"):
        portfolio_margin([[1.0, 0.0]], CALL_PERP, [S], [0.5])
    with pytest.raises(ParameterError, match="'method'"):
        pnl = scenario_pnl_per_unit(CALL_PERP, [S], FLAT)
        pm = portfolio_margin([[1.0, 0.0]], CALL_PERP, [S], FLAT, pnl_per_unit=pnl)
        risk_contributions([[1.0, 0.0]], CALL_PERP, pm, pnl, method="shapley")  # type: ignore[arg-type]
    assert math.isfinite(float(instrument_vols(CALL_PERP, [S], FLAT)[0]))
    two = InstrumentTable(kind=("call", "perp"), asset=(0, 1), strike=(S, 0.0), expiry_yrs=(T30, 0.0))
    assert portfolio_margin([[1.0, 1.0]], two, [S, 3_000.0], [FLAT[0], None]).maintenance_usd[0] > 0
    with pytest.raises(ParameterError, match=r"'surfaces\[0\]' = None .*instrument 0"):
        portfolio_margin([[1.0, 1.0]], two, [S, 3_000.0], [None, FLAT[0]])
