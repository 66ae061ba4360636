"""The dashboard's figure builders, on a real (small) run of the default scenario."""

from __future__ import annotations

import json
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from contagion.network import NODE_STATES
from contagion.runner import RunResult, simulate
from dashboard.figures import (
    CURSOR_INDEX,
    STATE_COLOURS,
    compare_figure,
    compare_table,
    cursor_shape,
    figure_html,
    node_figure,
    set_cursor,
    timeseries_figure,
)
from dashboard.network_view import (
    cohort_members,
    network_elements,
    network_stylesheet,
    node_positions,
)
from models import get_scenario


@pytest.fixture(scope="session")
def run() -> RunResult:
    """The default scenario, 300 traders, seed 0 (ETH crash; AlphaFund, CEX, LendB default)."""
    return simulate(get_scenario("default", n_traders=300), seed=0)


@pytest.fixture(scope="session")
def big_run() -> RunResult:
    """The default scenario with 2,000 traders: the size the network view must handle."""
    return simulate(get_scenario("default", n_traders=2000), seed=0)


@pytest.fixture(scope="session")
def oracles(run: RunResult) -> dict[str, str]:
    return {o.name: o.asset for o in run.scenario.oracles}


def _drawn_traders(run: RunResult) -> int:
    """Traders in the graph: those with an account at some venue (wallet-only ones are not)."""
    return sum(d["kind"] == "trader" for _, d in run.network.nodes(data=True))


def _nodes(elements: list[dict]) -> dict[str, dict]:
    return {e["data"]["id"]: e for e in elements if "source" not in e["data"]}


def _edges(elements: list[dict]) -> list[dict]:
    return [e for e in elements if "source" in e["data"]]


def _every_cohort(run: RunResult) -> set[str]:
    return set(cohort_members(run.network, run.events))


def _default_step(run: RunResult, venue: str) -> int:
    ev = run.events
    return int(ev.loc[(ev["kind"] == "default") & (ev["venue"] == venue), "step"].iloc[0])


# ---------------------------------------------------------------- colours
def test_state_colours_cover_every_node_state_with_distinct_colours() -> None:
    assert set(STATE_COLOURS) == set(NODE_STATES)
    assert len(set(STATE_COLOURS.values())) == len(STATE_COLOURS)


def test_a_drained_fund_is_told_apart_from_a_default_even_in_greyscale() -> None:
    def grey(hex_colour: str) -> float:  # Rec. 601 luma, 0-255
        r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    drained = grey(STATE_COLOURS["drained"])
    for state, colour in STATE_COLOURS.items():
        if state != "drained":
            assert abs(drained - grey(colour)) >= 40, state


# ---------------------------------------------------------------- time series
def test_timeseries_figure_has_price_rows_then_one_row_per_mechanism(
        run: RunResult, oracles: dict[str, str]) -> None:
    fig = timeseries_figure(run.series, oracles=oracles, step=10)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[0].startswith("ETH:")
    assert {"LND: market vs pool vs oracle price", "EXT: market vs pool vs oracle price"} <= set(titles)
    assert titles[-5:] == ["Liquidations per step", "Price impact per pool (this step)",
                           "Cumulative losses", "Insurance fund balances", "Defaults (count)"]
    names = {t.name for t in fig.data}
    assert {"ETH market", "pool ETH/USDC", "oracle ETH-feed", "oracle ETH-twap", "bad debt",
            "PerpX-Insurance", "defaults"} <= names
    assert all(len(t.x) == len(run.series) for t in fig.data)
    assert fig.layout.uirevision


def test_timeseries_figure_puts_liquidation_count_on_a_secondary_axis(
        run: RunResult, oracles: dict[str, str]) -> None:
    fig = timeseries_figure(run.series, oracles=oracles)
    usd = next(t for t in fig.data if t.name == "liquidated (USD)")
    count = next(t for t in fig.data if t.name == "liquidations (count)")
    assert isinstance(usd, go.Bar)
    axis = "yaxis" + count.yaxis.removeprefix("y")
    assert fig.layout[axis].overlaying == usd.yaxis


