"""The network picture explains itself (issue 10): institutions and one cohort per venue by
default, traders on demand, readable labels on every preset, state in colour and pattern,
a legend built from the stylesheet's own tables, tooltips with the node's numbers."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from contagion.runner import RunResult, simulate
from dashboard.legend import SHAPES, legend, legend_keys
from dashboard.network_view import (
    DASH_PATTERNS,
    EDGE_STYLES,
    EVENT_HALO,
    KIND_STYLES,
    LABEL_FONT_PX,
    PATTERNS,
    STATE_STYLES,
    cohort_members,
    interbank,
    network_elements,
    network_stylesheet,
    node_positions,
    screen_font_px,
)
from models import SCENARIOS, get_scenario

_RUNS: dict[tuple[str, int], RunResult] = {}


def _run(name: str, traders: int = 1000) -> RunResult:
    """Seed-0 runs, computed once per session."""
    if (name, traders) not in _RUNS:
        _RUNS[name, traders] = simulate(get_scenario(name, n_traders=traders), seed=0)
    return _RUNS[name, traders]


def _nodes(elements: list[dict]) -> dict[str, dict]:
    return {e["data"]["id"]: e["data"] for e in elements if "source" not in e["data"]}


def _edges(elements: list[dict]) -> list[dict]:
    return [e["data"] for e in elements if "source" in e["data"]]


def _luma(colour: str) -> float:
    """Grey level (0-1) CSS ``filter: grayscale(1)`` gives a colour (Rec. 709 weights)."""
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


# ---------------------------------------------------------------- cohorts by default
def test_the_default_picture_is_institutions_and_one_cohort_per_venue() -> None:
    r = _run("default")
    els = network_elements(r.network, r.node_states, r.events, 50)
    nodes = _nodes(els)
    kinds = {d["kind"] for d in nodes.values()}
    assert "trader" not in kinds and len(nodes) < 30
    cohorts = {k: d for k, d in nodes.items() if d["kind"] == "cohort"}
    assert set(cohorts) == {"cohort:LendA", "cohort:LendB", "cohort:PerpX", "cohort:CEX"}
    assert cohorts["cohort:LendA"]["label"] == f"LendA traders ({cohorts['cohort:LendA']['members']:,})"
    # ONE edge per (cohort, venue, type), weights summed over the members
    keys = [(e["source"], e["target"], e["type"]) for e in _edges(els)]
    assert len(keys) == len(set(keys))
    members = cohort_members(r.network, r.events)
    lend_a = {f"trader:{i}" for i in range(1000)} & set(members["cohort:LendA"])
    collateral = sum(d["weight"] for u, v, d in r.network.edges(data=True)
                     if v == "LendA" and u in lend_a and d["type"] == "collateral")
    edge = next(e for e in _edges(els) if (e["source"], e["target"], e["type"])
                == ("cohort:LendA", "LendA", "collateral"))
    assert edge["weight"] == pytest.approx(collateral)


def test_cohort_shares_are_the_members_states_at_the_step() -> None:
    r = _run("default")
    members = cohort_members(r.network, r.events)
    for step in (0, 30, 60):
        now = r.node_states[r.node_states["step"] == step]
        state = dict(zip(now["node"], now["state"], strict=True))
        exposure = dict(zip(now["node"], now["exposure_usd"], strict=True))
        nodes = _nodes(network_elements(r.network, r.node_states, r.events, step))
        for cid, ids in members.items():
            c = nodes[cid]
            assert c["members"] == len(ids)
            for s in ("healthy", "at_risk", "liquidated"):
                expected = sum(state[t] == s for t in ids) / len(ids)
                assert c[f"{s}_share"] == pytest.approx(expected)
            assert c["exposure_usd"] == pytest.approx(sum(exposure[t] for t in ids))


def test_a_trader_at_two_venues_counts_in_both_cohorts_and_the_tooltip_says_so() -> None:
    r = _run("default")
    members = cohort_members(r.network, r.events)
    both = set(members["cohort:LendA"]) & set(members["cohort:PerpX"])
    assert both
    nodes = _nodes(network_elements(r.network, r.node_states, r.events, 0))
    assert nodes["cohort:LendA"]["multi_venue"] > 0
    assert "also have accounts elsewhere (counted in each venue's cohort)" in \
        nodes["cohort:LendA"]["tooltip"]


def test_traders_liquidated_out_of_every_position_stay_in_their_venues_cohort() -> None:
    """Mango's traders have no link left at the end, but their liquidations say where they
    were: the cohort holds all of them, not the 16 with a position left."""
    r = _run("mango")
    drawn = sum(d["kind"] == "trader" for _, d in r.network.nodes(data=True))
    nodes = _nodes(network_elements(r.network, r.node_states, r.events, int(r.series.index.max())))
    assert nodes["cohort:Mango"]["members"] == drawn
    assert nodes["cohort:Mango"]["liquidated_share"] > 0.9


# ---------------------------------------------------------------- expanding a cohort
def test_expanding_a_cohort_draws_its_largest_positions_and_keeps_the_rest_as_one_node() -> None:
    r = _run("default")
    members = cohort_members(r.network, r.events)["cohort:LendA"]
    els = network_elements(r.network, r.node_states, r.events, 60, expand={"cohort:LendA"},
                           node_limit=50)
    nodes = _nodes(els)
    traders = [d for d in nodes.values() if d["kind"] == "trader"]
    assert "cohort:LendA" not in nodes and len(traders) == 50
    assert {d["id"] for d in traders} <= set(members)
    rest = nodes["cohort:LendA:rest"]
    assert rest["members"] == len(members) - 50
    assert "at most 50 traders are drawn one by one" in rest["tooltip"]
    assert rest["label"] == f"LendA: {len(members) - 50:,} more"
    # the drawn traders hold the largest collateral at LendA
    weight = {u: d["weight"] for u, v, d in r.network.edges(data=True)
              if v == "LendA" and d["type"] == "collateral"}
    drawn = sorted(weight.get(d["id"], 0.0) for d in traders)
    others = [weight.get(t, 0.0) for t in members if t not in {d["id"] for d in traders}]
    assert drawn[0] >= max(others) * 0.5  # debt counts too: roughly the largest
    # other cohorts are untouched, and weights are conserved per type
    before = _nodes(network_elements(r.network, r.node_states, r.events, 60))
    assert nodes["cohort:PerpX"] == before["cohort:PerpX"]
    total = {t: sum(e["weight"] for e in _edges(els) if e["type"] == t) for t in EDGE_STYLES}
    plain = network_elements(r.network, r.node_states, r.events, 60)
    for t, w in total.items():
        assert w == pytest.approx(sum(e["weight"] for e in _edges(plain) if e["type"] == t))
    # a drawn trader's tooltip names its venues
    one = traders[0]
    assert one["tooltip"].startswith(f"{one['label']} (one trader)")
    assert "Accounts at: " in one["tooltip"] and "LendA" in one["tooltip"]


def test_the_cap_is_shared_between_expanded_cohorts() -> None:
    r = _run("default")
    els = network_elements(r.network, r.node_states, r.events, 10,
                           expand={"cohort:LendA", "cohort:CEX", "cohort:nonsense"},
                           node_limit=120)
    nodes = _nodes(els)
    assert sum(d["kind"] == "trader" for d in nodes.values()) <= 120
    assert {"cohort:LendA:rest", "cohort:CEX:rest"} <= set(nodes)
    assert json.loads(json.dumps(els)) == els


# ---------------------------------------------------------------- tooltips
def test_every_node_kind_has_a_tooltip_with_its_numbers() -> None:
    seen: set[str] = set()
    for name in ("default", "terra", "ftx", "classic_gai_kapadia", "clearing_house",
                 "bridge_exploit"):
        r = _run(name)
        step = int(r.series.index.max())
        els = network_elements(r.network, r.node_states, r.events, step,
                               expand={next(iter(cohort_members(r.network, r.events)))},
                               node_limit=20)
        for d in _nodes(els).values():
            seen.add(d["kind"])
            lines = d["tooltip"].split("\n")
            assert len(lines) >= 3, d["tooltip"]
            assert lines[0].startswith(d["label"].split(" (")[0]) or d["kind"] == "cohort"
            if d["kind"] != "cohort":
                assert lines[1] == f"State: {STATE_STYLES[d['state']].name}"
            if d["kind"] not in ("oracle",):
                assert re.search(r"\$\d", d["tooltip"]), d["tooltip"]
    assert seen >= set(KIND_STYLES)


def test_venue_tooltips_give_bad_debt_so_far_and_the_fund_left() -> None:
    r = _run("default")
    step = 60
    nodes = _nodes(network_elements(r.network, r.node_states, r.events, step))
    ev = r.events
    bad = ev.loc[(ev["kind"] == "bad_debt") & (ev["venue"] == "PerpX") & (ev["step"] <= step),
                 "value_usd"].sum()
    from dashboard.narrative import format_usd

    assert f"Bad debt so far: {format_usd(bad)}" in nodes["PerpX"]["tooltip"]
    fund = r.node_states[(r.node_states["step"] == step)
                         & (r.node_states["node"] == "PerpX-Insurance")]["exposure_usd"].iloc[0]
    assert f"PerpX-Insurance: {format_usd(fund)} left" in nodes["PerpX"]["tooltip"]
    assert "Feeds: " in nodes["ETH-feed"]["tooltip"]


# ---------------------------------------------------------------- speed
def test_a_slider_move_reuses_what_was_prepared_for_the_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What makes a slider move cheap: the graph's frames are built once per run, not per
    step. Its time is measured in experiments/bench/bench_dashboard.py (server) and
    bench_dashboard_browser.py (input to pixels), not here: a timed unit test fails on a
    busy machine and proves nothing on an idle one."""
    import dashboard.network_view as nv

    r = _run("default", 2000)
    nv._CACHE.pop(r.network, None)  # another test may have prepared this run already
    built: list[object] = []
    frames = nv.graph_frames

    def counted(g: object) -> object:
        built.append(g)
        return frames(g)  # type: ignore[arg-type]

    monkeypatch.setattr(nv, "graph_frames", counted)
    first = network_elements(r.network, r.node_states, r.events, 0)
    for step in range(0, int(r.series.index.max()) + 1, 3):
        els = network_elements(r.network, r.node_states, r.events, step)
        assert {e["data"]["id"] for e in els} == {e["data"]["id"] for e in first}
    assert len(built) == 1  # prepared once for the run, then only states change per step


