"""Perp funding in the engine (PerpParams.funding, PerpVenue.pay_funding): zero-sum, a
crowded side bleeds by the formula, clamp and cap, funding alone liquidates, conservation,
reproducibility, and off by default."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.mechanics.funding import (
    capped_funding_rate,
    funding_rate,
    imbalance_premium,
    prorated_rate,
)
from contagion.model import ContagionModel
from contagion.params import AssetParams, OracleParams, PerpMarketParams, PricePathParams
from contagion.scenario import override
from models import get_scenario


def _scenario(**settings: object):
    sc = get_scenario("default", n_traders=200)
    for key, value in {"perps.PerpX.funding": True, **settings}.items():
        sc = override(sc, key, value)
    return sc


def _flat(**settings: object):
    """ETH flat and noiseless, no top-ups, no cross margin: only funding moves equity."""
    return _scenario(**{"paths.ETH.kind": "flat", "paths.ETH.vol_per_step": 0.0,
                        "traders.topup_share": 0.0, "traders.cross_margin": False, **settings})


def _expected_rate(pv, p) -> float:
    """The per-payment rate of the venue's first market, from the pure functions."""
    b = pv.book
    mark = float(pv.marks()[0])
    depth = float(pv.model.market.depth_usd[pv.assets[0]])
    premium = imbalance_premium(b.size[1:, 0].sum() * mark, depth,
                                sensitivity=p.premium_sensitivity,
                                max_frac=p.max_liquidation_slippage_frac)
    f = capped_funding_rate(funding_rate(premium, p.interest_rate_frac, p.funding_clamp_frac),
                            p.funding_cap_frac)
    minutes = p.funding_interval_steps * pv.model.scenario.market.step_minutes
    return float(prorated_rate(f, minutes, p.funding_period_hours))


def test_crowded_longs_pay_shorts_by_the_formula_and_the_sum_is_zero():
    model = ContagionModel(_scenario(), seed=3)
    pv = model.perps[0]
    b = pv.book
    assert b.size[1:, 0].sum() > 0  # the default book is crowded long (long_share 0.75)
    before, size = b.collateral.copy(), b.size[:, 0].copy()
    cash = b.cash()
    rate = _expected_rate(pv, pv.params)
    pv.pay_funding()  # steps == 0: a funding time
    paid = before - b.collateral
    mark = float(pv.marks()[0])
    np.testing.assert_allclose(paid[1:], size[1:] * mark * rate, rtol=1e-12, atol=1e-9)
    assert rate > 0
    longs, shorts = size > 0, size < 0
    assert (paid[longs] > 0).all() and (paid[shorts] < 0).all()  # longs bleed
    gross = np.abs(paid).sum() / 2
    assert abs(paid.sum()) <= 1e-9 * gross  # zero-sum, the outside row included
    assert b.cash() == pytest.approx(cash, rel=1e-12)
    ev = model.events_frame
    f = ev[ev["kind"] == "funding"]
    assert len(f) == 1  # one event per venue-market and interval, not per account
    r = f.iloc[0]
    assert r["paying_side"] == "longs" and r["asset"] == "ETH" and r["venue"] == "PerpX"
    assert r["paid_usd"] == pytest.approx(paid[paid > 0].sum(), rel=1e-12)
    assert r["received_usd"] == pytest.approx(r["paid_usd"], rel=1e-9)
    assert r["rate_frac"] == pytest.approx(rate, rel=1e-12)


def test_zero_sum_every_step_and_conservation_over_a_crash():
    model = ContagionModel(_scenario(**{"perps.PerpX.funding_cap_frac": 0.05,
                                        "perps.PerpX.funding_interval_steps": 3}),
                           seed=1, check_conservation=True)
    model.run(40)  # the crash starts at step 12: liquidations, ADL, clawbacks with funding
    f = model.events_frame.query("kind == 'funding'")
    assert len(f) == 40 // 3
    assert (f["step"] % 3 == 0).all()
    np.testing.assert_allclose(f["received_usd"], f["paid_usd"], rtol=1e-9)
    assert (f["interval_minutes"] == 15.0).all()
    series = model.datacollector.get_model_vars_dataframe()
    assert "funding_PerpX_ETH" in series and "premium_PerpX_ETH" in series
    assert series["funding_PerpX_ETH"].iloc[-1] == pytest.approx(f["period_rate_frac"].iloc[-1])


