"""The numeraire may depeg (issue 12): ``market.numeraire_oracle`` and a path on the numeraire.

Every venue keeps its books in numeraire units; with a depeg the numeraire's true USD price
is its path, the outside market pays USD proceeds in numeraire units at that price, and each
venue values the numeraire at its oracle of it (its ``price_feed`` edge keyed by the
numeraire): lending venues divide their USD feeds by it (a borrower's numeraire debt is
worth less in USD: HF rises), perp venues count margin at it (margin falls), custodial
exchanges convert USD-priced assets at it. Without a feed edge a venue keeps $1.
"""

from __future__ import annotations

import dataclasses as dc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.model import ContagionModel
from contagion.params import (
    MarketParams,
    OracleParams,
    PricePathParams,
    SupplierRunParams,
)
from contagion.runner import simulate
from contagion.scenario import Scenario
from contagion.world import build_world
from models import get_scenario

N, STEPS = 200, 40  # the depeg (12% from step 24 over 12 steps) is complete at step 36
Q = 0.88


@pytest.fixture(scope="module")
def depeg() -> Scenario:
    return get_scenario("broken_correlation", n_traders=N, steps=STEPS)


def _without_usdc_path(sc: Scenario) -> Scenario:
    return dc.replace(sc, paths=tuple(p for p in sc.paths if p.asset != "USDC"))


def _at(sc: Scenario, step: int, **kw: object) -> ContagionModel:
    m = ContagionModel(sc, seed=0, **kw)  # type: ignore[arg-type]
    m.run(step)
    return m


def test_on_without_a_move_is_the_same_run_as_off(depeg: Scenario) -> None:
    """The feed at exactly $1 changes no number: the valuation only divides by it."""
    still = _without_usdc_path(depeg)
    off = dc.replace(still, market=dc.replace(still.market, numeraire_oracle=None))
    a, b = simulate(still, seed=3), simulate(off, seed=3)
    assert len(a.events) > 0
    cols = [c for c in a.events.columns if c != "event_id"]
    assert a.events[cols].equals(b.events[cols])
    shared = [c for c in b.series.columns]
    assert a.series[shared].equals(b.series[shared])
    assert "price_USDC" in a.series and "price_USDC" not in b.series
    assert (a.series["numeraire_loss_usd"] == 0).all() and "numeraire_loss_usd" not in b.series


def test_the_depeg_is_told_and_usdc_is_priced_in_usd(depeg: Scenario) -> None:
    r = simulate(depeg, seed=0, check_conservation=True)  # units are conserved
    s, ev = r.series, r.events
    assert s["price_USDC"].iloc[-1] == pytest.approx(Q)
    assert s["oracle_USDC-feed"].iloc[-1] == pytest.approx(Q)
    told = ev[ev["kind"] == "numeraire_depeg"]
    assert told["phase"].tolist() == ["start"]
    row = told.iloc[0]
    assert row["step"] == 25 and row["deviation"] == pytest.approx(row["price"] - 1.0)
    assert row["deviation"] < -0.005 and row["asset"] == "USDC"
    # its cause is the numeraire's own price move
    assert ev.loc[ev["event_id"] == row["cause_id"], "kind"].item() == "price_shock"
    # the pools trade in USDC: ETH/USDC rises by 1/q while ETH holds in USD
    ratio = s["pool_ETH/USDC"].iloc[-1] / s["price_ETH"].iloc[-1]
    assert ratio == pytest.approx(1 / Q, rel=0.01)


def test_the_holders_of_usdc_claims_lose_in_usd(depeg: Scenario) -> None:
    from contagion.reporting import numeraire_claims, numeraire_reporters

    m = _at(depeg, 37)
    loss = numeraire_reporters(m)["numeraire_loss_usd"](m)
    claims = numeraire_claims(m)
    assert claims > m.lending[0].claims_usd() > 0
    assert loss == pytest.approx(claims * (1 - Q))


def test_same_seed_same_events(depeg: Scenario) -> None:
    a, b = simulate(depeg, seed=5), simulate(depeg, seed=5)
    assert a.events.equals(b.events)