# ---------------------------------------------------------------- layout
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_labels_are_at_least_12_px_on_screen_at_the_default_fit(name: str) -> None:
    r = _run(name)
    els = network_elements(r.network, r.node_states, r.events, 0)
    pos = node_positions(els)
    assert set(pos) == set(_nodes(els)) and pos == node_positions(els)
    assert screen_font_px(pos, LABEL_FONT_PX, elements=els) >= 12.0
    # the layout suits the scenario: textbook interbank networks on a circle
    kinds = [d["kind"] for d in _nodes(els).values()]
    assert interbank(kinds) == name.startswith("classic_")


@pytest.mark.parametrize("name", ["default", "ftx", "october_2025", "terra"])
def test_layers_put_feeds_above_venues_above_funds_above_cohorts_without_overlaps(
        name: str) -> None:
    r = _run(name)
    els = network_elements(r.network, r.node_states, r.events, 0)
    pos = node_positions(els, layout="layers")
    nodes = _nodes(els)
    row_y: dict[int, set[float]] = {}
    for n, d in nodes.items():
        row_y.setdefault(KIND_STYLES[d["kind"]].layer if d["kind"] != "firm" else 2,
                         set()).add(pos[n]["y"])
    assert all(len(ys) == 1 for ys in row_y.values())  # one row per layer
    ys = [next(iter(row_y[r_])) for r_ in sorted(row_y)]
    assert ys == sorted(ys)
    for cid in (n for n, d in nodes.items() if d["kind"] == "cohort"):
        assert pos[cid]["x"] == pos[cid.removeprefix("cohort:")]["x"]  # under its venue
    # no two labels or nodes of a row overlap (estimated as cytoscape wraps them)
    from dashboard.network_view import _boxes

    boxes = _boxes([(d, "") for d in nodes.values()], False)
    for a, b in itertools.combinations(nodes, 2):
        if pos[a]["y"] == pos[b]["y"]:
            assert abs(pos[a]["x"] - pos[b]["x"]) >= (boxes[a].width + boxes[b].width) / 2