def test_timeseries_figure_skips_rows_whose_columns_are_absent(run: RunResult) -> None:
    series = run.series[["price_ETH", "oracle_ETH-feed", "defaults"]]
    fig = timeseries_figure(series, oracles={"ETH-feed": "ETH", "EXT-spot": "EXT"})
    assert [a.text for a in fig.layout.annotations] == ["ETH: market vs pool vs oracle price",
                                                        "Defaults (count)"]


def test_timeseries_figure_draws_price_rows_only_for_the_assets_asked(
        run: RunResult, oracles: dict[str, str]) -> None:
    fig = timeseries_figure(run.series, oracles=oracles, assets=["EXT"])
    prices = [a.text for a in fig.layout.annotations if "price" in a.text and "impact" not in a.text]
    assert prices == ["EXT: market vs pool vs oracle price"]


def test_cursor_is_the_first_shape_and_spans_every_row(run: RunResult,
                                                      oracles: dict[str, str]) -> None:
    fig = timeseries_figure(run.series, oracles=oracles, step=42)
    shape = fig.layout.shapes[CURSOR_INDEX]
    assert (shape.name, shape.x0, shape.x1, shape.xref, shape.yref, shape.y0, shape.y1) == (
        "cursor", 42, 42, "x", "paper", 0, 1)
    assert fig.layout.shapes[CURSOR_INDEX].to_plotly_json() == cursor_shape(42)


def test_set_cursor_moves_the_shape_of_a_figure_and_of_its_dict(
        run: RunResult, oracles: dict[str, str]) -> None:
    fig = timeseries_figure(run.series, oracles=oracles, step=3)
    as_dict = fig.to_dict()
    set_cursor(fig, 77)
    assert (fig.layout.shapes[0].x0, fig.layout.shapes[0].x1) == (77, 77)
    set_cursor(as_dict, 5)
    cursor = as_dict["layout"]["shapes"][0]
    assert (cursor["name"], cursor["x0"], cursor["x1"], cursor["visible"]) == ("cursor", 5, 5, True)
    assert len(as_dict["layout"]["shapes"]) == 1


def test_set_cursor_adds_a_cursor_to_a_figure_without_one() -> None:
    fig = set_cursor(go.Figure(), 9)
    assert isinstance(fig, go.Figure)
    assert fig.layout.shapes[0].name == "cursor" and fig.layout.shapes[0].x0 == 9


def test_cursor_without_a_step_is_hidden() -> None:
    assert cursor_shape(None)["visible"] is False


# ---------------------------------------------------------------- network
def test_network_elements_show_cex_healthy_at_step_zero_and_defaulted_at_the_end(
        run: RunResult) -> None:
    last = int(run.series.index.max())
    start = _nodes(network_elements(run.network, run.node_states, run.events, 0))
    end = _nodes(network_elements(run.network, run.node_states, run.events, last))
    assert start["CEX"]["data"]["state"] == "healthy"
    assert start["CEX"]["classes"].split()[:2] == ["custodial", "healthy"]
    assert end["CEX"]["data"]["state"] == "defaulted"
    assert end["CEX"]["classes"].split()[:2] == ["custodial", "defaulted"]


def test_network_elements_mark_the_defaulting_venue_and_liquidated_accounts_as_events(
        run: RunResult) -> None:
    step = _default_step(run, "CEX")
    nodes = _nodes(network_elements(run.network, run.node_states, run.events, step))
    assert "event" in nodes["CEX"]["classes"].split()
    assert "event" in nodes["cohort:PerpX"]["classes"].split()  # its traders were liquidated
    ev = run.events[(run.events["step"] == step) & (run.events["kind"] == "perp_liquidation")]
    assert len(ev)
    nodes = _nodes(network_elements(run.network, run.node_states, run.events, step,
                                    expand={"cohort:PerpX"}))
    for account in ev["account"]:
        assert "event" in nodes[f"trader:{account}"]["classes"].split()
    quiet = _nodes(network_elements(run.network, run.node_states, run.events, 0))
    assert not any("event" in n["classes"].split() for n in quiet.values())


