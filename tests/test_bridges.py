"""Bridges (issue 13): locked collateral, minted claims, finality, halts and exploits.

The engine's bridge (contagion/agents/bridge.py) against its pure rules
(contagion/mechanics/bridge.py), the world graph as its wiring (cut an edge and its effect
goes), conservation with the locked units counted, and bad parameters refused by name.
Small runs (300 traders, the bridge_exploit preset's market).
"""

from __future__ import annotations

import dataclasses

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.mechanics.bridge import claim_price_factor
from contagion.model import ContagionModel
from contagion.params import BridgeParams
from contagion.runner import simulate
from contagion.world import build_world
from models import get_scenario

N = 300


_RUNS: dict[tuple[tuple[str, object], ...], ContagionModel] = {}


def _run(world: nx.MultiDiGraph | None = None, **kw: object) -> ContagionModel:
    """A finished run of the preset at seed 0 (runs without a world of their own are shared
    by the tests, which only read them)."""
    key = tuple(sorted(kw.items()))
    if world is None and key in _RUNS:
        return _RUNS[key]
    m = ContagionModel(get_scenario("bridge_exploit", n_traders=N, **kw), seed=0,
                       check_conservation=True, world=world)
    m.run()
    if world is None:
        _RUNS[key] = m
    return m


def _without(edge_type: str) -> nx.MultiDiGraph:
    G = build_world(get_scenario("bridge_exploit", n_traders=N))
    cut = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if d["type"] == edge_type
           and G.nodes[u]["kind"] == "bridge"]
    assert cut
    G.remove_edges_from(cut)
    return G


def test_a_bridge_that_is_never_exploited_nor_halted_changes_nothing() -> None:
    sc = get_scenario("bridge_exploit", n_traders=N, exploit_frac=0.0, halt_steps=0,
                      bridged_margin=False)
    with_bridge = simulate(sc, seed=0, check_conservation=True).events
    without = simulate(dataclasses.replace(sc, bridges=()), seed=0).events
    pd.testing.assert_frame_equal(with_bridge, without)


def test_the_exploit_reprices_the_claim_to_its_backing_exactly() -> None:
    m = _run()
    ev = m.events_frame
    ex = ev[ev["kind"] == "bridge_exploit"].iloc[0]
    assert ex["backing_ratio"] == pytest.approx(0.4, rel=1e-15)
    assert ex["amount"] == pytest.approx(0.6 * 200_000)
    rep = ev[ev["kind"] == "claim_repriced"].iloc[0]
    assert int(rep["cause_id"]) == int(ex["event_id"])
    factor = claim_price_factor(0.4, halted=True, halt_discount_frac=0.0)
    assert rep["price"] == pytest.approx(rep["price_before"] * factor, rel=1e-14)
    # the stolen ETH went to the outside world and the bridge keeps the rest
    assert m.bridges[0].locked_units == pytest.approx(80_000.0)


def test_the_exploit_hits_the_venue_that_takes_the_claim_and_only_through_the_issues_edge(
        ) -> None:
    def sol_bad_debt(m: ContagionModel) -> float:
        ev = m.events_frame
        return float(ev[(ev["kind"] == "bad_debt") & (ev["venue"] == "SolLend")]["value_usd"].sum())

    on, off, cut = _run(), _run(exploit_frac=0.0), _run(world=_without("issues"))
    assert sol_bad_debt(on) > 1e6 > 100 * sol_bad_debt(off)
    assert "SolLend" in on.recovery or on.lending[1].defaulted
    # cut the issues edge: the exploit happens, but the market no longer reprices the claim
    ev = cut.events_frame
    assert (ev["kind"] == "bridge_exploit").sum() == 1 and (ev["kind"] == "claim_repriced").sum() == 0
    assert sol_bad_debt(cut) < sol_bad_debt(on) / 100


def test_a_halt_freezes_transfers_in_flight_until_it_ends() -> None:
    def transfers(m: ContagionModel) -> pd.DataFrame:
        ev = m.events_frame
        due = ev[(ev["kind"] == "settlement_due") & (ev["amount"] > 0)]
        return due[["opened_step", "step", "amount"]]

    m = _run()
    long_halt, short_halt = transfers(m), transfers(_run(halt_steps=1))
    opened = int(long_halt["opened_step"].iloc[0])
    assert long_halt["step"].tolist() == [12 + 24]  # held to the first step after the halt
    assert short_halt["step"].tolist() == [opened + 2]  # the bridge's finality
    assert long_halt["amount"].sum() == pytest.approx(short_halt["amount"].sum(), rel=1e-12)
    ev = m.events_frame
    end = ev[(ev["kind"] == "bridge_halt") & (ev["phase"] == "end")].iloc[0]
    assert end["in_flight_usd"] == pytest.approx(long_halt["amount"].sum(), rel=1e-12)
    series = m.datacollector.get_model_vars_dataframe()["bridge_in_flight_Portal"]
    assert series.iloc[12:36].min() == pytest.approx(end["in_flight_usd"], rel=1e-12)
    assert series.iloc[36] == 0.0


def test_the_halt_reaches_the_perp_venue_only_through_its_bridge_route() -> None:
    def perp_liquidations(m: ContagionModel) -> int:
        ev = m.events_frame
        return int(((ev["kind"] == "perp_liquidation") & (ev["step"] == 12)).sum())

    routed, unrouted = _run(), _run(bridged_margin=False)
    cut = _run(world=_without("bridge_route"))
    assert perp_liquidations(routed) > perp_liquidations(unrouted)
    assert perp_liquidations(cut) == perp_liquidations(unrouted)
    # without the route, transfers take the plain delay (0: they settle at once)
    ev = cut.events_frame
    assert (ev["kind"] == "settlement_due").sum() == 0