def test_funds_sit_next_to_the_venue_they_back() -> None:
    r = _run("default")
    pos = node_positions(network_elements(r.network, r.node_states, r.events, 0))
    for fund, venue in (("PerpX-Insurance", "PerpX"), ("LendA-SafetyModule", "LendA")):
        assert 0 < pos[fund]["x"] - pos[venue]["x"] < 200


def test_expanded_traders_sit_in_a_grid_under_their_venue() -> None:
    r = _run("default")
    els = network_elements(r.network, r.node_states, r.events, 0, expand={"cohort:PerpX"},
                           node_limit=200)
    pos = node_positions(els)
    traders = [n for n, d in _nodes(els).items() if d["kind"] == "trader"]
    assert len(traders) == 200
    assert len({(pos[t]["x"], pos[t]["y"]) for t in traders}) == 200
    lowest = max(p["y"] for n, p in pos.items() if n not in traders)
    assert min(pos[t]["y"] for t in traders) > lowest
    xs = [pos[t]["x"] for t in traders]
    assert min(xs) < pos["PerpX"]["x"] < max(xs)


@pytest.mark.parametrize(("name", "cohort"), [("default", "cohort:PerpX"), ("ftx", "cohort:FTX"),
                                              ("classic_gai_kapadia", "cohort:B03")])