def test_network_elements_keep_every_node_and_edge_with_every_cohort_expanded(
        run: RunResult) -> None:
    els = network_elements(run.network, run.node_states, run.events, 20,
                           expand=_every_cohort(run), node_limit=10_000)
    nodes, edges = _nodes(els), _edges(els)
    assert set(nodes) == {str(n) for n in run.network.nodes}
    assert len(edges) == run.network.number_of_edges()
    assert all(e["data"]["source"] in nodes and e["data"]["target"] in nodes for e in edges)
    assert {e["classes"].split()[0] for e in edges} == \
        {d["type"] for *_, d in run.network.edges(data=True)}


def test_network_elements_sizes_and_widths_stay_in_their_pixel_ranges(run: RunResult) -> None:
    els = network_elements(run.network, run.node_states, run.events, 52)
    sizes = [n["data"]["size"] for n in _nodes(els).values()]
    widths = [e["data"]["width"] for e in _edges(els)]
    assert min(sizes) >= 12 and max(sizes) == 60
    assert min(widths) >= 1 and max(widths) == 8


def test_network_elements_are_json_serialisable(run: RunResult) -> None:
    els = network_elements(run.network, run.node_states, run.events, 52,
                           expand={"cohort:LendA"}, node_limit=50)
    assert json.loads(json.dumps(els)) == els


def test_traders_are_grouped_into_one_cohort_per_venue_by_default(run: RunResult) -> None:
    els = network_elements(run.network, run.node_states, run.events, 60)
    nodes = _nodes(els)
    cohorts = {k: n["data"] for k, n in nodes.items() if n["data"]["kind"] == "cohort"}
    assert not any(n["data"]["kind"] == "trader" for n in nodes.values())
    assert set(cohorts) == {"cohort:LendA", "cohort:LendB", "cohort:PerpX", "cohort:CEX"}
    members = cohort_members(run.network, run.events)
    assert len(set().union(*members.values())) == _drawn_traders(run) > 250  # nobody lost
    assert all(c["label"] == f"{k[len('cohort:'):]} traders ({c['members']:,})"
               for k, c in cohorts.items())
    assert all(0.0 <= c["liquidated_share"] <= 1.0 for c in cohorts.values())
    assert {"LendA", "PerpX", "CEX", "ETH-feed", "PerpX-Insurance", "ETH/USDC"} <= set(nodes)
    states = run.node_states[(run.node_states["step"] == 60) & (run.node_states["kind"] == "trader")]
    state = dict(zip(states["node"], states["state"], strict=True))
    for cid, c in cohorts.items():  # a trader at two venues counts in both
        assert c["members"] == len(members[cid])
        liquidated = sum(state[t] == "liquidated" for t in members[cid])
        assert round(c["liquidated_share"] * c["members"]) == liquidated


def test_cohort_grouping_sums_edge_weights_per_type(run: RunResult) -> None:
    els = network_elements(run.network, run.node_states, run.events, 60)
    grouped = pd.DataFrame([e["data"] for e in _edges(els)]).groupby("type")["weight"].sum()
    original = pd.Series([d["weight"] for *_, d in run.network.edges(data=True)],
                         index=[d["type"] for *_, d in run.network.edges(data=True)])
    pd.testing.assert_series_equal(grouped.sort_index(),
                                   original.groupby(level=0).sum().sort_index(),
                                   check_names=False, rtol=1e-9)