def test_clamp_makes_the_rate_the_interest_rate_without_premium():
    model = ContagionModel(_scenario(**{"perps.PerpX.premium_sensitivity": 0.0}), seed=2)
    model.run(2)
    f = model.events_frame.query("kind == 'funding'")
    assert np.allclose(f["premium_frac"], 0.0)
    assert np.allclose(f["period_rate_frac"], 0.0001)  # Binance's 0.01% per 8 h
    # an interest rate beyond the clamp: F = P + clamp(I - P) = 0.05%
    model = ContagionModel(_scenario(**{"perps.PerpX.premium_sensitivity": 0.0,
                                        "perps.PerpX.interest_rate_frac": 0.003}), seed=2)
    model.run(1)
    f = model.events_frame.query("kind == 'funding'")
    assert f["period_rate_frac"].iloc[0] == pytest.approx(0.0005)


def test_cap_bounds_the_rate():
    model = ContagionModel(_scenario(**{"perps.PerpX.premium_sensitivity": 50.0,
                                        "perps.PerpX.funding_cap_frac": 0.002}), seed=2)
    model.run(1)
    r = model.events_frame.query("kind == 'funding'").iloc[0]
    assert r["uncapped_rate_frac"] > 0.002
    assert r["period_rate_frac"] == pytest.approx(0.002)
    assert r["rate_frac"] == pytest.approx(0.002 * 5 / 480)


def test_funding_alone_liquidates_the_most_leveraged_longs():
    # one 8-hour period a step at a 2% cap: flat prices, only funding moves equity
    sc = _flat(**{"market.step_minutes": 480.0, "perps.PerpX.funding_cap_frac": 0.02,
                  "perps.PerpX.premium_sensitivity": 10.0})
    model = ContagionModel(sc, seed=4, check_conservation=True)
    pv = model.perps[0]
    b = pv.book
    start_size = b.size[:, 0].copy()
    ratio = b.collateral / (np.abs(b.size[:, 0]) * b.entry[:, 0] + 1e-300)  # margin per notional
    model.run(6)
    ev = model.events_frame
    liq = ev[(ev["kind"] == "perp_liquidation") & (ev["venue"] == "PerpX")]
    assert len(liq) > 0
    assert (liq["amount"] > 0).all()  # only longs: shorts are paid
    gone = np.isin(b.owner, liq["account"].to_numpy()) & (start_size > 0)
    kept = (start_size > 0) & ~gone
    kept[0] = False
    assert gone.any() and kept.any()
    assert ratio[gone].max() <= ratio[kept].min()  # the most leveraged first
    assert ev.query("kind == 'funding'")["period_rate_frac"].max() == pytest.approx(0.02)


def test_same_seed_same_events():
    sc = _scenario(**{"perps.PerpX.funding_cap_frac": 0.01})
    frames = []
    for _ in range(2):
        model = ContagionModel(sc, seed=7)
        model.run(20)
        frames.append(model.events_frame)
    pd.testing.assert_frame_equal(frames[0], frames[1])


def test_off_by_default_leaves_a_run_unchanged():
    plain = get_scenario("default", n_traders=200)
    assert plain.perps[0].funding is False
    off = override(plain, "perps.PerpX.funding", False)
    runs = []
    for sc in (plain, off):
        model = ContagionModel(sc, seed=5)
        model.run(20)
        runs.append(model)
    a, b = (m.events_frame for m in runs)
    pd.testing.assert_frame_equal(a, b)
    assert not (a["kind"] == "funding").any()
    series = runs[0].datacollector.get_model_vars_dataframe()
    assert not [c for c in series.columns if c.startswith(("funding_", "premium_"))]