def test_nothing_else_moves_when_a_cohort_is_expanded(name: str, cohort: str) -> None:
    r = _run(name)
    before = node_positions(network_elements(r.network, r.node_states, r.events, 0))
    for limit in (40, 10_000):
        els = network_elements(r.network, r.node_states, r.events, 0, expand={cohort},
                               node_limit=limit)
        after = node_positions(els)
        assert {n: p for n, p in after.items() if n in before} == \
            {n: p for n, p in before.items() if n in after}
        if f"{cohort}:rest" in after:  # the rest of the cohort takes the cohort's place
            assert after[f"{cohort}:rest"] == before[cohort]
        assert all(d["cohort"] == cohort for d in _nodes(els).values() if d["kind"] == "trader")


def test_textbook_interbank_banks_sit_on_a_ring_with_their_depositors_outside() -> None:
    r = _run("classic_gai_kapadia")
    els = network_elements(r.network, r.node_states, r.events, 0)
    pos = node_positions(els)
    nodes = _nodes(els)
    banks = [n for n, d in nodes.items() if d["kind"] == "custodial"]
    assert len(banks) == 40
    for b in banks:
        bank, cohort = pos[b], pos[f"cohort:{b}"]
        assert cohort["x"] ** 2 + cohort["y"] ** 2 > bank["x"] ** 2 + bank["y"] ** 2
    classes = {e["data"]["id"]: e["classes"].split() for e in els if "source" not in e["data"]}
    assert all("label-inside" in classes[b] for b in banks)
    assert all("minor" in classes[f"cohort:{b}"] for b in banks)
    assert node_positions(els, layout="layers") != pos
    with pytest.raises(ValueError, match="layout"):
        node_positions(els, layout="spiral")