def test_network_elements_handle_2000_traders_individually_or_grouped(big_run: RunResult) -> None:
    r = big_run
    single = _nodes(network_elements(r.network, r.node_states, r.events, 52,
                                     expand=_every_cohort(r), node_limit=10_000))
    assert sum(n["data"]["kind"] == "trader" for n in single.values()) == _drawn_traders(r) > 1500
    grouped = _nodes(network_elements(r.network, r.node_states, r.events, 52))
    cohorts = [n["data"] for n in grouped.values() if n["data"]["kind"] == "cohort"]
    assert 0 < len(cohorts) <= 16 and sum(c["members"] for c in cohorts) >= _drawn_traders(r)


def test_network_elements_fall_back_to_graph_states_without_node_states(run: RunResult) -> None:
    nodes = _nodes(network_elements(run.network, run.node_states.iloc[:0], run.events, 0))
    assert nodes["CEX"]["data"]["state"] == run.network.nodes["CEX"]["state"]


def test_network_stylesheet_colours_every_state_and_shapes_every_kind() -> None:
    sheet = network_stylesheet()
    selectors = {s["selector"]: s["style"] for s in sheet}
    for state, colour in STATE_COLOURS.items():
        assert selectors[f"node.{state}"]["background-color"] == colour
    for kind in ("lending", "perp", "custodial", "firm", "trader", "cohort", "oracle", "fund", "pool"):
        assert "shape" in selectors[f"node.{kind}"]
    assert selectors["node.oracle"]["shape"] == "diamond"
    assert selectors["node.fund"]["shape"] == "hexagon"
    assert selectors["node.event"]["underlay-padding"] >= 4  # a halo, not a border
    assert selectors["node"]["width"] == "data(size)"
    assert selectors["edge"]["width"] == "data(width)"
    for edge_type in ("collateral", "debt", "cross_margin", "price_feed", "backstop",
                      "token_collateral", "credit", "liquidity"):
        assert f"edge.{edge_type}" in selectors


# ---------------------------------------------------------------- node figure
def test_node_figure_shows_a_venues_balance_sheet_and_its_default(run: RunResult) -> None:
    fig = node_figure("CEX", run.venues, run.node_states)
    assert [t.name for t in fig.data] == ["assets", "liabilities", "equity", "bad debt"]
    assert all(len(t.y) == len(run.series) for t in fig.data)
    assert any(f"step {_default_step(run, 'CEX')}" in (a.text or "") for a in fig.layout.annotations)


def test_node_figure_shows_a_traders_exposure_with_state_markers(run: RunResult) -> None:
    account = int(run.events.loc[run.events["kind"] == "liquidation", "account"].iloc[0])
    fig = node_figure(f"trader:{account}", run.venues, run.node_states)
    names = [t.name for t in fig.data]
    assert names[0] == "exposure" and "liquidated" in names
    marker = next(t for t in fig.data if t.name == "liquidated")
    assert marker.marker.color == STATE_COLOURS["liquidated"]


def test_node_figure_of_a_grouped_cohort_sums_its_traders(run: RunResult) -> None:
    els = network_elements(run.network, run.node_states, run.events, 60)
    cohort = max((n["data"] for n in _nodes(els).values() if n["data"]["kind"] == "cohort"),
                 key=lambda d: d["members"])
    fig = node_figure(cohort["id"], run.venues, run.node_states, network=run.network,
                      events=run.events)
    members = {t.name: t for t in fig.data if t.name.startswith("members")}
    assert set(members) == {"members healthy", "members at_risk", "members liquidated"}
    total = sum(members[n].y[0] for n in members)
    assert total == cohort["members"]


def test_node_figure_without_records_says_so(run: RunResult) -> None:
    fig = node_figure("ETH-feed", run.venues, run.node_states)
    assert not fig.data and "No per-step record" in fig.layout.annotations[0].text


