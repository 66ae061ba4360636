"""The world graph is the engine's wiring: every contagion channel is an edge the model
reads, so removing that edge (on ``model.graph`` before the first step, or in the world
given to the model) stops the contagion through it, and adding one opens a channel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.events import trace_cause
from contagion.model import ContagionModel
from contagion.runner import simulate
from contagion.world import WORLD_EDGE_TYPES, build_world, resolve_wiring
from models import SCENARIOS, get_scenario

SEED = 0


def _default() -> Any:
    return get_scenario("default", n_traders=300)


def _run_edited(scenario: Any, edit: Callable[[nx.MultiDiGraph], None] | None = None,
                *, seed: int = SEED) -> ContagionModel:
    """Build the model, edit ``model.graph`` before the first step, run to the horizon."""
    model = ContagionModel(scenario, seed=seed)
    if edit is not None:
        edit(model.graph)
    model.run()
    return model


def _remove(u: str, v: str, key: str) -> Callable[[nx.MultiDiGraph], None]:
    def edit(G: nx.MultiDiGraph) -> None:
        G.remove_edge(u, v, key=key)
    return edit


def test_the_world_is_built_from_the_scenario_with_every_edge_type() -> None:
    seen: set[str] = set()
    for name in SCENARIOS:
        G = build_world(get_scenario(name))
        resolve_wiring(G)
        seen |= {d["type"] for _, _, d in G.edges(data=True)}
    assert seen == set(WORLD_EDGE_TYPES)
    G = build_world(_default())
    assert G.nodes["LendA"]["kind"] == "lending" and G.nodes["asset:EXT"]["kind"] == "asset"
    assert G.has_edge("CEX", "AlphaFund", key="credit")
    assert G.edges["CEX", "AlphaFund", "credit"]["amount_usd"] == 8e7


def test_an_unchanged_graph_runs_exactly_as_before() -> None:
    sc = _default()
    a = simulate(sc, seed=SEED)
    b = simulate(sc, seed=SEED, world=build_world(sc))
    pd.testing.assert_frame_equal(a.events, b.events)


def test_price_feed_edge_carries_the_manipulated_mark() -> None:
    """Mango: the venue marks MNGO to an oracle reading the pumped pool. Without that edge it
    marks to the external market, and the attacker cannot borrow against a fake price."""
    sc = get_scenario("mango")
    with_edge = _run_edited(sc)
    without = _run_edited(sc, _remove("MNGO-oracle", "Mango", "price_feed:MNGO"))
    taken = [m.perps[0].attacker_withdrawn_usd for m in (with_edge, without)]
    assert taken[0] > 1e8
    assert taken[1] < 0.05 * taken[0]


def test_liquidity_edge_carries_liquidation_sales_into_the_pool() -> None:
    """Default: LendA and LendB sell seized ETH into ETH/USDC, whose TWAP LendB's oracle
    reads. Without those edges the sales go to the external book and the pool never trades
    below the market by more than its arbitrage lag."""
    sc = _default()

    def cut(G: nx.MultiDiGraph) -> None:
        for venue in ("LendA", "LendB"):
            G.remove_edge(venue, "ETH/USDC", key="liquidity:ETH")

    gaps = []
    for edit in (None, cut):
        model = _run_edited(sc, edit)
        s = model.datacollector.get_model_vars_dataframe()
        gaps.append(float((s["pool_ETH/USDC"] / s["price_ETH"] - 1).min()))
    assert gaps[0] < gaps[1] - 0.005  # the sales pushed the pool below the market
    assert gaps[1] > -0.01


def test_backstop_edge_pays_bad_debt_and_can_be_rewired() -> None:
    sc = _default()
    base = _run_edited(sc).events_frame
    draws = base[base["kind"] == "fund_draw"]
    assert draws.loc[draws["venue"] == "PerpX", "value_usd"].sum() > 1e5
    cut = _run_edited(sc, _remove("PerpX-Insurance", "PerpX", "backstop")).events_frame
    cut_draws = cut[cut["kind"] == "fund_draw"]
    assert cut_draws.loc[cut_draws["venue"] == "PerpX", "value_usd"].sum() == 0

    def rewire(G: nx.MultiDiGraph) -> None:  # LendB's fund now backs PerpX instead
        G.remove_edge("PerpX-Insurance", "PerpX", key="backstop")
        G.add_edge("LendB-Fund", "PerpX", key="backstop", type="backstop")

    moved = _run_edited(sc, rewire).events_frame
    moved_draws = moved[(moved["kind"] == "fund_draw") & (moved["venue"] == "PerpX")]
    assert len(moved_draws) > 0
    assert set(moved_draws["agent"]) == {"LendB-Fund"}


def _caused_by(events: pd.DataFrame, root_kind: str, venue: str, kind: str, at: str) -> int:
    """How many ``kind`` events at venue ``at`` trace back to a ``root_kind`` event of ``venue``."""
    roots = set(events.loc[(events["kind"] == root_kind) & (events["venue"] == venue), "event_id"])
    rows = events[(events["kind"] == kind) & (events["venue"] == at)]
    return sum(bool(roots & set(trace_cause(events, int(e)))) for e in rows["event_id"])


def test_cross_margin_edge_carries_the_custodians_default_to_the_perp_venue() -> None:
    sc = _default()
    base = _run_edited(sc).events_frame
    assert _caused_by(base, "default", "CEX", "perp_liquidation", "PerpX") > 0
    cut = _run_edited(sc, _remove("CEX", "PerpX", "cross_margin")).events_frame
    assert _caused_by(cut, "default", "CEX", "perp_liquidation", "PerpX") == 0


def test_credit_edge_carries_the_borrowers_default_to_its_lender() -> None:
    sc = _default()
    base = _run_edited(sc).events_frame
    losses = base[base["kind"] == "loan_loss"]
    assert losses[["venue", "agent"]].values.tolist() == [["CEX", "AlphaFund"]]
    world = build_world(sc)
    world.remove_edge("CEX", "AlphaFund", key="credit")
    cut = simulate(sc, seed=SEED, world=world).events
    assert not (cut["kind"] == "loan_loss").any()
    assert not ((cut["kind"] == "loan_recall") & (cut["agent"] == "AlphaFund")).any()


def test_credit_and_supply_edges_cannot_change_after_set_up() -> None:
    for u, v, key in (("CEX", "AlphaFund", "credit"), ("CEX", "LendA", "supply")):
        model = ContagionModel(_default(), seed=SEED)
        model.graph.edges[u, v, key]["amount_usd"] = 1.0
        with pytest.raises(ParameterError, match=rf"graph {key} edge {u}->{v}.*world=") as info:
            model.step()
        assert "set balance sheets at set-up" in str(info.value)


def test_supply_edge_makes_the_lender_owe_the_custodian() -> None:
    sc = _default()
    model = ContagionModel(sc, seed=SEED)
    assert model.lending[0].supply_nominal["CEX"] == 2e7
    assert model.custodial[0].lending is model.lending[0]
    world = build_world(sc)
    world.remove_edge("CEX", "LendA", key="supply")
    cut = ContagionModel(sc, seed=SEED, world=world)
    assert "CEX" not in cut.lending[0].supply_nominal
    assert cut.custodial[0].lending is None
    # the money it did not supply is among its other (illiquid) assets: same balance sheet
    assert cut.custodial[0].illiquid_usd == pytest.approx(model.custodial[0].illiquid_usd + 2e7)


def test_issues_edge_crashes_the_defaulted_issuers_token() -> None:
    sc = _default()
    base = _run_edited(sc)
    ev = base.events_frame
    assert ev.loc[ev["kind"] == "token_crash", "asset"].tolist() == ["EXT"]
    cut = _run_edited(sc, _remove("CEX", "asset:EXT", "issues:EXT"))
    ev2 = cut.events_frame
    assert "CEX" in set(ev2.loc[ev2["kind"] == "default", "venue"])
    assert not (ev2["kind"] == "token_crash").any()
    ext = cut.market.index["EXT"]
    assert cut.market.price[ext] > 3 * base.market.price[ext]


def test_tops_up_edge_carries_a_cohorts_wallets_to_the_venue() -> None:
    """The isolated traders who defend their positions repay LendA's debt from their
    wallets; cut that cohort's edge and they stop (the cross cohort still does), and LendA
    liquidates more of them."""
    sc = _default()
    base = _run_edited(sc)
    cut = _run_edited(sc, _remove("traders:isolated", "LendA", "tops_up"))

    def at_lend_a(m: ContagionModel, kind: str) -> pd.DataFrame:
        ev = m.events_frame
        return ev[(ev["kind"] == kind) & (ev["venue"] == "LendA")]

    repaid = [at_lend_a(m, "margin_topup")["value_usd"].sum() for m in (base, cut)]
    assert repaid[0] > 0 and 0 < repaid[1] < 0.6 * repaid[0]
    liquidated = [at_lend_a(m, "liquidation")["account"].nunique() for m in (base, cut)]
    assert liquidated[1] > liquidated[0]
    # only the isolated cohort stopped: its members' LendA rows are out of the top-up mask
    pop, v = cut.population, cut.lending[0]
    own = v.book.owner
    mask = pop._topup_mask(v)
    traders = (own >= 0) & (own < pop.n)
    assert not mask[traders & ~pop.cross[np.minimum(own, pop.n - 1)]].any()
    assert mask[traders & pop.cross[np.minimum(own, pop.n - 1)]].any()
    # the cohorts are nodes of the world, wired to every margin venue
    G = build_world(sc)
    assert G.nodes["traders:cross"]["kind"] == "traders"
    assert sorted(v for _, v, d in G.out_edges("traders:cross", data=True)
                  if d["type"] == "tops_up") == ["LendA", "LendB", "PerpX"]


@pytest.mark.parametrize(("edit", "words"), [
    (lambda G: G.add_edge("EXT-spot", "LendA", key="price_feed:EXT", type="price_feed",
                          asset="EXT"), None),
    (lambda G: G.add_edge("ETH-feed", "LendA", key="price_feed:EXT", type="price_feed",
                          asset="EXT"), "the oracle's own asset, 'ETH'"),
    (lambda G: G.add_edge("ETH/USDC", "LendA", key="x", type="price_feed", asset="ETH"),
     "pool -> lending"),
    (lambda G: G.add_edge("LendA", "LendB", key="x", type="rumour"), "an edge type in"),
    (lambda G: G.add_edge("traders:cross", "CEX", key="x", type="tops_up"),
     "traders -> lending or perp"),
    (lambda G: G.add_edge("CEX", "ETH/USDC", key="x", type="liquidity"), "the asset it carries"),
    (lambda G: G.add_edge("LendB-Fund", "LendA", key="x", type="backstop"), "one per venue"),
    (lambda G: G.add_edge("LendA", "EXT/USDC", key="x", type="liquidity", asset="ETH")
     if not G.remove_edge("LendA", "ETH/USDC", key="liquidity:ETH") else None,
     "the pool's base asset, 'EXT'"),
    (lambda G: G.add_edge("EXT-spot", "PerpX", key="x", type="price_feed", asset="ETH")
     if not G.remove_edge("ETH-feed", "PerpX", key="price_feed:ETH") else None,
     "the oracle's own asset, 'EXT'"),
])
def test_bad_edges_are_refused_naming_the_edge(edit: Callable[[nx.MultiDiGraph], None],
                                               words: str | None) -> None:
    model = ContagionModel(_default(), seed=SEED)
    edit(model.graph)
    if words is None:  # a feed of an asset the venue does not take is simply not read
        model.step()
        return
    with pytest.raises(ParameterError, match="graph edge") as info:
        model.step()
    assert words in str(info.value)


def test_a_world_naming_unknown_nodes_is_refused() -> None:
    world = build_world(_default())
    world.add_node("Ghost", kind="lending")
    with pytest.raises(ParameterError, match="'Ghost'"):
        ContagionModel(_default(), seed=SEED, world=world)


def test_conservation_holds_with_channels_cut() -> None:
    sc = _default()
    model = ContagionModel(sc, seed=SEED, check_conservation=True)
    for u, v, k in [("LendA", "ETH/USDC", "liquidity:ETH"), ("CEX", "PerpX", "cross_margin"),
                    ("ETH-feed", "PerpX", "price_feed:ETH"), ("CEX", "asset:EXT", "issues:EXT")]:
        model.graph.remove_edge(u, v, key=k)
    model.run()
    assert np.isfinite(model.datacollector.get_model_vars_dataframe()["bad_debt_usd"]).all()


def test_an_issues_edge_added_by_hand_crashes_that_token() -> None:
    """A user adds an edge with nothing but its type: the engine reads it all the same."""
    sc = _default()

    def issue_lnd_by_cex(G: nx.MultiDiGraph) -> None:
        G.remove_edge("LendA", "asset:LND", key="issues:LND")
        G.add_edge("CEX", "asset:LND", type="issues")

    model = _run_edited(sc, issue_lnd_by_cex)
    ev = model.events_frame
    crashed = ev[ev["kind"] == "token_crash"]
    assert set(crashed["asset"]) == {"EXT", "LND"}
    assert set(crashed["venue"]) == {"CEX"}