def test_screen_font_px_is_font_size_times_the_fit_zoom() -> None:
    pos = {"a": {"x": 0.0, "y": 0.0}, "b": {"x": 1480.0, "y": 0.0}}
    assert screen_font_px(pos, 20, (800, 560)) == pytest.approx(20 * 740 / 1480)
    tall = {"a": {"x": 0.0, "y": 0.0}, "b": {"x": 0.0, "y": 1000.0}}
    assert screen_font_px(tall, 24, (800, 560)) == pytest.approx(24 * 500 / 1000)


# ---------------------------------------------------------------- stylesheet
def _sheet() -> dict[str, dict]:
    return {s["selector"]: s["style"] for s in network_stylesheet()}


def test_states_differ_in_a_second_channel_besides_colour() -> None:
    sheet = _sheet()
    for state, s in STATE_STYLES.items():
        style = sheet[f"node.{state}"]
        assert style["background-color"] == s.colour
        assert style["border-style"] == s.border  # channel 2: border
        if PATTERNS[s.pattern][0]:                # channel 3: a white pattern over the fill
            assert style["background-image"].startswith("data:image/svg+xml")
    for a, b in itertools.combinations(STATE_STYLES.values(), 2):
        assert a.pattern != b.pattern
    # cytoscape has four border styles: the four states of a failing institution use them
    core = [STATE_STYLES[k].border for k in ("healthy", "at_risk", "liquidated", "defaulted")]
    assert len(set(core)) == 4


def test_states_stay_apart_in_greyscale() -> None:
    for (na, a), (nb, b) in itertools.combinations(STATE_STYLES.items(), 2):
        far = abs(_luma(a.colour) - _luma(b.colour)) >= 0.15
        assert far or a.pattern != b.pattern, (na, nb)
    core = [STATE_STYLES[s].colour for s in ("healthy", "at_risk", "liquidated", "defaulted")]
    for a, b in itertools.combinations(core, 2):
        assert abs(_luma(a) - _luma(b)) >= 0.15, (a, b)


def test_the_event_marker_is_a_halo_unlike_any_state() -> None:
    style = _sheet()["node.event"]
    assert "border-color" not in style and "border-width" not in style
    assert style["underlay-color"] == EVENT_HALO["colour"]
    assert style["underlay-padding"] >= 4 and style["outline-width"] > 0
    for s in STATE_STYLES.values():
        assert EVENT_HALO["colour"] != s.colour
    assert abs(_luma(EVENT_HALO["colour"]) - _luma(STATE_STYLES["at_risk"].colour)) > 0.3


def test_cohorts_are_pies_of_every_state() -> None:
    style = _sheet()["node.cohort"]
    for i, (state, s) in enumerate(STATE_STYLES.items(), start=1):
        assert style[f"pie-{i}-background-color"] == s.colour
        assert style[f"pie-{i}-background-size"] == f"mapData({state}_share, 0, 1, 0, 100)"


def test_every_class_an_element_gets_is_styled() -> None:
    sheet = network_stylesheet()
    selectors = " ".join(s["selector"] for s in sheet)
    for name in ("default", "terra", "classic_gai_kapadia"):
        r = _run(name)
        for e in network_elements(r.network, r.node_states, r.events, 40,
                                  expand={"cohort:LendA"}, node_limit=30):
            for cls in e["classes"].split():
                assert f".{cls}" in selectors, cls


# ---------------------------------------------------------------- legend
#: Classes that modify a style rather than mean something the legend must explain: labels
#: inside a node, labels shown only once zoomed in, a drawn trader's fainter links.
_MODIFIERS = {"label-inside", "minor", "fine", "event"}


def _styled_keys() -> set[str]:
    keys = set()
    for sel in (s["selector"] for s in network_stylesheet()):
        for part in sel.split(", "):
            m = re.fullmatch(r"(node|edge)\.(\w+)", part)
            if not m:
                continue
            what, name = m.groups()
            assert name in {*STATE_STYLES, *KIND_STYLES, *EDGE_STYLES, *_MODIFIERS}, name
            if what == "edge" and name in EDGE_STYLES:
                keys.add(f"edge:{name}")
            elif name in STATE_STYLES:
                keys.add(f"state:{name}")
            elif name in KIND_STYLES:
                keys.add(f"kind:{name}")
            elif name == "event":
                keys.add("event")
    return keys