def test_borrowers_usdc_debt_is_worth_less_hf_rises(depeg: Scenario) -> None:
    m = _at(depeg, 37)
    v = m.lending[0]
    q = float(v.num_feed.price)
    assert q == pytest.approx(Q)
    hf = v.health().copy()
    usd = np.array([o.price for o in v.oracles])
    assert v.prices() == pytest.approx(usd / q)  # collateral in USDC units
    v.num_feed = None  # the venue at $1 (as with its feed edge cut)
    v.invalidate()
    at_par = v.health()
    live = np.isfinite(hf) & (at_par > 0)
    assert live.sum() > 10
    assert hf[live] == pytest.approx(at_par[live] / q)  # debt in USD x q: HF / q


def test_perp_margin_counts_usdc_collateral_at_its_oracle(depeg: Scenario) -> None:
    m = _at(depeg, 37)
    pv = m.perps[0]
    q = pv.numeraire_usd()
    eq, _ = pv.margin_state()
    local = pv.equity()
    assert q == pytest.approx(Q)
    assert eq == pytest.approx(local + pv.book.collateral * (q - 1.0))
    assert (eq[1:] < local[1:]).sum() > 10  # margin falls with the collateral's value


def test_more_perp_liquidations_with_the_depeg_than_without(depeg: Scenario) -> None:
    calm = get_scenario("broken_correlation", n_traders=N, steps=STEPS, depeg_frac=0.0)
    runs = [simulate(sc, seed=0).events for sc in (depeg, calm)]
    n = [int((ev["kind"] == "perp_liquidation").sum()) for ev in runs]
    assert n[0] > n[1]
    ev = runs[0]
    agent = ev.set_index("event_id")["agent"]
    during = ev[(ev["kind"] == "perp_liquidation") & ev["step"].between(25, 36)]
    assert len(during) > 0  # and the USDC feed's publication is their cause
    assert set(during["cause_id"].map(agent)) == {"USDC-feed"}


def test_the_story_tells_the_depeg(depeg: Scenario) -> None:
    from dashboard.narrative import step_narrative

    r = simulate(depeg, seed=0)
    text = " ".join(step_narrative(r.events, r.series, 25))
    assert "USDC, the unit every venue keeps its books in, depegged to $0.9894" in text


def test_cutting_the_feed_edge_values_usdc_at_one_dollar(depeg: Scenario) -> None:
    G = build_world(depeg)
    assert G.has_edge("USDC-feed", "LendM", key="price_feed:USDC")
    assert G.has_edge("USDC-feed", "PerpM", key="price_feed:USDC")
    G.remove_edge("USDC-feed", "PerpM", key="price_feed:USDC")
    m = ContagionModel(depeg, seed=0, world=G)
    m.run(37)
    assert m.perps[0].num_feed is None and m.perps[0].numeraire_usd() == 1.0
    eq, _ = m.perps[0].margin_state()
    assert eq == pytest.approx(m.perps[0].equity())
    assert m.lending[0].num_feed is not None


def test_a_lagged_oracle_values_at_the_old_price_until_it_publishes(depeg: Scenario) -> None:
    lag = 3
    sc = dc.replace(depeg, oracles=tuple(
        dc.replace(o, delay_steps=lag) if o.name == "USDC-feed" else o for o in depeg.oracles))
    m = ContagionModel(sc, seed=0)
    m.run(24)
    v = m.lending[0]
    seen = []
    for _ in range(8):
        m.step()
        seen.append((float(m.market.price[m.market.numeraire]), float(v.num_feed.price)))
    market, oracle = np.array(seen).T
    assert market[0] < 1.0 - 0.005  # the market moved at step 25
    assert oracle[:lag] == pytest.approx(np.ones(lag))  # the venue still values it at $1
    assert oracle[lag] == pytest.approx(market[0])  # then the price of 3 steps before
    usd = np.array([o.price for o in v.oracles])
    assert v.prices() == pytest.approx(usd / oracle[-1])


