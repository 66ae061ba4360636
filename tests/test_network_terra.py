"""The exposure graph of the Terra preset: the peg, its reserve and the yield venue as nodes,
their typed edges and weights, their states over a run, the venue-table rows, export and
import; and the default scenario's graph left as it was."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from contagion.model import ContagionModel
from contagion.network import (
    EDGE_TYPES,
    PEG_BROKEN_DEPEG_FRAC,
    YIELD_DRAINED_FRAC,
    build_network,
    read_network,
    venue_exposure_matrix,
    write_network,
)
from contagion.runner import RunResult, simulate
from models import get_scenario
from models.terra import BTC_PRICE, LFG_BTC, LUNA_PRICE, LUNA_SUPPLY, SCALE, UST_SUPPLY, terra_ust

N_TRADERS = 300
RESERVE_USD = LFG_BTC * BTC_PRICE * SCALE
DEPOSITS_USD = 0.7 * UST_SUPPLY * SCALE  # Anchor's deposits in the preset


@pytest.fixture(scope="module")
def terra() -> RunResult:
    return simulate(terra_ust(n_traders=N_TRADERS), seed=1, check_conservation=True)


@pytest.fixture(scope="module")
def start() -> nx.MultiDiGraph:
    """The preset's graph before the first step."""
    return build_network(ContagionModel(terra_ust(n_traders=N_TRADERS), seed=1))


def _edge(G: nx.MultiDiGraph, s: str, d: str, kind: str) -> float:
    return float(G.edges[s, d, kind]["weight"])


def _states(r: RunResult, node: str) -> pd.Series:
    ns = r.node_states
    return ns[ns["node"] == node].set_index("step")["state"]


def test_the_peg_its_reserve_and_the_yield_venue_are_nodes(start: nx.MultiDiGraph) -> None:
    peg, reserve, anchor = start.nodes["Terra"], start.nodes["Terra reserve"], start.nodes["Anchor"]
    assert (peg["kind"], reserve["kind"], anchor["kind"]) == ("peg", "fund", "yield_venue")
    assert {peg["state"], reserve["state"], anchor["state"]} == {"healthy"}
    assert peg["exposure_usd"] == pytest.approx(UST_SUPPLY * SCALE)  # the supply at par
    assert peg["reserve_usd"] == pytest.approx(RESERVE_USD)
    assert (peg["stable"], peg["token"]) == ("UST", "LUNA")
    assert peg["token_supply_units"] * peg["token_price_usd"] == pytest.approx(
        LUNA_SUPPLY * SCALE * LUNA_PRICE)
    assert anchor["exposure_usd"] == pytest.approx(DEPOSITS_USD)
    assert anchor["depositors"] > 100 and anchor["leaving"] == 0


def test_the_edges_say_who_is_exposed_to_whom_at_the_start(start: nx.MultiDiGraph) -> None:
    deposits = [(s, d) for s, _, d in start.in_edges("Anchor", data=True)]
    assert {d["type"] for _, d in deposits} == {"collateral"}
    assert all(start.nodes[s]["kind"] == "trader" for s, _ in deposits)
    assert len(deposits) == start.nodes["Anchor"]["depositors"]
    assert sum(d["weight"] for _, d in deposits) == pytest.approx(DEPOSITS_USD)
    # where leavers sell, where the arbitrage trades: nothing sold or converted yet
    assert _edge(start, "Anchor", "UST/USDC", "liquidity") == 0.0
    assert _edge(start, "Terra", "UST/USDC", "liquidity") == 0.0
    assert _edge(start, "Terra", "LUNA/USDC", "liquidity") == 0.0
    assert _edge(start, "Terra reserve", "Terra", "backstop") == pytest.approx(RESERVE_USD)
    # LendT accepts UST and LUNA, both issued by the peg: one edge, their summed value
    lendt_collateral = sum(d["weight"] for _, _, d in start.in_edges("LendT", data=True)
                           if d["type"] == "collateral")
    assert _edge(start, "Terra", "LendT", "token_collateral") == pytest.approx(lendt_collateral)
    assert lendt_collateral > 1e5
    names, M = venue_exposure_matrix(start)
    assert M[names.index("LendT"), names.index("Terra")] == pytest.approx(lendt_collateral)
    assert {d["type"] for _, _, d in start.edges(data=True)} <= set(EDGE_TYPES)