def test_a_refill_makes_the_claim_whole_again() -> None:
    m = _run(recapitalise_step=24)
    ev = m.events_frame
    refill = ev[ev["kind"] == "bridge_recapitalised"].iloc[0]
    assert refill["amount"] == pytest.approx(120_000.0) and refill["backing_ratio"] == 1.0
    back = ev[(ev["kind"] == "claim_repriced") & (ev["step"] == 24)].iloc[0]
    assert back["amount"] == 1.0 and int(back["cause_id"]) == int(refill["event_id"])
    assert back["price"] == pytest.approx(back["price_before"] / 0.4, rel=1e-14)


def test_same_seed_same_events_and_the_bridge_in_the_exposure_graph() -> None:
    a = _run()
    b = ContagionModel(get_scenario("bridge_exploit", n_traders=N), seed=0)
    b.run()
    pd.testing.assert_frame_equal(a.events_frame, b.events_frame)
    G = a.network
    assert G.nodes["Portal"]["kind"] == "bridge" and G.nodes["Portal"]["state"] == "defaulted"
    kinds = {(u, v, d["type"]) for u, v, d in G.out_edges("Portal", data=True)}
    assert ("Portal", "SolLend", "token_collateral") in kinds
    assert ("Portal", "SolPerp", "bridge_route") in kinds
    # its venue-table row: locked against minted at the underlying's price, never "defaulted"
    rows = a.venue_frame()
    row = rows[(rows["venue"] == "Portal") & (rows["step"] == 12)].iloc[0]
    assert row["assets_usd"] / row["liabilities_usd"] == pytest.approx(0.4, rel=1e-12)
    assert not row["defaulted"] and row["at_risk"] == 1
    # SolLend's exposure to Portal is the wETH it holds, and only SolLend has one
    ex = a.exposure_frame()
    to_portal = ex[ex["counterparty"] == "Portal"]
    assert set(to_portal["holder"]) == {"SolLend"}
    assert set(to_portal["channel"]) == {"token_collateral"}


@pytest.mark.parametrize("kw, field", [
    ({"exploit_frac": 1.0, "exploit_step": 2}, "exploit_frac"),
    ({"halt_step": -2}, "halt_step"),
    ({"halt_discount_frac": 1.0}, "halt_discount_frac"),
    ({"finality_steps": 2.5}, "finality_steps"),
    ({"locked_units": 0.0}, "locked_units"),
    ({"margin_venues": ("SolPerp", "SolPerp")}, "margin_venues"),
])
def test_bad_bridge_parameters_are_refused_by_name(kw: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"name": "B", "asset": "wETH", "locked_units": 1.0}
    with pytest.raises(ParameterError, match=f"bridges\\[B\\].{field}"):
        BridgeParams(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize("change, field", [
    ({"asset": "ETH"}, "bridges[Portal].asset"),
    ({"margin_venues": ("EthLend",)}, "bridges[Portal].margin_venues"),
    ({"exploit_step": 500, "exploit_frac": 0.5}, "bridges[Portal].exploit_step"),
    ({"name": "CEX"}, "bridges[CEX].name"),
])
def test_bad_bridges_in_a_scenario_are_refused_by_name(change: dict[str, object],
                                                       field: str) -> None:
    sc = get_scenario("bridge_exploit", n_traders=N)
    bad = dataclasses.replace(sc.bridges[0], **change)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=field.replace("[", "\\[").replace("]", "\\]")):
        dataclasses.replace(sc, bridges=(bad,))


@settings(max_examples=5, deadline=None, derandomize=True, database=None)
@given(frac=st.sampled_from([0.0, 0.25, 0.9]), halt=st.integers(0, 12),
       finality=st.integers(0, 4), discount=st.sampled_from([0.0, 0.2]),
       refill=st.sampled_from([-1, 18]), seed=st.integers(0, 20))
def test_any_bridge_conserves_units_and_prices_its_claim_by_the_rule(
        frac: float, halt: int, finality: int, discount: float, refill: int, seed: int) -> None:
    if frac == 0.0:
        refill = -1
    sc = get_scenario("bridge_exploit", n_traders=200, steps=30, exploit_frac=frac, halt_steps=halt,
                      finality_steps=finality, halt_discount_frac=discount,
                      recapitalise_step=refill)
    m = ContagionModel(sc, seed=seed, check_conservation=True)
    m.run()  # raises InvariantError if a unit is created or destroyed
    bridge, b = sc.bridges[0], m.bridges[0]
    assert b.locked_units == pytest.approx(
        200_000 * (1 - frac) if refill < 0 else 200_000.0, rel=1e-12)
    backing = m.datacollector.get_model_vars_dataframe()["backing_Portal"]
    ev = m.events_frame
    before = 1.0
    for r in ev[ev["kind"] == "claim_repriced"].itertuples(index=False):
        step = int(r.step)
        f = claim_price_factor(float(backing.loc[step]), halted=bridge.halted_at(step),
                               halt_discount_frac=discount)
        assert float(r.price) == pytest.approx(float(r.price_before) * f / before, rel=1e-12)
        before = f
    # nothing frozen is left in flight once the halt is over and the finality has passed
    if halt and 12 + halt + finality < sc.market.steps:
        assert b.in_flight_usd() == 0.0