# ---------------------------------------------------------------- comparison
def test_compare_figure_overlays_both_runs_in_six_panels(run: RunResult) -> None:
    other = run.series.assign(bad_debt_usd=run.series["bad_debt_usd"] * 2)
    fig = compare_figure(run.series, other, labels=("base", "doubled"))
    assert len(fig.layout.annotations) == 6 and len(fig.data) == 12
    assert [t.name for t in fig.data[:2]] == ["base", "doubled"]
    bad = [t for t in fig.data if t.xaxis == "x2"]
    assert bad[1].y[-1] == pytest.approx(2 * bad[0].y[-1])
    cum = fig.data[0]
    assert cum.y[-1] == pytest.approx(run.series["liquidation_usd"].sum())


def test_compare_table_difference_is_b_minus_a(run: RunResult) -> None:
    b = dict(run.summary, defaults=0, bad_debt_usd=run.summary["bad_debt_usd"] + 1e6,
             venues_hit=["PerpX"])
    table = compare_table(run.summary, b, labels=("shocked", "calmer"))
    assert list(table.columns) == ["metric", "shocked", "calmer", "difference"]
    assert list(table["metric"]) == [
        "defaults", "venues hit", "cascade depth", "accounts liquidated",
        "liquidation volume (USD)", "bad debt (USD)", "insolvent debt (USD)",
        "socialised loss (USD)", "ADL (USD)", "fund used (USD)"]
    pd.testing.assert_series_equal(table["difference"], table["calmer"] - table["shocked"],
                                   check_names=False)
    row = table.set_index("metric")
    assert row.loc["defaults", "difference"] == -3
    assert row.loc["venues hit", "shocked"] == 3 and row.loc["venues hit", "calmer"] == 1
    assert row.loc["bad debt (USD)", "difference"] == pytest.approx(1e6)


def test_compare_table_keeps_equal_labels_apart(run: RunResult) -> None:
    table = compare_table(run.summary, run.summary, labels=("x = 1", "x = 1"))
    assert list(table.columns) == ["metric", "x = 1 (A)", "x = 1 (B)", "difference"]
    assert (table["difference"] == 0).all()


def test_figure_html_is_a_standalone_page_with_plotly_inlined(run: RunResult,
                                                            oracles: dict[str, str]) -> None:
    html = figure_html(timeseries_figure(run.series, oracles=oracles))
    assert "<html>" in html and "</html>" in html
    assert not re.search(r"<script[^>]+src=", html)
    assert "Cumulative losses" in html


def test_every_figure_has_data_for_the_sample(run: RunResult, oracles: dict[str, str]) -> None:
    figures = [
        timeseries_figure(run.series, oracles=oracles, step=0),
        node_figure("LendB", run.venues, run.node_states),
        node_figure("trader:0", run.venues, run.node_states),
        node_figure("PerpX-Insurance", run.venues, run.node_states),
        compare_figure(run.series, run.series, labels=("a", "b")),
    ]
    for fig in figures:
        assert fig.data and all(len(t.y) > 0 for t in fig.data)


def test_network_elements_accept_a_graph_read_back_from_json(run: RunResult, tmp_path) -> None:
    data = nx.node_link_data(run.network, edges="edges")
    G = nx.node_link_graph(json.loads(json.dumps(data, default=float)), directed=True,
                           multigraph=True, edges="edges")
    els = network_elements(G, run.node_states, run.events, 10, expand=_every_cohort(run),
                           node_limit=10_000)
    assert len(_nodes(els)) == run.network.number_of_nodes()


def test_node_positions_are_fixed_and_cover_every_node(run: RunResult) -> None:
    els = network_elements(run.network, run.node_states, run.events, 0)
    pos = node_positions(els)
    nodes = [e["data"]["id"] for e in els if "source" not in e["data"]]
    assert set(pos) == set(nodes)
    assert pos == node_positions(els)  # deterministic: the view does not jump between steps
    # layers: oracles and pools above the venues, funds and firms below, cohorts at the bottom
    y = {n: p["y"] for n, p in pos.items()}
    assert y["ETH-feed"] == y["ETH/USDC"] < y["CEX"] == y["LendA"] < y["PerpX-Insurance"] \
        == y["AlphaFund"] < y["cohort:CEX"]