def test_the_weights_follow_the_run(terra: RunResult) -> None:
    G, s, ev = terra.network, terra.series, terra.events
    sold = ev.loc[(ev["kind"] == "withdrawal") & (ev["venue"] == "Anchor"), "value_usd"].sum()
    assert _edge(G, "Anchor", "UST/USDC", "liquidity") == pytest.approx(sold)
    burned = s["supply_UST"].iloc[0] - s["supply_UST"].iloc[-1]
    assert burned > 1e6
    for pool in ("UST/USDC", "LUNA/USDC"):
        assert _edge(G, "Terra", pool, "liquidity") == pytest.approx(burned)
    assert _edge(G, "Terra reserve", "Terra", "backstop") == pytest.approx(
        s["reserve_Terra"].iloc[-1])
    # every depositor keeps its edge; what is left is worth the deposits at UST's price
    deposits = [d["weight"] for _, _, d in G.in_edges("Anchor", data=True)]
    assert len(deposits) == G.nodes["Anchor"]["depositors"]
    assert sum(deposits) == pytest.approx(s["deposits_Anchor"].iloc[-1] * s["price_UST"].iloc[-1])
    assert G.nodes["Terra"]["exposure_usd"] == pytest.approx(s["supply_UST"].iloc[-1])


def test_the_peg_is_at_risk_after_the_sale_and_broken_once_its_reserve_is_spent(
        terra: RunResult) -> None:
    peg, reserve = _states(terra, "Terra"), _states(terra, "Terra reserve")
    assert peg[0] == "healthy" and peg[3] == "at_risk"  # the Curve sale, steps 2-3
    ev = terra.events
    spent = int(ev.loc[(ev["kind"] == "fund_exhausted") & (ev["agent"] == "Terra reserve"),
                       "step"].iloc[0])
    broken = int(peg.index[peg == "defaulted"].min())
    assert broken == spent  # UST is far below $0.90 by the time the reserve runs out
    assert terra.series["pool_UST/USDC"].iloc[broken] < 1 - PEG_BROKEN_DEPEG_FRAC
    assert (peg[peg.index < broken] != "defaulted").all() and peg.iloc[-1] == "defaulted"
    assert (reserve[reserve.index < spent] == "healthy").all()
    assert (reserve[reserve.index >= spent] == "drained").all()  # spent, not in default


def test_the_yield_venue_is_at_risk_while_depositors_leave_then_run_dry(
        terra: RunResult) -> None:
    anchor = _states(terra, "Anchor")
    deposits = terra.series["deposits_Anchor"]
    assert anchor[0] == "healthy" and anchor[3] == "at_risk"
    dry = int(anchor.index[anchor == "drained"].min())
    assert "defaulted" not in set(anchor)  # its depositors left; it did not fail to pay them
    assert dry == int(deposits.index[deposits < YIELD_DRAINED_FRAC * deposits.iloc[0]].min())
    exposure = terra.node_states.query("node == 'Anchor'")["exposure_usd"].to_numpy()
    assert exposure[0] == pytest.approx(DEPOSITS_USD) and exposure[-1] < 0.01 * DEPOSITS_USD


def test_without_the_sale_the_peg_and_the_yield_venue_stay_healthy() -> None:
    r = simulate(terra_ust(initial_sell_usd=0.0, steps=48, n_traders=N_TRADERS), seed=1)
    ns = r.node_states
    assert (ns.loc[ns["node"].isin(["Terra", "Terra reserve", "Anchor"]), "state"]
            == "healthy").all()