def test_lenders_run_when_the_numeraire_feed_depegs(depeg: Scenario) -> None:
    lend = depeg.lending[0]
    run = SupplierRunParams(depeg_oracle="USDC-feed", min_depeg_frac=0.02, max_depeg_frac=0.1,
                            min_utilisation=1.0, min_bad_debt_frac=1.0, max_bad_debt_frac=1.0)
    sc = dc.replace(depeg, lending=(dc.replace(lend, supplier_run=run),))
    ev = simulate(sc, seed=0, check_conservation=True).events
    out = ev[(ev["kind"] == "withdrawal") & (ev["reason"] == "lender_run")]
    assert len(out) > 0 and set(out["trigger"]) == {"depeg"}
    assert out["step"].min() > 24


@pytest.mark.parametrize(("change", "match"), [
    ({"market": {"numeraire_oracle": "nope"}}, r"market\.numeraire_oracle.*'nope'"),
    ({"market": {"numeraire_oracle": "ETH-feed"}}, r"market\.numeraire_oracle.*'ETH-feed'"),
    ({"market": {"numeraire_oracle": None}}, r"paths\[\d\]\.asset.*'USDC'"),
    ({"oracle_source": "pool_spot"}, r"oracles\[USDC-feed\]\.(source|pool)"),
])
def test_bad_parameters_are_refused_naming_the_field(depeg: Scenario, change: dict,
                                                      match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        if "market" in change:
            dc.replace(depeg, market=dc.replace(depeg.market, **change["market"]))
        else:
            dc.replace(depeg, oracles=tuple(
                dc.replace(o, source=change["oracle_source"], pool="DAI/USDC")
                if o.name == "USDC-feed" else o for o in depeg.oracles))


def test_a_blank_numeraire_oracle_is_refused() -> None:
    with pytest.raises(ParameterError, match=r"market\.numeraire_oracle"):
        MarketParams(numeraire_oracle=" ")


def test_a_numeraire_path_needs_its_oracle() -> None:
    sc = get_scenario("default", n_traders=N, steps=10)
    with pytest.raises(ParameterError, match=r"paths\[3\]\.asset"):
        dc.replace(sc, paths=(*sc.paths, PricePathParams(asset="USDC", shock_frac=0.1)))
    on = dc.replace(sc, market=dc.replace(sc.market, numeraire_oracle="USDC-feed"),
                    oracles=(*sc.oracles, OracleParams(name="USDC-feed", asset="USDC")),
                    paths=(*sc.paths, PricePathParams(asset="USDC", shock_frac=0.1,
                                                      shock_start_step=2,
                                                      shock_duration_steps=2,
                                                      vol_per_step=0.0)))
    r = simulate(on, seed=0, check_conservation=True)  # custodial exchanges value it too
    assert r.series["price_USDC"].iloc[-1] == pytest.approx(0.9)
    m = ContagionModel(on, seed=0)
    m.run(6)
    assert all(ex.num_feed is not None for ex in m.custodial)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(frac=st.floats(0.0, 0.6), start=st.integers(1, 8), duration=st.integers(1, 6),
       lag=st.integers(0, 3), seed=st.integers(0, 2**16))
def test_units_are_conserved_through_any_depeg(frac: float, start: int, duration: int,
                                               lag: int, seed: int) -> None:
    """The default market (lending, perps, custodial exchanges, firms, pools) with the
    numeraire depegging by ``frac``: every unit is accounted for at every step."""
    sc = get_scenario("default", n_traders=N, steps=16)
    sc = dc.replace(sc, market=dc.replace(sc.market, numeraire_oracle="USDC-feed"),
                    oracles=(*sc.oracles, OracleParams(name="USDC-feed", asset="USDC",
                                                       delay_steps=lag)),
                    paths=(*sc.paths, PricePathParams(asset="USDC", shock_frac=frac,
                                                      shock_start_step=start,
                                                      shock_duration_steps=duration,
                                                      vol_per_step=0.0)))
    r = simulate(sc, seed=seed, check_conservation=True)
    assert r.series["price_USDC"].min() == pytest.approx(1.0 - frac)
    told = r.events[r.events["kind"] == "numeraire_depeg"]
    if abs(frac - 0.005) > 1e-9:  # the event's band: 0.5% off the peg
        assert (len(told) > 0) == (frac > 0.005)