def test_bad_funding_parameters_are_refused():
    with pytest.raises(ParameterError, match="funding_interval_steps"):
        override(get_scenario("default"), "perps.PerpX.funding_interval_steps", 0)
    with pytest.raises(ParameterError, match="funding_clamp_frac"):
        override(get_scenario("default"), "perps.PerpX.funding_clamp_frac", -0.001)


def test_the_story_tells_who_paid_whom_without_breaking_a_calm_step():
    from dashboard.narrative import step_narrative

    model = ContagionModel(_scenario(), seed=3)
    model.run(2)
    events = model.events_frame
    series = model.datacollector.get_model_vars_dataframe()
    lines = step_narrative(events, series, 2)
    assert lines[0].startswith("Step 2: calm")
    told = [line for line in lines if "of funding on PerpX ETH" in line]
    assert len(told) == 1
    assert told[0].startswith("Longs paid shorts $")
    assert "per funding period, at its cap" in told[0] and "premium to its index" in told[0]


def test_each_market_of_a_venue_pays_its_own_funding_and_sums_to_zero():
    sc = get_scenario("default", n_traders=200)
    pv = sc.perps[0]
    sc = dataclasses.replace(  # BTC listed at PerpX besides ETH (as tests/test_perp_markets.py)
        sc,
        assets=(*sc.assets, AssetParams(name="BTC", kind="volatile", initial_price_usd=60000.0,
                                        external_depth_usd=float("inf"))),  # no premium
        oracles=(*sc.oracles, OracleParams(name="BTC-feed", asset="BTC")),
        paths=(*sc.paths, PricePathParams(asset="BTC", kind="crash", shock_frac=0.3,
                                          shock_start_step=20, shock_duration_steps=20)),
        perps=(dataclasses.replace(pv, funding=True, markets=(
            PerpMarketParams(asset="BTC", oracle="BTC-feed", maintenance_margin_frac=0.04),)),),
    )
    model = ContagionModel(sc, seed=2, check_conservation=True)
    pv = model.perps[0]
    before = pv.book.collateral.copy()
    pv.pay_funding()
    f = model.events_frame.query("kind == 'funding'")
    assert f["asset"].tolist() == ["ETH", "BTC"]
    btc = f.iloc[1]
    assert btc["premium_frac"] == 0.0 and btc["period_rate_frac"] == pytest.approx(0.0001)
    moved = before - pv.book.collateral
    assert abs(moved.sum()) <= 1e-9 * np.abs(moved).sum()
    model.run(24)  # BTC crashes from step 20
    f = model.events_frame.query("kind == 'funding'")
    np.testing.assert_allclose(f["received_usd"], f["paid_usd"], rtol=1e-9)
    series = model.datacollector.get_model_vars_dataframe()
    assert {"funding_PerpX_ETH", "funding_PerpX_BTC", "premium_PerpX_BTC"} <= set(series)


@pytest.mark.parametrize("cap", [1.0, 0.0])
def test_extreme_funding_conserves_and_accounts_for_bad_debt(cap):
    # 100% per period, one period a step: funding alone bankrupts accounts, whose
    # shortfalls the fund, ADL or clawback cover; or no funding at all (cap 0)
    sc = _scenario(**{"market.step_minutes": 480.0, "perps.PerpX.funding_cap_frac": cap,
                      "perps.PerpX.premium_sensitivity": 1000.0,
                      "perps.PerpX.interest_rate_frac": 0.0, "market.steps": 40})
    model = ContagionModel(sc, seed=11, check_conservation=True)
    model.run()
    p = model.perps[0]
    covered = p.fund_paid_usd + p.adl_covered_usd + p.socialised_usd + p.unresolved_usd
    assert np.isclose(p.bad_debt_usd, covered, rtol=1e-6, atol=1e-3)
    f = model.events_frame.query("kind == 'funding'")
    if cap == 0.0:
        assert (f["paid_usd"] == 0).all() and (f["paying_side"] == "none").all()
    else:
        assert p.bad_debt_usd > 0 and (f["period_rate_frac"].abs() <= 1.0).all()
