"""The network view and node panel on a Terra run: the peg, its reserve and the yield venue
are drawn, coloured by their state at each step, placed and inspectable."""

from __future__ import annotations

import json

import pytest

from contagion.runner import RunResult, simulate
from dashboard.callbacks import counterparties
from dashboard.figures import node_figure
from dashboard.network_view import (
    STATE_COLOURS,
    network_elements,
    network_stylesheet,
    node_positions,
)
from models.terra import terra_ust

NEW_NODES = {"Terra": "peg", "Terra reserve": "fund", "Anchor": "yield_venue"}


@pytest.fixture(scope="module")
def terra() -> RunResult:
    return simulate(terra_ust(n_traders=300), seed=1)


def _nodes(elements: list[dict]) -> dict[str, dict]:
    return {e["data"]["id"]: e for e in elements if "source" not in e["data"]}


def _colour(element: dict, sheet: list[dict]) -> tuple[str, str]:
    """The background colour and shape the stylesheet gives a node element's classes."""
    style: dict[str, str] = {}
    for rule in sheet:
        sel = rule["selector"]
        if sel.startswith("node.") and sel[len("node."):] in element["classes"].split():
            style.update(rule["style"])
    return style["background-color"], style["shape"]


def test_the_new_nodes_are_drawn_in_their_state_colour_at_each_step(terra: RunResult) -> None:
    sheet = network_stylesheet()
    last = int(terra.series.index.max())
    seen: dict[str, set[str]] = {n: set() for n in NEW_NODES}
    for step in (0, 3, 40, 100, last):
        nodes = _nodes(network_elements(terra.network, terra.node_states, terra.events, step))
        for name, kind in NEW_NODES.items():
            data = nodes[name]["data"]
            assert data["kind"] == kind
            colour, shape = _colour(nodes[name], sheet)
            assert colour == STATE_COLOURS[data["state"]]
            assert shape in {"peg": "octagon", "fund": "hexagon", "yield_venue": "barrel"}[kind]
            seen[name].add(data["state"])
    assert seen["Terra"] == {"healthy", "at_risk", "defaulted"}
    assert seen["Anchor"] == {"healthy", "at_risk", "drained"}
    assert seen["Terra reserve"] == {"healthy", "drained"}


def test_the_yield_venue_shrinks_as_its_depositors_leave(terra: RunResult) -> None:
    def size(step: int) -> float:
        els = network_elements(terra.network, terra.node_states, terra.events, step)
        return float(_nodes(els)["Anchor"]["data"]["size"])

    assert size(0) > size(60) > size(int(terra.series.index.max()))


def test_arbitrage_and_reserve_purchases_mark_the_peg_as_an_event(terra: RunResult) -> None:
    ev = terra.events
    arb = int(ev.loc[(ev["kind"] == "token_sale") & (ev["venue"] == "Terra arbitrageurs"),
                     "step"].iloc[0])
    nodes = _nodes(network_elements(terra.network, terra.node_states, terra.events, arb))
    assert "event" in nodes["Terra"]["classes"].split()
    draw = int(ev.loc[ev["kind"] == "fund_draw", "step"].iloc[0])
    nodes = _nodes(network_elements(terra.network, terra.node_states, terra.events, draw))
    assert {"event"} <= set(nodes["Terra reserve"]["classes"].split())
    assert "event" in nodes["Terra"]["classes"].split()  # "the UST peg" stands for Terra


def test_grouped_depositors_form_cohorts_of_the_yield_venue(terra: RunResult) -> None:
    els = network_elements(terra.network, terra.node_states, terra.events, 50, node_limit=20)
    nodes = _nodes(els)
    labels = [n["data"]["label"] for n in nodes.values() if n["data"]["kind"] == "cohort"]
    assert any("Anchor" in label for label in labels)
    assert set(NEW_NODES) <= set(nodes)
    assert json.loads(json.dumps(els)) == els


def test_the_peg_and_the_yield_venue_sit_in_the_row_of_venues(terra: RunResult) -> None:
    pos = node_positions(network_elements(terra.network, terra.node_states, terra.events, 0))
    assert pos["Terra"]["y"] == pos["Anchor"]["y"] == pos["LendT"]["y"]
    # the reserve sits in the row of funds, next to the peg it backs
    assert pos["Terra reserve"]["y"] == pos["LendT-Fund"]["y"] > pos["Terra"]["y"]
    assert 0 < pos["Terra reserve"]["x"] - pos["Terra"]["x"] < 150


def test_the_node_panel_shows_balance_sheets_and_counterparties(terra: RunResult) -> None:
    for name in ("Terra", "Anchor"):
        fig = node_figure(name, terra.venues, terra.node_states, network=terra.network)
        assert [t.name for t in fig.data] == ["assets", "liabilities", "equity", "bad debt"]
        assert "balance sheet" in fig.layout.title.text
    reserve = node_figure("Terra reserve", terra.venues, terra.node_states, network=terra.network)
    assert {t.name for t in reserve.data} >= {"healthy", "drained"}  # state markers
    table = counterparties(terra.network, "Terra")
    assert {("LendT", "token_collateral", "out"), ("Terra reserve", "backstop", "in"),
            ("UST/USDC", "liquidity", "out"), ("LUNA/USDC", "liquidity", "out")} <= set(
        zip(table["counterparty"], table["type"], table["direction"], strict=True))
    deposits = counterparties(terra.network, "Anchor", top=1000)
    assert (deposits["type"] == "collateral").sum() == terra.network.nodes["Anchor"]["depositors"]