def test_the_legend_and_the_stylesheet_cover_the_same_things() -> None:
    keys = legend_keys(legend())
    assert len(keys) == len(set(keys))
    assert set(keys) == _styled_keys()


def test_the_legend_lists_only_what_the_picture_has_but_every_state() -> None:
    r = _run("terra")
    els = network_elements(r.network, r.node_states, r.events, 0)
    keys = set(legend_keys(legend(els)))
    kinds = {d["kind"] for d in _nodes(els).values()}
    types = {e["type"] for e in _edges(els)}
    assert keys == ({f"kind:{k}" for k in kinds} | {f"edge:{t}" for t in types}
                    | {f"state:{s}" for s in STATE_STYLES} | {"event"})


def test_the_legend_is_labelled_and_draws_its_swatches_inline() -> None:
    div = legend()
    assert getattr(div, "aria-label") == "Legend of the network picture"
    html = json.dumps(div.to_plotly_json(), default=lambda o: o.to_plotly_json())
    srcs = re.findall(r'"src": "([^"]+)"', html)
    assert srcs and all(s.startswith("data:image/svg+xml") for s in srcs)
    assert {k.shape for k in KIND_STYLES.values()} <= set(SHAPES)
    from dashboard.legend import _SVG_DASH

    assert set(_SVG_DASH) == set(DASH_PATTERNS)


def test_a_graph_that_groups_its_traders_gives_venue_cohorts_too() -> None:
    """Above 2,000 traders the run's graph holds its own cohorts (one per set of venues):
    they are summed into the venues' cohorts, with per-step counts when recorded."""
    import networkx as nx
    import pandas as pd

    G = nx.MultiDiGraph()
    for v in ("V", "W"):
        G.add_node(v, kind="lending", label=v, state="healthy", exposure_usd=1e6)
    G.add_node("cohort:3", kind="cohort", label="V + W", members=10, liquidated=4,
               state="healthy", exposure_usd=5e5)
    G.add_node("cohort:1", kind="cohort", label="V", members=6, liquidated=0,
               state="at_risk", exposure_usd=1e5)
    G.add_edge("cohort:3", "V", key="collateral", type="collateral", weight=3e5)
    G.add_edge("cohort:3", "W", key="collateral", type="collateral", weight=2e5)
    G.add_edge("cohort:1", "V", key="collateral", type="collateral", weight=1e5)
    no_events = pd.DataFrame({"step": [], "kind": [], "venue": [], "agent": [], "account": [],
                              "amount": [], "value_usd": []})
    nodes = _nodes(network_elements(G, pd.DataFrame(), no_events, 0))
    assert nodes["cohort:V"]["members"] == 16 and nodes["cohort:W"]["members"] == 10
    assert nodes["cohort:V"]["liquidated_share"] == pytest.approx(4 / 16)
    assert nodes["cohort:V"]["at_risk_share"] == pytest.approx(6 / 16)
    assert "as the run ended" in nodes["cohort:V"]["tooltip"]
    recorded = pd.DataFrame({"step": [0, 0], "node": ["cohort:3", "cohort:1"],
                             "kind": "cohort", "state": ["healthy", "healthy"],
                             "exposure_usd": [1.0, 2.0], "healthy": [9, 6], "at_risk": [1, 0],
                             "liquidated": [0, 0]})
    nodes = _nodes(network_elements(G, recorded, no_events, 0))
    assert nodes["cohort:V"]["healthy_share"] == pytest.approx(15 / 16)
    assert nodes["cohort:W"]["at_risk_share"] == pytest.approx(1 / 10)
    assert "as the run ended" not in nodes["cohort:V"]["tooltip"]