def test_axes_print_dollars_and_prices_as_people_write_them() -> None:
    """Issue 10: no '$500m' for half a dollar (d3's SI milli) and no '1.21e+05' for a price."""
    from dashboard.figures import PRICE_AXIS, USD_AXIS, compact_figure, timeseries_figure

    s = pd.DataFrame({"price_BTC": [121_000.0, 118_000.0], "oracle_BTC-feed": [121_000.0,
                      119_000.0], "bad_debt_usd": [0.0, 0.5], "socialised_usd": [0.0, 0.0],
                      "adl_usd": [0.0, 0.0]}).rename_axis("step")
    assert USD_AXIS["tickprefix"] == "$" and USD_AXIS["exponentformat"] == "B"
    assert "~s" not in str(USD_AXIS) and "e" not in PRICE_AXIS["tickformat"].replace(",~r", "")
    for fig in (timeseries_figure(s, oracles={"BTC-feed": "BTC"}),
                compact_figure(s, oracles={"BTC-feed": "BTC"})):
        layout = fig.to_plotly_json()["layout"]
        axes = {k: v for k, v in layout.items() if k.startswith("yaxis")}
        formats = {v.get("tickformat") for v in axes.values()}
        assert ",~r" in formats  # the price row
        assert not any(f and ("~s" in f or "g" in f) for f in formats)
        assert any(v.get("tickprefix") == "$" for v in axes.values())  # the losses row


def test_market_features_get_their_rows_only_when_a_run_has_them() -> None:
    """Funding, utilisation, borrow rates and queued withdrawals (issue 12) are drawn for a run
    that switched them on, and nothing changes for one that did not."""
    from dataclasses import replace

    from contagion.params import InterestRateParams, SupplierRunParams
    from models import get_scenario

    plain = get_scenario("default", n_traders=200, steps=30)
    on = replace(plain, perps=tuple(replace(p, funding=True) for p in plain.perps),
                 lending=tuple(replace(v, rates=InterestRateParams(),
                                       supplier_run=SupplierRunParams()) for v in plain.lending))
    titles = {}
    for name, sc in (("plain", plain), ("on", on)):
        res = simulate(sc, seed=0)
        fig = timeseries_figure(res.series, oracles={o.name: o.asset for o in sc.oracles})
        titles[name] = [a.text for a in fig.layout.annotations]
    added = [t for t in titles["on"] if t not in titles["plain"]]
    assert added == ["Perp funding rate per period (longs pay when positive)",
                     "Lending utilisation (debt / supply)", "Borrow rate (yearly)",
                     "Supplier withdrawals waiting for cash"], added
    assert titles["plain"] == [t for t in titles["on"] if t in titles["plain"]]


def test_portfolio_margin_and_greeks_get_rows_in_an_options_run() -> None:
    """A venue with portfolio margin and listed options (issue 12) adds the required margin and
    the traders' net delta and vega, each with one line per venue (and market), finite."""
    from contagion.scenario_file import load

    sc = load(Path(__file__).resolve().parents[1] / "data" / "options_pm_run.toml")
    res = simulate(sc, seed=0)
    fig = timeseries_figure(res.series, oracles={o.name: o.asset for o in sc.oracles})
    titles = [a.text for a in fig.layout.annotations]
    for title in ("Portfolio margin required (traders' maintenance)",
                  "Traders' net delta (units of the underlying)",
                  "Traders' net vega (USD per 1.00 of volatility)"):
        assert title in titles, titles
    names = {t.name for t in fig.data}
    assert {"OptX", "OptX_ETH"} <= names, names
    margin = res.series["portfolio_margin_OptX"]
    assert (margin > 0).all() and np.isfinite(res.series["vega_OptX_ETH"]).all()