def test_the_venue_table_carries_their_balance_sheets_without_counting_a_default(
        terra: RunResult) -> None:
    v = terra.venues
    peg = v[v["venue"] == "Terra"].set_index("step")
    anchor = v[v["venue"] == "Anchor"].set_index("step")
    assert set(peg["kind"]) == {"peg"} and set(anchor["kind"]) == {"yield_venue"}
    assert peg.loc[0, "liabilities_usd"] == pytest.approx(UST_SUPPLY * SCALE)
    assert peg.loc[0, "assets_usd"] == pytest.approx(RESERVE_USD
                                                     + LUNA_SUPPLY * SCALE * LUNA_PRICE)
    assert peg.iloc[-1]["equity_usd"] < 0 < peg.loc[0, "equity_usd"]  # LUNA no longer backs UST
    assert peg.iloc[-1]["fund_paid_usd"] == pytest.approx(
        terra.series["reserve_Terra"].iloc[0] - terra.series["reserve_Terra"].iloc[-1], rel=0.05)
    assert anchor.loc[0, "assets_usd"] == anchor.loc[0, "liabilities_usd"] == pytest.approx(
        DEPOSITS_USD)
    assert anchor["at_risk"].max() > 50  # depositors leaving at once
    assert anchor.iloc[-1]["equity_usd"] < 0  # what is left is worth less than $1 a unit
    assert not v.loc[v["kind"].isin(["peg", "yield_venue"]), "defaulted"].any()
    assert terra.summary["defaulted"] == ["LendT"]
    assert terra.summary["defaults"] == terra.series["defaults"].iloc[-1]
    exposures = terra.exposures[terra.exposures["counterparty"] == "Terra"]
    assert set(exposures["holder"]) == {"LendT"}
    assert exposures["exposure_usd"].iloc[0] > exposures["exposure_usd"].iloc[-1] > 0


@pytest.mark.parametrize("suffix", [".json", ".graphml"])
def test_the_terra_network_round_trips(terra: RunResult, tmp_path: Path, suffix: str) -> None:
    G = terra.network
    back = read_network(write_network(G, tmp_path / f"terra{suffix}"))
    assert back.number_of_nodes() == G.number_of_nodes()
    assert back.number_of_edges() == G.number_of_edges()
    assert set(back.edges(keys=True)) == set(G.edges(keys=True))  # keys are the edge types
    for n in ("Terra", "Terra reserve", "Anchor"):
        assert {k: back.nodes[n][k] for k in ("kind", "state")} == {
            k: G.nodes[n][k] for k in ("kind", "state")}
        assert back.nodes[n]["exposure_usd"] == pytest.approx(G.nodes[n]["exposure_usd"])
    for s, d, k in [("Terra", "LendT", "token_collateral"), ("Anchor", "UST/USDC", "liquidity"),
                    ("Terra reserve", "Terra", "backstop")]:
        assert float(back.edges[s, d, k]["weight"]) == pytest.approx(_edge(G, s, d, k))


def test_grouped_depositors_are_cohorts_of_the_yield_venue() -> None:
    model = ContagionModel(terra_ust(n_traders=N_TRADERS), seed=1)
    G = build_network(model, node_limit=50)
    cohorts = {n: d for n, d in G.nodes(data=True) if d["kind"] == "cohort"}
    assert sum(d["members"] for d in cohorts.values()) == N_TRADERS
    into = [(s, d["weight"]) for s, _, d in G.in_edges("Anchor", data=True)]
    assert into and all(s in cohorts and "Anchor" in cohorts[s]["label"] for s, _ in into)
    assert sum(w for _, w in into) == pytest.approx(DEPOSITS_USD)


def test_the_default_scenario_graph_is_as_before_pegs_were_drawn() -> None:
    """Recorded on the default scenario (400 traders, seed 1) before the peg and yield-venue
    nodes existed: node kinds, edge types and summed weights at the start."""
    G = build_network(ContagionModel(get_scenario("default", n_traders=400), seed=1))
    assert Counter(d["kind"] for _, d in G.nodes(data=True)) == {
        "custodial": 1, "firm": 1, "fund": 3, "lending": 2, "oracle": 4, "perp": 1, "pool": 3,
        "trader": 352}
    assert Counter(d["type"] for _, _, d in G.edges(data=True)) == {
        "backstop": 3, "collateral": 614, "credit": 2, "cross_margin": 1, "debt": 255,
        "liquidity": 4, "price_feed": 5, "token_collateral": 2}
    weights: dict[str, float] = defaultdict(float)
    for _, _, d in G.edges(data=True):
        weights[d["type"]] += d["weight"]
    assert dict(weights) == pytest.approx({
        "backstop": 3.5e6, "collateral": 441665582.1, "credit": 1e8, "cross_margin": 19101054.14,
        "debt": 126841565.03, "liquidity": 0.0, "price_feed": 5.0,
        "token_collateral": 35807953.23}, rel=1e-9, abs=0.01)
