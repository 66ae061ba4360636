"""The network view: dash-cytoscape elements, stylesheet and node positions for a step.

Pure functions of a run's graph, node states and events. By default the picture shows the
institutions (venues, firms, funds, oracles, pools, pegs, yield venues) and one *cohort*
node per venue for the traders with an account there, drawn as a pie of their states;
the traders of a cohort are drawn one by one on demand (``expand``).

Every colour, pattern, shape and line style comes from three tables,
:data:`STATE_STYLES`, :data:`KIND_STYLES` and :data:`EDGE_STYLES`; the stylesheet
(:func:`network_stylesheet`) and the legend (:func:`dashboard.legend.legend`) are both
built from them, so they cannot drift apart. A new node state needs one entry in
:data:`STATE_STYLES` (colour, pattern, border, words).

Positions are computed once per run (:func:`node_positions`) and sent with the elements,
with cytoscape's ``preset`` layout: nodes stay where they are while the player moves, and
the browser never runs a force layout.
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import networkx as nx
import numpy as np
import pandas as pd

from dashboard.narrative import format_usd, peg_aliases

__all__ = [
    "CANVAS",
    "DASH_PATTERNS",
    "EDGE_STYLES",
    "EVENT_HALO",
    "KIND_STYLES",
    "LABEL_FONT_PX",
    "PATTERNS",
    "STATE_COLOURS",
    "STATE_STYLES",
    "EdgeStyle",
    "KindStyle",
    "StateStyle",
    "cohort_members",
    "graph_frames",
    "interbank",
    "network_elements",
    "network_stylesheet",
    "node_positions",
    "pattern_uri",
    "screen_font_px",
]


# ---------------------------------------------------------------------- the tables
@dataclass(frozen=True)
class StateStyle:
    """How a node state is drawn: a fill colour and, for greyscale and colour-blind
    readers, a second channel (a white pattern over the fill and a border style)."""

    colour: str
    pattern: str        #: a key of :data:`PATTERNS`
    border: str         #: cytoscape ``border-style``: solid, dashed, dotted or double
    border_width: float
    name: str           #: short words, for tooltips
    legend: str         #: the legend's words


#: Node state -> style. The colours step from light to dark as things get worse, so they
#: stay apart in greyscale (luma 164, 112, 59, 0 of 255; drained, empty rather than failed,
#: is lighter than all, 221); each state also has its own pattern, and all but drained
#: (thin solid, like healthy, but lined and pale) their own border. Okabe-Ito sky blue and
#: vermillion, Tol's wine, black.
STATE_STYLES: dict[str, StateStyle] = {
    "healthy": StateStyle("#56B4E9", "plain", "solid", 1.5, "healthy", "healthy"),
    "at_risk": StateStyle("#D55E00", "stripes", "dashed", 3.0, "at risk",
                          "at risk (near liquidation or default)"),
    "liquidated": StateStyle("#882255", "dots", "dotted", 3.0, "liquidated",
                             "liquidated (traders)"),
    "defaulted": StateStyle("#000000", "cross", "double", 4.0, "defaulted",
                            "defaulted (an institution; a broken peg)"),
    # a spent insurance fund or reserve, a run-dry yield venue: empty, not in default
    "drained": StateStyle("#DDDDDD", "lines", "solid", 1.0, "drained",
                          "drained (a fund spent, deposits run dry)"),
}
#: Node state -> colour (the figures use it too).
STATE_COLOURS: dict[str, str] = {s: v.colour for s, v in STATE_STYLES.items()}

#: Pattern -> (SVG drawing in a 10 x 10 box, tiled). White marks drawn over the fill.
PATTERNS: dict[str, tuple[str, bool]] = {
    "plain": ("", False),
    "stripes": ("<path d='M-1,1 l2,-2 M0,10 l10,-10 M9,11 l2,-2' stroke='white' "
                "stroke-width='2.6'/>", True),
    "dots": ("<circle cx='2.5' cy='2.5' r='1.7' fill='white'/>"
             "<circle cx='7.5' cy='7.5' r='1.7' fill='white'/>", True),
    "cross": ("<path d='M2.2,2.2 L7.8,7.8 M7.8,2.2 L2.2,7.8' stroke='white' stroke-width='1.5' "
              "stroke-linecap='round'/>", False),
    # on the light grey of a drained node white would not show: dark level lines, a tank's
    # empty gauge
    "lines": ("<path d='M0,2.5 h10 M0,7.5 h10' stroke='#555555' stroke-width='1.2'/>", True),
}


@dataclass(frozen=True)
class KindStyle:
    """How a node kind is drawn (its shape) and where the layered layout puts it."""

    shape: str          #: cytoscape node shape
    legend: str
    layer: int          #: 0 oracles and pools, 1 venues, 2 firms and funds, 3 cohorts, 4 traders
    sizes: tuple[float, float]  #: node size range in px (by exposure)


KIND_STYLES: dict[str, KindStyle] = {
    "oracle": KindStyle("diamond", "price oracle", 0, (30.0, 30.0)),
    "pool": KindStyle("triangle", "AMM pool", 0, (28.0, 44.0)),
    "lending": KindStyle("round-rectangle", "lending venue", 1, (36.0, 60.0)),
    "perp": KindStyle("cut-rectangle", "perpetual-futures venue", 1, (36.0, 60.0)),
    "custodial": KindStyle("rectangle", "custodial exchange or bank", 1, (36.0, 60.0)),
    "peg": KindStyle("octagon", "algorithmic stablecoin (mint/burn)", 1, (36.0, 60.0)),
    "yield_venue": KindStyle("barrel", "yield venue (savings deposits)", 1, (36.0, 60.0)),
    "bridge": KindStyle("vee", "bridge (locked collateral, minted claims)", 1, (36.0, 60.0)),
    "firm": KindStyle("pentagon", "trading firm", 2, (32.0, 52.0)),
    "clearing_house": KindStyle("star", "clearing house (CCP)", 2, (36.0, 56.0)),
    "fund": KindStyle("hexagon", "insurance fund or reserve", 2, (28.0, 44.0)),
    "cohort": KindStyle("ellipse", "a venue's traders: pie of their states", 3, (30.0, 60.0)),
    "trader": KindStyle("ellipse", "one trader", 4, (12.0, 18.0)),
}
#: Sizes in a textbook interbank circle (labels inside the banks, small depositor pies).
_CIRCLE_SIZES = {"custodial": (28.0, 40.0), "firm": (28.0, 40.0), "cohort": (12.0, 20.0),
                 "trader": (12.0, 14.0)}
_UNKNOWN_KIND = KindStyle("ellipse", "other", 2, (24.0, 40.0))


@dataclass(frozen=True)
class EdgeStyle:
    """How a link type is drawn: colour and dash (its width is its exposure)."""

    colour: str
    dash: str           #: a key of :data:`DASH_PATTERNS`
    legend: str


EDGE_STYLES: dict[str, EdgeStyle] = {
    "collateral": EdgeStyle("#0072B2", "solid", "collateral or deposits (owner → venue)"),
    "debt": EdgeStyle("#E69F00", "dashed", "a venue's loan (venue → borrower)"),
    "credit": EdgeStyle("#444444", "solid", "credit between institutions (lender → borrower)"),
    "cross_margin": EdgeStyle("#CC79A7", "dashdot", "cross-margin (exchange → perp venue)"),
    "token_collateral": EdgeStyle("#7570B3", "dashed", "its token held as collateral (issuer → "
                                  "lender)"),
    "backstop": EdgeStyle("#009E73", "solid", "backstop (fund or reserve → what it covers)"),
    "liquidity": EdgeStyle("#999999", "dashed", "sells into (venue → pool)"),
    "price_feed": EdgeStyle("#999999", "dotted", "price feed (oracle → venue)"),
    "pending_settlement": EdgeStyle("#D55E00", "dotted", "owed in a settlement window (payee → "
                                    "payer)"),
    "clears": EdgeStyle("#D55E00", "solid", "initial margin (member → clearing house)"),
    "default_fund": EdgeStyle("#D55E00", "dashed", "default-fund contribution (member → "
                              "clearing house)"),
    "bridge_route": EdgeStyle("#CC79A7", "dotted", "cross-margin in flight across a bridge "
                              "(bridge → perp venue)"),
}
DASH_PATTERNS: dict[str, list[int] | None] = {"solid": None, "dashed": [8, 5],
                                              "dotted": [2, 4], "dashdot": [9, 4, 2, 4]}

#: The event marker: a halo around the node (not a border, not a state colour).
EVENT_HALO = {"colour": "#F0E442", "ring": "#333333", "legend": "something happened this step"}

#: Font size of labels in model px; at the default fit on :data:`CANVAS` every preset's
#: labels are at least 12 px on screen (``tests/dashboard/test_network_picture.py``).
LABEL_FONT_PX = 17.0
_MINOR_FONT_PX = 11.0       # traders' and depositor pies' labels: shown once zoomed in
_LABEL_MAX_WIDTH = 120.0
_CHAR_WIDTH_EM = 0.62       # DejaVu Sans, the font the browsers here draw labels in
_LINE_EM = 1.25
#: The canvas the positions are spaced for (width, height in px), and cytoscape's padding.
CANVAS = (800.0, 560.0)
_FIT_PADDING = 30.0

_UNIT_KINDS = ("trader", "cohort")
#: Nodes traders hold accounts at (events at other nodes do not make a trader a member).
_ACCOUNT_KINDS = ("lending", "perp", "custodial", "firm", "yield_venue")
_TRADER_EVENT_KINDS = ("liquidation", "perp_liquidation", "option_liquidation", "adl", "bad_debt")
_QUIET_EVENT_KINDS = ("price_shock", "margin_topup")
_MINOR_MOVE_FRAC = 0.01
_OTHER = "cohort:other"


def pattern_uri(pattern: str) -> str | None:
    """The pattern as an SVG data URI (``None`` for ``plain``).

    >>> pattern_uri("plain") is None, pattern_uri("dots").startswith("data:image/svg+xml")
    (True, True)
    """
    drawing, _ = PATTERNS[pattern]
    if not drawing:
        return None
    svg = ("<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10' "
           f"viewBox='0 0 10 10'>{drawing}</svg>")
    return "data:image/svg+xml;utf8," + quote(svg)


def _kind_style(kind: str) -> KindStyle:
    return KIND_STYLES.get(kind, _UNKNOWN_KIND)


def interbank(kinds: Iterable[str]) -> bool:
    """Whether nodes of these kinds make a textbook interbank network: at least three
    institutions, all custodial (bank-like) or firms, and no oracles, pools or other venues.
    Such networks are drawn on a circle.

    >>> interbank(["custodial"] * 4 + ["cohort", "trader"]), interbank(["custodial", "oracle"])
    (True, False)
    """
    counts: dict[str, int] = {}
    for k in kinds:
        counts[k] = counts.get(k, 0) + 1
    inst = {k: c for k, c in counts.items() if k not in _UNIT_KINDS}
    return set(inst) <= {"custodial", "firm"} and inst.get("custodial", 0) >= 3


# ---------------------------------------------------------------------- the graph
def graph_frames(G: nx.MultiDiGraph) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The graph's nodes (id, kind, label, state, exposure_usd, members) and edges (source,
    target, type, weight) as two DataFrames."""
    nodes = pd.DataFrame.from_records(
        [(str(n), d.get("kind", ""), str(d.get("label", n)), d.get("state", "healthy"),
          float(d.get("exposure_usd", 0.0) or 0.0), int(d.get("members", 1) or 1))
         for n, d in G.nodes(data=True)],
        columns=["id", "kind", "label", "state", "exposure_usd", "members"])
    edges = pd.DataFrame.from_records(
        [(str(u), str(v), str(d.get("type", k)), float(d.get("weight", 0.0) or 0.0))
         for u, v, k, d in G.edges(keys=True, data=True)],
        columns=["source", "target", "type", "weight"])
    return nodes, edges


def _states_at(node_states: pd.DataFrame, step: int) -> pd.DataFrame:
    """The node-state rows recorded last at or before ``step`` (the first record if none)."""
    if node_states.empty:
        return node_states
    steps = node_states["step"].to_numpy()
    if steps.size > 1 and bool(np.all(steps[1:] >= steps[:-1])):  # recorded in step order
        i = int(np.searchsorted(steps, step, side="right"))
        at = steps[i - 1] if i > 0 else steps[0]
        lo, hi = np.searchsorted(steps, at, side="left"), np.searchsorted(steps, at, side="right")
        return node_states.iloc[lo:hi]
    before = steps[steps <= step]
    at = before.max() if before.size else steps.min()
    return node_states[steps == at]


def _event_nodes(events: pd.DataFrame, step: int) -> set[str]:
    """Nodes with a notable event at ``step``: traders by account, venues, funds, pools,
    oracles that moved at least 1% (not heartbeats, exogenous moves or margin top-ups)."""
    ev = events[events["step"].to_numpy() == step]
    if ev.empty:
        return set()
    ev = ev[~ev["kind"].isin(_QUIET_EVENT_KINDS)]
    oracle = ev["kind"] == "oracle_update"
    ev = ev[~oracle | (ev["amount"].abs() >= _MINOR_MOVE_FRAC)]
    trader = ev["kind"].isin(_TRADER_EVENT_KINDS) & (ev["account"] >= 0)
    out = {f"trader:{a}" for a in ev.loc[trader, "account"].unique().tolist()}
    out.update(ev["venue"].tolist())
    out.update(ev["agent"].tolist())
    out.discard("")
    return out


@dataclass
class _Static:
    """What does not change between steps: the graph's frames, who belongs to which cohort,
    the trader edges by (unit, venue), static tooltip facts. Built once per (graph, events)."""

    events_key: tuple[int, int]
    inst: pd.DataFrame           # non-trader nodes: id, kind, label, state, exposure_usd
    inst_index: pd.Index
    attrs: list[dict[str, Any]]  # graph attributes of each institution
    units: pd.DataFrame          # traders (or the graph's own cohorts): id, kind, label...
    unit_index: pd.Index
    venues: np.ndarray           # institution index of each cohort's venue (-1: others)
    pair_unit: np.ndarray        # membership pairs, ordered by cohort then weight
    pair_cohort: np.ndarray
    pair_weight: np.ndarray
    unit_venues: list[list[str]]
    group_counts: np.ndarray     # members per state of the graph's own cohorts, as it ended
    tedges: pd.DataFrame         # trader edges: unit, venue (inst index), type, out, weight, pair
    iedges: pd.DataFrame         # the other edges: source, target, type, weight
    neighbours: dict[str, dict[str, list[str]]]  # inst id -> edge type -> linked node ids
    bad_debt: pd.DataFrame       # step, venue, value_usd of bad_debt events
    aliases: dict[str, str]
    circle: bool
    event_steps: np.ndarray      # the events' steps, sorted
    slim_events: pd.DataFrame    # the columns _event_nodes reads, in step order
    hits: dict[int, set[str]] = field(default_factory=dict)   # step -> nodes with an event
    groupings: dict[tuple[tuple[str, ...], int], _Grouping] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)


#: graph -> (id, length) of the events frame -> what it prepared; kept while the graph lives.
_CACHE: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict[tuple[int, int], _Static]] = \
    weakref.WeakKeyDictionary()


def _prepare(network: nx.MultiDiGraph, events: pd.DataFrame) -> _Static:
    key = (id(events), len(events))
    per_graph = _CACHE.setdefault(network, {})
    if key in per_graph:
        return per_graph[key]
    nodes, edges = graph_frames(network)
    is_unit = nodes["kind"].isin(_UNIT_KINDS).to_numpy()
    inst = nodes[~is_unit].reset_index(drop=True)
    units = nodes[is_unit].reset_index(drop=True)
    inst_index, unit_index = pd.Index(inst["id"]), pd.Index(units["id"])
    inst_set = set(inst["id"])
    attrs = [dict(d) for n, d in network.nodes(data=True) if str(n) in inst_set]
    su, tu = unit_index.get_indexer(edges["source"]), unit_index.get_indexer(edges["target"])
    si, ti = inst_index.get_indexer(edges["source"]), inst_index.get_indexer(edges["target"])
    out_e, in_e = (su >= 0) & (ti >= 0), (si >= 0) & (tu >= 0)
    tedges = pd.DataFrame({
        "unit": np.concatenate([su[out_e], tu[in_e]]),
        "venue": np.concatenate([ti[out_e], si[in_e]]),
        "type": np.concatenate([edges["type"].to_numpy()[out_e], edges["type"].to_numpy()[in_e]]),
        "out": np.concatenate([np.ones(out_e.sum(), bool), np.zeros(in_e.sum(), bool)]),
        "weight": np.concatenate([edges["weight"].to_numpy()[out_e],
                                  edges["weight"].to_numpy()[in_e]])})
    iedges = edges[(si >= 0) & (ti >= 0)].reset_index(drop=True)
    # membership: a trader is in a venue's cohort if it has a link there at the end of the
    # run or an event there (a trader liquidated out of every position keeps its venues)
    n_inst = len(inst)
    pair_keys = [tedges["unit"].to_numpy() * n_inst + tedges["venue"].to_numpy()]
    ev = events[events["account"].to_numpy() >= 0] if "account" in events else events.iloc[:0]
    if not ev.empty:
        eu = unit_index.get_indexer("trader:" + ev["account"].astype(str))
        account_venue = inst["kind"].isin(_ACCOUNT_KINDS).to_numpy()
        evn = inst_index.get_indexer(ev["venue"])
        ok = (eu >= 0) & (evn >= 0)
        ok[ok] = account_venue[evn[ok]]
        pair_keys.append(eu[ok] * n_inst + evn[ok])
    keys = np.unique(np.concatenate(pair_keys)) if n_inst else np.zeros(0, np.int64)
    p_unit, p_venue = keys // max(n_inst, 1), keys % max(n_inst, 1)
    tedge_key = tedges["unit"].to_numpy() * n_inst + tedges["venue"].to_numpy()
    tedges["pair"] = np.searchsorted(keys, tedge_key)
    p_weight = np.bincount(tedges["pair"].to_numpy(), weights=tedges["weight"].to_numpy(),
                           minlength=keys.size)[:keys.size]
    orphans = np.setdiff1d(np.arange(len(units)), p_unit)
    venues = np.unique(p_venue)  # institution order
    cohort_of_venue = np.full(n_inst, -1)
    cohort_of_venue[venues] = np.arange(venues.size)
    p_cohort = cohort_of_venue[p_venue] if keys.size else np.zeros(0, np.int64)
    if orphans.size:  # traders with neither a link nor an event: one "other" cohort
        venues = np.append(venues, -1)
        p_unit = np.concatenate([p_unit, orphans])
        p_cohort = np.concatenate([p_cohort, np.full(orphans.size, venues.size - 1)])
        p_weight = np.concatenate([p_weight, np.zeros(orphans.size)])
        p_venue = np.concatenate([p_venue, np.full(orphans.size, -1)])
    order = np.lexsort((p_unit, -p_weight, p_cohort))  # cohort, then largest positions first
    remap = np.empty_like(order)
    remap[order] = np.arange(order.size)
    tedges["pair"] = remap[tedges["pair"].to_numpy()] if len(tedges) else tedges["pair"]
    p_unit, p_cohort, p_weight, p_venue = p_unit[order], p_cohort[order], p_weight[order], \
        p_venue[order]
    ids = inst["id"].tolist()
    unit_venues: list[list[str]] = [[] for _ in range(len(units))]
    for u, v in sorted(zip(p_unit.tolist(), p_venue.tolist(), strict=True), key=lambda t: t[1]):
        if v >= 0:
            unit_venues[u].append(ids[v])
    # the graph's own cohorts (runs above its trader node limit) know their liquidated
    # members and their most frequent state as the run ended
    states = list(STATE_STYLES)
    group_counts = np.zeros((len(units), len(states)))
    for u, (n, kind, state, members) in enumerate(zip(units["id"], units["kind"], units["state"],
                                                      units["members"], strict=True)):
        if kind == "cohort":
            liquidated = min(float(network.nodes[n].get("liquidated", 0) or 0), float(members))
            code = states.index(state) if state in states and state != "liquidated" else 0
            group_counts[u, code] = members - liquidated
            group_counts[u, states.index("liquidated")] += liquidated
    neighbours: dict[str, dict[str, list[str]]] = {i: {} for i in ids}
    for s, t, k in zip(iedges["source"], iedges["target"], iedges["type"], strict=True):
        neighbours[s].setdefault(f"{k}>", []).append(t)
        neighbours[t].setdefault(f"<{k}", []).append(s)
    bad = (events.loc[events["kind"] == "bad_debt", ["step", "venue", "value_usd"]]
           if {"kind", "venue", "value_usd"} <= set(events.columns)
           else pd.DataFrame(columns=["step", "venue", "value_usd"]))
    slim = (events[["step", "kind", "venue", "agent", "account", "amount"]]
            if len(events) else _NO_EVENTS[["step", "kind", "venue", "agent", "account", "amount"]])
    slim = pd.DataFrame({c: slim[c].to_numpy(dtype=object if c in ("kind", "venue", "agent")
                                             else None) for c in slim.columns})
    slim = slim.iloc[np.argsort(slim["step"].to_numpy(), kind="stable")].reset_index(drop=True)
    static = _Static(
        event_steps=slim["step"].to_numpy(), slim_events=slim,
        labels=inst["label"].tolist(), kinds=inst["kind"].tolist(),
        events_key=key, inst=inst, inst_index=inst_index, attrs=attrs, units=units,
        unit_index=unit_index, venues=venues, pair_unit=p_unit, pair_cohort=p_cohort,
        pair_weight=p_weight, unit_venues=unit_venues, group_counts=group_counts,
        tedges=tedges, iedges=iedges,
        neighbours=neighbours, bad_debt=bad, aliases=peg_aliases(network),
        circle=interbank(nodes["kind"]))
    if len(per_graph) >= 4:
        per_graph.pop(next(iter(per_graph)))
    per_graph[key] = static
    return static


def cohort_members(network: nx.MultiDiGraph, events: pd.DataFrame | None = None
                   ) -> dict[str, list[str]]:
    """Cohort node id of :func:`network_elements` -> the ids of its traders.

    A trader with accounts at several venues is a member of each venue's cohort.

    >>> G = nx.MultiDiGraph()
    >>> G.add_node("V", kind="lending"); G.add_node("W", kind="perp")
    >>> G.add_node("trader:0", kind="trader"); G.add_node("trader:1", kind="trader")
    >>> _ = G.add_edge("trader:0", "V", type="collateral", weight=5.0)
    >>> _ = G.add_edge("trader:1", "V", type="collateral", weight=9.0)
    >>> _ = G.add_edge("trader:1", "W", type="collateral", weight=1.0)
    >>> cohort_members(G)
    {'cohort:V': ['trader:1', 'trader:0'], 'cohort:W': ['trader:1']}
    """
    st = _prepare(network, events if events is not None else _NO_EVENTS)
    ids = st.units["id"].to_numpy()
    return {_cohort_id(st, c): ids[st.pair_unit[st.pair_cohort == c]].tolist()
            for c in range(st.venues.size)}


_NO_EVENTS = pd.DataFrame({"step": pd.Series(dtype=int), "kind": pd.Series(dtype=str),
                           "venue": pd.Series(dtype=str), "agent": pd.Series(dtype=str),
                           "account": pd.Series(dtype=int), "amount": pd.Series(dtype=float),
                           "value_usd": pd.Series(dtype=float)})


def _step_hits(st: _Static, events: pd.DataFrame, step: int) -> set[str]:
    """Nodes with a notable event at ``step`` (cached per step)."""
    if step not in st.hits:
        lo, hi = np.searchsorted(st.event_steps, [step, step + 1])
        rows = st.slim_events.iloc[lo:hi]
        hits = _event_nodes(rows, step) if len(rows) else set()
        hits.update(peg for alias, peg in st.aliases.items() if alias in hits)
        if len(st.hits) > 4096:
            st.hits.clear()
        st.hits[step] = hits
    return set(st.hits[step])


def _cohort_id(st: _Static, c: int) -> str:
    v = int(st.venues[c])
    return _OTHER if v < 0 else f"cohort:{st.inst['id'].iat[v]}"


@dataclass
class _Grouping:
    """Which traders are drawn one by one and which stay in (or are the rest of) a cohort,
    and the edges that follows: static for a given ``expand`` and ``node_limit``."""

    ids: list[str]           # group node ids: cohorts, then rests
    kind: list[str]          # "cohort", "rest" or "gone" (expanded)
    venue: list[int]         # institution index of each group's venue (-1: others)
    shown: list[int]         # units drawn one by one
    drawn_for: list[str]     # ... and the cohort each was drawn for (the first expanded)
    pair_group: np.ndarray   # group of each pair in a group (drawn pairs left out)
    pair_unit: np.ndarray
    pair_multi: np.ndarray   # 1.0 when the pair's unit has accounts at several venues
    edges: pd.DataFrame      # every edge drawn: source, target, type, weight


def _grouping(st: _Static, expand: Iterable[str], node_limit: int) -> _Grouping:
    key = (tuple(sorted(set(expand))), int(node_limit))
    if key in st.groupings:
        return st.groupings[key]
    n_coh = st.venues.size
    cohort_ids = [_cohort_id(st, c) for c in range(n_coh)]
    expanded = [c for c, cid in enumerate(cohort_ids) if cid in set(key[0])]
    group = st.pair_cohort.copy()          # group per pair: a cohort, a rest, or -1 (drawn)
    shown: list[int] = []
    drawn_for: list[str] = []
    ids, kind = list(cohort_ids), ["cohort"] * n_coh
    venue = st.venues.tolist()
    if expanded:
        sizes = [int((st.pair_cohort == c).sum()) for c in expanded]
        seen: set[int] = set()
        for c, q in zip(expanded, _share_out(sizes, node_limit), strict=True):
            rows = np.flatnonzero(st.pair_cohort == c)  # largest positions first
            drawn, rest = rows[:q], rows[q:]
            group[drawn] = -1
            for u in st.pair_unit[drawn].tolist():
                if u not in seen:
                    seen.add(u)
                    shown.append(u)
                    drawn_for.append(cohort_ids[c])
            if rest.size:
                group[rest] = len(ids)
                ids.append(f"{cohort_ids[c]}:rest")
                kind.append("rest")
                venue.append(int(st.venues[c]))
        for c in expanded:
            kind[c] = "gone"
    ok = group >= 0
    n_venues_of = np.bincount(st.pair_unit[st.venues[st.pair_cohort] >= 0],
                              minlength=len(st.units))
    # trader edges go to their pair's group, or from the drawn trader itself
    te = st.tedges
    inst_ids = st.inst["id"].to_numpy(dtype=object)
    unit_ids = st.units["id"].to_numpy(dtype=object)
    if len(te):
        t_group = group[te["pair"].to_numpy()]
        names = np.array([*ids, ""], dtype=object)
        end = np.where(t_group >= 0, names[t_group], unit_ids[te["unit"].to_numpy()])
        at = inst_ids[te["venue"].to_numpy()]
        out = te["out"].to_numpy()
        tframe = pd.DataFrame({"source": np.where(out, end, at), "target": np.where(out, at, end),
                               "type": te["type"].to_numpy(), "weight": te["weight"].to_numpy()})
        edges = pd.concat([st.iedges, tframe.groupby(["source", "target", "type"], sort=False,
                                                     as_index=False)["weight"].sum()],
                          ignore_index=True)
    else:
        edges = st.iedges
    gr = _Grouping(ids=ids, kind=kind, venue=venue, shown=shown, drawn_for=drawn_for,
                   pair_group=group[ok],
                   pair_unit=st.pair_unit[ok],
                   pair_multi=(n_venues_of[st.pair_unit[ok]] > 1).astype(float), edges=edges)
    if len(st.groupings) >= 8:
        st.groupings.pop(next(iter(st.groupings)))
    st.groupings[key] = gr
    return gr


# ---------------------------------------------------------------------- elements
def network_elements(network: nx.MultiDiGraph, node_states: pd.DataFrame, events: pd.DataFrame,
                     step: int, *, expand: Iterable[str] = frozenset(), node_limit: int = 500
                     ) -> list[dict[str, Any]]:
    """dash-cytoscape elements of the exposure graph as it stood at ``step``.

    Institutions are drawn one by one; traders are grouped into one cohort node per venue
    (``"cohort:LendA"``, "LendA traders (412)"): the traders with an account there (a link
    at the end of the run or an event there). A trader with accounts at two venues is in
    both cohorts. A cohort carries its members, the shares of them in each state at
    ``step`` (``<state>_share``, drawn as a pie), their summed exposure, and one edge per
    (venue, type, direction) with the members' weights summed.

    Parameters
    ----------
    network : networkx.MultiDiGraph
        ``RunResult.network``: the structure (nodes, edges, weights) as the run ended.
    node_states : DataFrame
        ``RunResult.node_states`` (columns step, node, state, exposure_usd): each node's
        state at ``step`` (the last record at or before it), else the graph's.
    events : DataFrame
        ``RunResult.events``: nodes with a notable event at ``step`` get class ``event``;
        cohorts, when a member has one. Also the venues' bad debt so far (tooltips) and
        cohort membership of traders liquidated out of every position.
    step : int
        The step to show.
    expand : iterable of str
        Cohort ids whose traders are drawn one by one instead (their largest positions at
        the venue first, at most ``node_limit`` traders in all; the rest of a cohort stays
        one node, ``"<cohort>:rest"``).
    node_limit : int
        The most traders drawn one by one.

    Returns
    -------
    list of dict
        Nodes ``{"data": {id, label, kind, state, exposure_usd, size, members, tooltip[,
        <state>_share..., multi_venue][, cohort]}, "classes": "<kind> <state>[ event][
        minor][ label-inside]"}`` (``cohort``: the cohort a drawn trader was expanded
        from), then edges ``{"data": {id, source, target, type, weight, width}, "classes":
        "<type>[ fine]"}`` (``fine``: a drawn trader's, drawn fainter). Sizes follow the
        square root of exposure within each kind's range (:data:`KIND_STYLES`; 12-60 px);
        edge widths 1-8 px by the square root of weight relative to the largest.
        ``tooltip`` is the node's numbers as text lines.

    Notes
    -----
    Runs on every slider move. What does not depend on the step (frames of the graph,
    membership, edges per cohort) is computed once per graph and kept while the graph
    lives; a call is then a few vectorised passes over the step's node states. Measured
    on the default scenario with 2,000 traders (1,698 traders in the graph, 291,160
    node-state rows, 2 shared cores under load): first call 42 ms, then median 5-7 ms per
    step (p95 7-11 ms); with a cohort expanded (414 traders drawn) median 9-13 ms, all
    four (500 drawn) 9-15 ms. ``tests/dashboard/test_network_picture.py`` holds the
    median under 40 ms.

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("LendA", kind="lending", label="LendA", state="healthy", exposure_usd=4e6)
    >>> for i in range(3):
    ...     G.add_node(f"trader:{i}", kind="trader", label=f"trader {i}", exposure_usd=1e6)
    ...     _ = G.add_edge(f"trader:{i}", "LendA", type="collateral", weight=1e6 * (i + 1))
    >>> ns = pd.DataFrame({"step": [3] * 4, "node": ["LendA", "trader:0", "trader:1", "trader:2"],
    ...                    "state": ["healthy", "liquidated", "healthy", "healthy"],
    ...                    "exposure_usd": [0.0, 0.0, 2e6, 3e6]})
    >>> ev = pd.DataFrame({"step": [3], "kind": ["liquidation"], "venue": ["LendA"],
    ...                    "agent": ["Liquidators"], "account": [0], "amount": [2.0],
    ...                    "value_usd": [1e6]})
    >>> els = network_elements(G, ns, ev, 3)
    >>> [(e["data"]["id"], e["classes"]) for e in els]  # doctest: +NORMALIZE_WHITESPACE
    [('LendA', 'lending healthy event'), ('cohort:LendA', 'cohort healthy event'),
     ('cohort:LendA|LendA|collateral', 'collateral')]
    >>> cohort = els[1]["data"]
    >>> cohort["members"], round(cohort["liquidated_share"], 3), cohort["exposure_usd"]
    (3, 0.333, 5000000.0)
    >>> print(cohort["tooltip"])
    LendA traders
    3 traders with an account at LendA
    healthy 67% (2) · at risk 0% (0) · liquidated 33% (1)
    Exposure: $5.0M (their accounts at all venues)
    Expand to draw each trader.
    >>> els = network_elements(G, ns, ev, 3, expand={"cohort:LendA"}, node_limit=2)
    >>> [e["data"]["id"] for e in els if "source" not in e["data"]]
    ['LendA', 'cohort:LendA:rest', 'trader:2', 'trader:1']
    """
    st = _prepare(network, events)
    now = _states_at(node_states, step)
    states = list(STATE_STYLES)
    n_states = len(states)
    inst = st.inst
    i_state = inst["state"].to_numpy(dtype=object).copy()
    i_exp = inst["exposure_usd"].to_numpy(dtype=float).copy()
    u_state = pd.Index(states).get_indexer(st.units["state"])
    u_state[u_state < 0] = 0
    u_exp = st.units["exposure_usd"].to_numpy(dtype=float).copy()
    u_members = st.units["members"].to_numpy(dtype=float)
    is_group = st.units["kind"].to_numpy() == "cohort"  # the graph's own cohorts
    from_graph = is_group.copy()                          # ... whose counts are the graph's
    u_counts = st.group_counts.copy()
    if not now.empty:
        node = now["node"].to_numpy(dtype=object)
        rec_state = now["state"].to_numpy(dtype=object)
        rec_exp = now["exposure_usd"].to_numpy(dtype=float)
        ii = st.inst_index.get_indexer(node)
        hit = ii >= 0
        i_state[ii[hit]] = rec_state[hit]
        recorded = ~inst["kind"].isin(_INSTITUTION_KINDS).to_numpy()[ii[hit]]
        i_exp[ii[hit][recorded]] = rec_exp[hit][recorded]
        ui = st.unit_index.get_indexer(node)
        hit = ui >= 0
        code = pd.Index(states).get_indexer(rec_state[hit])
        known = code >= 0
        u_state[ui[hit][known]] = code[known]
        u_exp[ui[hit]] = rec_exp[hit]
        if set(states[:3]) <= set(now.columns) and is_group.any():
            # the graph's own cohorts, recorded with counts per state (record_cohorts)
            counts = now[[s for s in states if s in now.columns]].to_numpy(dtype=float)[hit]
            rows = ui[hit]
            u_counts[rows] = 0.0
            u_counts[rows, :counts.shape[1]] = np.nan_to_num(counts)
            from_graph[rows] = False
    single = ~is_group
    u_counts[single] = 0.0
    u_counts[np.flatnonzero(single), u_state[single]] = u_members[single]
    stale = bool(from_graph.any())
    hits = _step_hits(st, events, step)
    i_event = inst["id"].isin(hits).to_numpy()
    u_event = st.units["id"].isin(hits).to_numpy() if hits else np.zeros(len(st.units), bool)

    gr = _grouping(st, expand, node_limit)
    n_groups = len(gr.ids)
    gp, up = gr.pair_group, gr.pair_unit
    g_members = np.bincount(gp, weights=u_members[up], minlength=n_groups)
    g_exp = np.bincount(gp, weights=u_exp[up], minlength=n_groups)
    g_event = np.bincount(gp, weights=u_event[up], minlength=n_groups) > 0
    g_multi = np.bincount(gp, weights=gr.pair_multi * u_members[up], minlength=n_groups)
    g_counts = (np.stack([np.bincount(gp, weights=u_counts[up, s], minlength=n_groups)
                          for s in range(n_states)], axis=1) if n_groups
                else np.zeros((0, n_states)))
    edges = gr.edges
    group_ids, group_kind, group_venue, shown_units = gr.ids, gr.kind, gr.venue, gr.shown
    inst_ids = inst["id"].to_numpy(dtype=object)
    unit_ids = st.units["id"].to_numpy(dtype=object)

    # ---- nodes: institutions, groups, drawn traders
    circle = st.circle
    live = [g for g in range(n_groups) if group_kind[g] != "gone" and g_members[g] > 0]
    su = np.array(shown_units, dtype=np.int64)
    kinds = (inst["kind"].tolist() + ["cohort"] * len(live)
             + st.units["kind"].to_numpy(dtype=object)[su].tolist())
    exposure = np.concatenate([i_exp, g_exp[live], u_exp[su]])
    exposure = np.nan_to_num(exposure.clip(min=0.0))
    size = _sizes(kinds, exposure, circle)
    out_nodes: list[dict[str, Any]] = []
    bad_so_far: dict[str, float] = {}
    if len(st.bad_debt):
        before = st.bad_debt["step"].to_numpy() <= step
        for v, x in zip(st.bad_debt["venue"].to_numpy()[before],
                        st.bad_debt["value_usd"].to_numpy(dtype=float)[before], strict=True):
            bad_so_far[v] = bad_so_far.get(v, 0.0) + x
    fund_left = {i: (s, e) for i, s, e, k in zip(inst["id"], i_state, i_exp, inst["kind"],
                                                 strict=True) if k == "fund"}
    for j, (nid, label, kind) in enumerate(zip(inst["id"], inst["label"], inst["kind"],
                                               strict=True)):
        state = str(i_state[j])
        data = {"id": nid, "label": label, "kind": kind, "state": state,
                "exposure_usd": float(exposure[j]), "size": float(size[j]), "members": 1,
                "tooltip": _institution_tooltip(st, j, state, float(exposure[j]), bad_so_far,
                                                fund_left)}
        extra = " label-inside" if circle else ""
        out_nodes.append({"data": data, "classes": f"{kind} {state}"
                          + (" event" if i_event[j] else "") + extra})
    base = len(inst)
    for j, g in enumerate(live):
        counts = g_counts[g]
        members = round(g_members[g])
        state = states[int(np.argmax(counts))] if counts.sum() > 0 else "healthy"
        gid = group_ids[g]
        venue_name = str(inst_ids[group_venue[g]]) if group_venue[g] >= 0 else ""
        label, tooltip = _cohort_text(venue_name, group_kind[g] == "rest", members,
                                      round(g_multi[g]), counts, float(g_exp[g]),
                                      node_limit, stale)
        data = {"id": gid, "label": label, "kind": "cohort", "state": state,
                "exposure_usd": float(exposure[base + j]), "size": float(size[base + j]),
                "members": members, "multi_venue": round(g_multi[g]), "tooltip": tooltip}
        total = max(float(counts.sum()), 1e-12)
        for s, k in zip(states, counts.tolist(), strict=True):
            data[f"{s}_share"] = k / total
        out_nodes.append({"data": data, "classes": f"cohort {state}"
                          + (" event" if g_event[g] else "") + (" minor" if circle else "")})
    base += len(live)
    u_labels = st.units["label"].to_numpy(dtype=object)
    u_kinds = st.units["kind"].to_numpy(dtype=object)
    for j, u in enumerate(su.tolist()):
        state = states[int(u_state[u])]
        exp = float(exposure[base + j])
        tooltip = "\n".join([
            f"{u_labels[u]} ({'one trader' if u_kinds[u] == 'trader' else 'a group of traders'})",
            f"State: {STATE_STYLES[state].name}",
            f"Exposure: {format_usd(exp)} (its accounts at all venues)",
            "Accounts at: " + (", ".join(st.unit_venues[u]) or "none left")])
        data = {"id": str(unit_ids[u]), "label": str(u_labels[u]), "kind": str(u_kinds[u]),
                "state": state, "exposure_usd": exp, "size": float(size[base + j]),
                "members": int(u_members[u]), "cohort": gr.drawn_for[j], "tooltip": tooltip}
        out_nodes.append({"data": data, "classes": f"{u_kinds[u]} {state}"
                          + (" event" if u_event[u] else "")})

    weight = np.nan_to_num(edges["weight"].to_numpy(dtype=float).clip(min=0.0))
    top = float(weight.max()) if weight.size else 0.0
    width = 1.0 + 7.0 * np.sqrt(weight / top) if top > 0 else np.full(weight.size, 1.0)
    drawn = set(unit_ids[su].tolist()) if su.size else set()
    out_edges = [{"data": {"id": f"{s}|{t}|{k}", "source": s, "target": t, "type": k,
                           "weight": w, "width": wd},
                  "classes": f"{k} fine" if s in drawn or t in drawn else k}
                 for s, t, k, w, wd in zip(edges["source"].tolist(), edges["target"].tolist(),
                                           edges["type"].tolist(), weight.tolist(),
                                           np.round(width, 2).tolist(), strict=True)]
    return out_nodes + out_edges


_INSTITUTION_KINDS = ("lending", "perp", "custodial", "firm")


def _share_out(sizes: list[int], budget: int) -> list[int]:
    """Split ``budget`` among groups of ``sizes`` as evenly as their sizes allow.

    >>> _share_out([10, 300, 800], 500), _share_out([3, 4], 500)
    ([10, 245, 245], [3, 4])
    """
    quota = [0] * len(sizes)
    left, open_ = max(budget, 0), [i for i, s in enumerate(sizes) if s > 0]
    while left > 0 and open_:
        each = max(left // len(open_), 1)
        for i in list(open_):
            take = min(each, sizes[i] - quota[i], left)
            quota[i] += take
            left -= take
            if quota[i] == sizes[i]:
                open_.remove(i)
            if left == 0:
                break
    return quota


def _sizes(kinds: list[str], exposure: np.ndarray, circle: bool) -> np.ndarray:
    """Node sizes: each kind's range (:data:`KIND_STYLES`) by the square root of exposure
    relative to the largest in its layer this step (venues and firms are compared with each
    other, cohorts with cohorts...)."""
    kind = np.array(kinds, dtype=object)
    layer = np.array([min(_kind_style(k).layer, 3) if k != "firm" else 1 for k in kinds])
    top = np.zeros(len(kinds))
    for r in np.unique(layer):
        at = layer == r
        top[at] = exposure[at].max()
    rel = np.sqrt(np.divide(exposure, top, out=np.zeros(len(kinds)), where=top > 0))
    out = np.zeros(len(kinds))
    for k in dict.fromkeys(kinds):
        lo, hi = (_CIRCLE_SIZES.get(k) if circle else None) or _kind_style(k).sizes
        at = kind == k
        out[at] = lo + (hi - lo) * rel[at]
    return np.round(out, 1)


def _cohort_text(venue: str, rest: bool, members: int, multi: int, counts: np.ndarray,
                 exposure: float, limit: int, stale: bool = False) -> tuple[str, str]:
    """A cohort's label and tooltip."""
    total = max(float(counts.sum()), 1e-12)
    shares = " · ".join(f"{STATE_STYLES[s].name} {100 * k / total:.0f}% ({round(k)})"
                        for s, k in zip(STATE_STYLES, counts.tolist(), strict=True)
                        if s not in ("defaulted", "drained") or k > 0)
    if not venue:
        label = f"Other traders ({members:,})"
        head = [label, f"{members:,} traders without a position or event at any venue"]
    elif rest:
        label = f"{venue}: {members:,} more"
        head = [f"{venue} traders not drawn", f"{members:,} traders with an account at {venue}",
                f"(at most {limit:,} traders are drawn one by one, largest positions first)"]
    else:
        label = f"{venue} traders ({members:,})"
        head = [f"{venue} traders", f"{members:,} traders with an account at {venue}"]
    lines = [*head]
    if multi:
        lines.append(f"{multi:,} of them also have accounts elsewhere (counted in each venue's "
                     "cohort)")
    lines.append(shares + (" (as the run ended: the graph of a run this large groups its "
                           "traders)" if stale else ""))
    lines.append(f"Exposure: {format_usd(exposure)} (their accounts at all venues)")
    if venue and not rest:
        lines.append("Expand to draw each trader.")
    return label, "\n".join(lines)


def _institution_tooltip(st: _Static, j: int, state: str, exposure: float,
                         bad_so_far: Mapping[str, float], funds: Mapping[str, tuple[str, float]]
                         ) -> str:
    nid, kind = str(st.inst_index[j]), st.kinds[j]
    attrs, links = st.attrs[j], st.neighbours.get(nid, {})
    style = STATE_STYLES.get(state)
    lines = [f"{st.labels[j]} ({_kind_style(kind).legend})",
             f"State: {style.name if style else state.replace('_', ' ')}"]
    if kind in _INSTITUTION_KINDS:
        lines.append(f"Deposits, collateral and credit it holds: {format_usd(exposure)} "
                     "(end of run)")
        if "external_assets_usd" in attrs:
            lines.append(f"Outside assets {format_usd(attrs['external_assets_usd'])}, outside "
                         f"debts {format_usd(attrs.get('external_liabilities_usd'))}")
    elif kind == "peg":
        lines.append(f"{attrs.get('stable', 'stablecoin')} in circulation: {format_usd(exposure)}"
                     " at $1")
    elif kind == "bridge":
        lines.append(f"{attrs.get('asset', 'claims')} outstanding: {format_usd(exposure)} at "
                     f"the underlying's price; backed {float(attrs.get('backing_ratio', 1.0)):.0%}")
    elif kind == "yield_venue":
        lines.append(f"Deposits left: {format_usd(exposure)} of {attrs.get('depositors', 0):,} "
                     "depositors")
    elif kind == "fund":
        lines.append(f"Balance: {format_usd(exposure)}")
        if links.get("backstop>"):
            lines.append("Covers: " + ", ".join(links["backstop>"]))
    elif kind == "pool":
        lines.append(f"Liquidity: {format_usd(exposure)} (end of run)")
        if links.get("<liquidity"):
            lines.append("Sold into by: " + ", ".join(links["<liquidity"]))
    elif kind == "oracle":
        lines.append("Feeds: " + (", ".join(links.get("price_feed>", [])) or "nobody"))
    elif kind == "clearing_house":
        lines.append("Members' margin and default fund it holds: "
                     f"{format_usd(float(attrs.get('exposure_usd', 0.0)))} (end of run)")
        if links.get("<clears"):
            lines.append("Members: " + ", ".join(links["<clears"]))
    if kind in ("lending", "perp") or nid in bad_so_far:
        lines.append(f"Bad debt so far: {format_usd(bad_so_far.get(nid, 0.0))}")
    for fund in links.get("<backstop", []):
        if fund in funds:
            f_state, balance = funds[fund]
            spent = " (spent)" if f_state == "defaulted" else ""
            lines.append(f"{fund}: {format_usd(balance)} left{spent}")
    for k, words in (("credit>", "Lends to"), ("<credit", "Borrows from")):
        if links.get(k):
            lines.append(f"{words}: " + ", ".join(links[k]))
    return "\n".join(lines)


# ---------------------------------------------------------------------- stylesheet
def network_stylesheet() -> list[dict[str, Any]]:
    """Cytoscape stylesheet for :func:`network_elements`, from the style tables.

    State by fill colour *and* a white pattern and a border style (:data:`STATE_STYLES`);
    cohorts as a pie of their members' states; kind by shape (:data:`KIND_STYLES`); the
    ``event`` marker as a yellow halo with a dark ring around the node (no state uses it);
    edges coloured and dashed by type (:data:`EDGE_STYLES`), width from ``data(width)``,
    arrows towards the target. Labels are :data:`LABEL_FONT_PX` model px on a white
    backing; traders' labels and the depositor pies of an interbank circle are smaller and
    only shown once zoomed in (``min-zoomed-font-size``).

    Examples
    --------
    >>> sheet = {s["selector"]: s["style"] for s in network_stylesheet()}
    >>> sheet["node.at_risk"]["background-color"], sheet["node.at_risk"]["border-style"]
    ('#D55E00', 'dashed')
    >>> sheet["node.event"]["underlay-color"]
    '#F0E442'
    """
    sheet: list[dict[str, Any]] = [
        {"selector": "node", "style": {
            "width": "data(size)", "height": "data(size)", "background-color": "#BBBBBB",
            "border-width": 1.5, "border-color": "#222222", "label": "data(label)",
            "font-size": LABEL_FONT_PX, "min-zoomed-font-size": 7, "color": "#111111",
            "text-valign": "bottom", "text-halign": "center", "text-margin-y": 3,
            "text-wrap": "wrap", "text-max-width": _LABEL_MAX_WIDTH,
            "text-background-color": "#FFFFFF", "text-background-opacity": 0.85,
            "text-background-padding": 1, "text-background-shape": "round-rectangle"}},
        {"selector": "edge", "style": {
            "width": "data(width)", "curve-style": "bezier", "target-arrow-shape": "triangle",
            "arrow-scale": 0.9, "opacity": 0.7, "line-color": "#999999",
            "target-arrow-color": "#999999",
            # edges ignore the pointer: clicks go to the nodes (edges cross the venues, and
            # cytoscape would otherwise pick an edge under a node)
            "events": "no"}},
    ]
    for state, s in STATE_STYLES.items():
        style: dict[str, Any] = {"background-color": s.colour, "border-style": s.border,
                                 "border-width": s.border_width}
        uri = pattern_uri(s.pattern)
        if uri is not None:
            tiled = PATTERNS[s.pattern][1]
            style.update({"background-image": uri, "background-clip": "node",
                          "background-image-containment": "inside",
                          "background-repeat": "repeat" if tiled else "no-repeat",
                          "background-width": 9 if tiled else "72%",
                          "background-height": 9 if tiled else "72%"})
        sheet.append({"selector": f"node.{state}", "style": style})
    # cytoscape compares min-zoomed-font-size with the font size times the zoom rounded up
    # to a power of two: these labels show from zoom 1 up (a user zooming in), never at fit
    small = {"font-size": _MINOR_FONT_PX, "min-zoomed-font-size": _MINOR_FONT_PX + 1}
    pie: dict[str, Any] = {"background-color": "#FFFFFF", "background-image": "none",
                           "border-style": "solid", "border-width": 2, "pie-size": "100%"}
    for i, (state, s) in enumerate(STATE_STYLES.items(), start=1):
        pie[f"pie-{i}-background-color"] = s.colour
        pie[f"pie-{i}-background-size"] = f"mapData({state}_share, 0, 1, 0, 100)"
    extra: dict[str, dict[str, Any]] = {"cohort": pie,
                                        "trader": {**small, "text-background-opacity": 0}}
    sheet += [{"selector": f"node.{kind}", "style": {"shape": k.shape, **extra.get(kind, {})}}
              for kind, k in KIND_STYLES.items()]
    sheet.append({"selector": "node.minor", "style": small})
    sheet.append({"selector": "node.label-inside", "style": {
        "text-valign": "center", "text-margin-y": 0, "text-background-opacity": 0,
        "color": "#FFFFFF", "text-outline-color": "#000000", "text-outline-width": 3,
        "font-weight": "bold"}})
    sheet.append({"selector": "edge.fine", "style": {"opacity": 0.35}})  # a drawn trader's
    for etype, e in EDGE_STYLES.items():
        dash = DASH_PATTERNS[e.dash]
        style = {"line-color": e.colour, "target-arrow-color": e.colour,
                 "line-style": "solid" if dash is None else "dashed"}
        if dash is not None:
            style["line-dash-pattern"] = dash
        sheet.append({"selector": f"edge.{etype}", "style": style})
    sheet.append({"selector": "node.event", "style": {
        "underlay-color": EVENT_HALO["colour"], "underlay-opacity": 1,
        "underlay-padding": 8, "underlay-shape": "ellipse",
        "outline-color": EVENT_HALO["ring"], "outline-width": 1.5, "outline-offset": 8,
        "outline-style": "solid", "z-index": 10}})
    boxy = [k for k, v in KIND_STYLES.items() if "rectangle" in v.shape or v.shape == "barrel"]
    sheet.append({"selector": ", ".join(f"node.event.{k}" for k in boxy),
                  "style": {"underlay-shape": "round-rectangle"}})
    sheet.append({"selector": ":selected", "style": {"overlay-color": "#333333",
                                                     "overlay-opacity": 0.25,
                                                     "overlay-padding": 6}})
    return sheet


# ---------------------------------------------------------------------- positions
@dataclass
class _Box:
    """A node's footprint for the layout: its size and its label's width and height."""

    size: float
    label_w: float
    label_h: float
    inside: bool

    @property
    def width(self) -> float:
        return max(self.size, self.label_w)

    @property
    def below(self) -> float:  # how far the footprint reaches below the centre
        return self.size / 2 + (0.0 if self.inside else 3 + self.label_h)


def _label_box(label: str, font: float) -> tuple[float, float]:
    """Estimated width and height of a wrapped label in model px."""
    if not label:
        return 0.0, 0.0
    char = _CHAR_WIDTH_EM * font
    lines = 0
    widest = 0.0
    for part in label.split("\n"):
        words = part.split(" ")
        line = ""
        for w in words:  # as cytoscape wraps: at spaces only, a long word overflows
            trial = f"{line} {w}".strip()
            if line and len(trial) * char > _LABEL_MAX_WIDTH:
                widest = max(widest, len(line) * char)
                lines += 1
                line = w
            else:
                line = trial
        widest = max(widest, len(line) * char)
        lines += 1
    return widest, lines * _LINE_EM * font


def _boxes(nodes: list[tuple[dict[str, Any], str]], circle: bool) -> dict[str, _Box]:
    out = {}
    for d, classes in nodes:
        kind = d.get("kind", "")
        _lo, hi = (_CIRCLE_SIZES.get(kind) if circle else None) or _kind_style(kind).sizes
        small = kind == "trader" or "minor" in classes
        font = _MINOR_FONT_PX if small else LABEL_FONT_PX
        w, h = _label_box(str(d.get("label", "")), font)
        out[d["id"]] = _Box(max(hi, float(d.get("size", hi))), w, h, "label-inside" in classes)
    return out


def node_positions(elements: list[dict[str, Any]], *, layout: str = "auto"
                   ) -> dict[str, dict[str, float]]:
    """Fixed positions for every node of ``elements`` (compute once per run).

    ``layout``:

    * ``"layers"``, top to bottom: oracles and pools (above the venues they serve);
      venues (lending, perp, custodial, pegs, yield venues); firms and funds (a fund next
      to the venue it backs, a firm between the venues it deals with); cohorts (under
      their venue); traders drawn one by one in a grid under the venue of their cohort.
    * ``"circle"``: institutions on a circle, each venue's cohort just outside it, its
      drawn traders in arcs further out (textbook interbank networks).
    * ``"auto"``: ``"circle"`` when :func:`interbank` says the nodes are one, else layers.

    Rows are spread so that no two footprints (node and label) overlap, and spaced for
    the largest size each kind can take, so positions stay valid at every step.
    Deterministic: the same elements give the same positions.

    Examples
    --------
    >>> els = [{"data": {"id": "V", "kind": "lending", "label": "V"}},
    ...        {"data": {"id": "cohort:V", "kind": "cohort", "label": "V traders (3)"}},
    ...        {"data": {"id": "o", "kind": "oracle", "label": "feed"}},
    ...        {"data": {"id": "e", "source": "o", "target": "V", "type": "price_feed"}}]
    >>> pos = node_positions(els)
    >>> pos["o"]["y"] < pos["V"]["y"] < pos["cohort:V"]["y"], pos["V"]["x"] == pos["cohort:V"]["x"]
    (True, True)
    """
    nodes = [(e["data"], e.get("classes", "")) for e in elements if "source" not in e["data"]]
    kinds = [d.get("kind", "") for d, _ in nodes]
    if layout == "auto":
        layout = "circle" if interbank(kinds) else "layers"
    if layout not in ("layers", "circle"):
        raise ValueError(f"layout must be 'auto', 'layers' or 'circle', not {layout!r}")
    circle = layout == "circle"
    boxes = _boxes(nodes, circle)
    links: dict[str, list[tuple[str, str]]] = {d["id"]: [] for d, _ in nodes}
    for e in elements:
        d = e["data"]
        if "source" in d and d["source"] in links and d["target"] in links:
            links[d["source"]].append((d["target"], f"{d.get('type', '')}>"))
            links[d["target"]].append((d["source"], f"<{d.get('type', '')}"))
    kind_of = {d["id"]: d.get("kind", "") for d, _ in nodes}
    homes = {d["id"]: str(d["cohort"]).removeprefix("cohort:") for d, _ in nodes
             if d.get("cohort")}
    order = [d["id"] for d, _ in nodes]
    if circle:
        return _circle(order, kind_of, boxes, links, homes)
    return _layers(order, kind_of, boxes, links, homes)


_GAP = 18.0       # between footprints in a row
_ROW_GAP = 46.0   # between one row's labels and the next row's nodes


def _spread(ids: list[str], want: dict[str, float], boxes: Mapping[str, _Box]) -> dict[str, float]:
    """x of each node of a row: footprints do not overlap, the order is that of the wanted
    xs (ties in element order), and the squared distance to the wanted xs is the least
    (isotonic regression by pool-adjacent-violators on the wanted xs less the gaps)."""
    if not ids:
        return {}
    row = sorted(ids, key=lambda n: want[n])
    gaps = [0.0] + [(boxes[a].width + boxes[b].width) / 2 + _GAP
                    for a, b in itertools.pairwise(row)]
    offset = np.cumsum(gaps)
    target = np.array([want[n] for n in row]) - offset
    blocks: list[list[float]] = []   # [mean, count]
    for t in target.tolist():
        blocks.append([t, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    fitted = np.repeat([m for m, _ in blocks], [int(c) for _, c in blocks])
    return {n: float(x) for n, x in zip(row, fitted + offset, strict=True)}


def _layers(order: list[str], kind_of: Mapping[str, str], boxes: Mapping[str, _Box],
            links: Mapping[str, list[tuple[str, str]]], homes: Mapping[str, str]
            ) -> dict[str, dict[str, float]]:
    layer = {n: _kind_style(kind_of[n]).layer for n in order}
    venues = [n for n in order if layer[n] == 1]
    # Institutions must not move when a cohort is expanded (or comes back): the layout
    # sizes every venue's cohort by a stand-in label with a six-digit count, whether the
    # cohort is drawn, expanded or left as a rest.
    cohort_venues = {n.removeprefix("cohort:").removesuffix(":rest") for n in order
                     if layer[n] == 3} | set(homes.values())
    big = KIND_STYLES["cohort"].sizes[1]
    canon = {v: _Box(big, *_label_box(f"{v} traders (999,999)", LABEL_FONT_PX), False)
             for v in sorted(cohort_venues)}
    # a column holds a venue, its cohort and (to the right) its fund; the funds and firms'
    # row gets its share of the width too, so that funds stay next to their venues
    second = sum(boxes[n].width + _GAP for n in order if layer[n] == 2)
    column = max([130.0, second / max(len(venues), 1),
                  *(boxes[n].width + _GAP for n in venues),
                  *(b.width + _GAP for v, b in canon.items() if v in venues)])
    x: dict[str, float] = {n: i * column for i, n in enumerate(venues)}
    x.update(_spread(venues, x, boxes))
    right = max(x.values(), default=0.0) + column

    def near(n: str, fallback: float) -> float:
        xs = [x[m] for m, _ in links[n] if m in x and layer[m] == 1]
        return float(np.mean(xs)) if xs else fallback

    rows: dict[int, list[str]] = {r: [n for n in order if layer[n] == r] for r in (0, 2, 3)}
    want: dict[str, float] = {}
    for n in rows[0]:
        want[n] = near(n, right)
    for n in rows[2]:
        backs = [m for m, t in links[n] if t == "backstop>" and m in x]
        want[n] = (x[backs[0]] + column * 0.5 if backs and kind_of[n] == "fund"
                   else near(n, right))
    for n in rows[3]:
        venue = n.removeprefix("cohort:").removesuffix(":rest")
        want[n] = x[venue] if venue in x else near(n, right)  # a rest takes its cohort's place
    for r in (0, 2, 3):
        x.update(_spread(rows[r], want, boxes))
    # traders drawn one by one: a grid per venue (their first linked venue), under it
    blocks: dict[str, list[str]] = {}
    for n in order:
        if layer[n] == 4:
            home = homes.get(n, "")
            if home not in x:
                home = next((m for m, _ in links[n] if m in x and layer[m] == 1), "")
            blocks.setdefault(home, []).append(n)
    cell = max([22.0, *(boxes[n].size + 6 for ns in blocks.values() for n in ns)])
    block_box, block_cols = {}, {}
    for home, ns in blocks.items():
        cols = max(1, math.ceil(math.sqrt(len(ns) * 1.6)))
        block_cols[home] = cols
        block_box[home] = _Box(cols * cell, 0.0, 0.0, True)
    block_x = _spread(list(blocks), {h: x.get(h, right) for h in blocks}, block_box)
    # rows' y: each row below the previous one's footprint; a picture wider than the
    # canvas gets taller gaps (up to 3 times), so it fills the canvas at the same zoom
    rows_in = [[n for n in order if layer[n] == r] for r in (0, 1, 2, 3)]
    extents = [(max(boxes[n].size / 2 for n in ns), max(boxes[n].below for n in ns))
               if ns else (0.0, 0.0) for ns in rows_in]
    if canon:  # the cohorts' row, as if every venue's cohort were drawn
        extents[3] = (big / 2, max([b.below for b in canon.values()]
                                   + [boxes[n].below for n in rows_in[3]]))
    keep = [i for i in range(4) if rows_in[i] or (i == 3 and canon)]
    rows_in, extents = [rows_in[i] for i in keep], [extents[i] for i in keep]
    # (drawn traders and rests do not count: institutions stay put when one is expanded)
    height = sum(a + b for a, b in extents) + _ROW_GAP * (len(extents) - 1)
    spans = [(x[n], boxes[n].width) for ns in rows_in for n in ns if layer[n] < 3]
    spans += [(x[v], b.width) for v, b in canon.items() if v in x]
    left = min((c - w / 2 for c, w in spans), default=0.0)
    right_end = max((c + w / 2 for c, w in spans), default=0.0)
    gaps = len(extents) - 1
    spare = (right_end - left) * CANVAS[1] / CANVAS[0] - height
    gap = _ROW_GAP + (min(spare / gaps, 2 * _ROW_GAP) if gaps and spare > 0 else 0.0)
    pos: dict[str, dict[str, float]] = {}
    y = 0.0
    prev_below = 0.0
    for ns, (above, below) in zip(rows_in, extents, strict=True):
        y = y + prev_below + gap + above if pos else 0.0
        for n in ns:
            pos[n] = {"x": round(x[n], 1), "y": round(y, 1)}
        prev_below = below
    top = y + prev_below + _ROW_GAP + cell / 2
    for home, ns in blocks.items():
        cols = block_cols[home]
        x0 = block_x[home] - (cols - 1) * cell / 2
        for i, n in enumerate(ns):
            pos[n] = {"x": round(x0 + (i % cols) * cell, 1), "y": round(top + (i // cols) * cell, 1)}
    for n in order:  # kinds the table does not know
        pos.setdefault(n, {"x": round(right, 1), "y": 0.0})
    return pos


def _ellipse_points(a: float, b: float, arcs: list[float]) -> list[float]:
    """Parameters t of points on the ellipse (a cos t, b sin t) that split its perimeter
    in proportion to ``arcs``, each point in the middle of its share, the first at the top."""
    t = np.linspace(-math.pi / 2, 3 * math.pi / 2, 4001)
    seg = np.hypot(np.diff(a * np.cos(t)), np.diff(b * np.sin(t)))
    length = np.concatenate([[0.0], np.cumsum(seg)])
    share = np.cumsum(arcs) - np.asarray(arcs) / 2
    at = share / max(sum(arcs), 1e-9) * length[-1]
    return np.interp(at, length, t).tolist()


def _circle(order: list[str], kind_of: Mapping[str, str], boxes: Mapping[str, _Box],
            links: Mapping[str, list[tuple[str, str]]], homes: Mapping[str, str]
            ) -> dict[str, dict[str, float]]:
    """Institutions on a ring stretched to the canvas's aspect (an ellipse), cohorts just
    outside their venue, drawn traders in rows further out."""
    ring = [n for n in order if kind_of[n] not in _UNIT_KINDS]
    arcs = [boxes[n].width + 10.0 for n in ring]
    aspect = CANVAS[0] / CANVAS[1]
    # perimeter of an ellipse with semi-axes (aspect b, b), Ramanujan: ~ k b
    k = math.pi * (3 * (aspect + 1) - math.sqrt((3 * aspect + 1) * (aspect + 3)))
    b = max(sum(arcs) / k, 150.0)  # a few banks are not blown up to the whole canvas
    a = aspect * b
    pos: dict[str, dict[str, float]] = {}
    param = dict(zip(ring, _ellipse_points(a, b, arcs), strict=True))
    for n in ring:
        pos[n] = {"x": a * math.cos(param[n]), "y": b * math.sin(param[n])}
    inst_size = max([boxes[n].size for n in ring], default=40.0)
    people = [n for n in order if kind_of[n] in _UNIT_KINDS]
    coh_size = max([boxes[n].size for n in people if kind_of[n] == "cohort"], default=20.0)
    out = inst_size / 2 + 8 + coh_size / 2  # centre of a venue to centre of its cohort

    def at(t: float, d: float) -> dict[str, float]:
        return {"x": (a + d) * math.cos(t), "y": (b + d) * math.sin(t)}

    by_venue: dict[str, list[str]] = {}
    for n in people:
        if kind_of[n] == "cohort":
            venue = n.removeprefix("cohort:").removesuffix(":rest")
            if venue not in param:
                pos[n] = {"x": 0.0, "y": 0.0}
            else:
                pos[n] = at(param[venue], out)  # a rest takes its cohort's place
        else:
            home = homes.get(n, "")
            if home not in param:
                home = next((m for m, _ in links[n] if m in param), "")
            by_venue.setdefault(home, []).append(n)
    cell = 16.0
    for home, ns in by_venue.items():
        t0 = param.get(home, math.pi / 2)
        width = boxes[home].width + 10.0 if home in param else 2 * math.pi * b
        d = out + coh_size + 14
        i = 0
        while i < len(ns):
            cap = max(1, int(width * (1 + d / b) / cell))
            chunk = ns[i:i + cap]
            for j, n in enumerate(chunk):
                # along the tangent: dt ~ ds / |r'(t)|
                speed = math.hypot((a + d) * math.sin(t0), (b + d) * math.cos(t0))
                pos[n] = at(t0 + (j - (len(chunk) - 1) / 2) * cell / speed, d)
            i += cap
            d += cell
    return {n: {"x": round(p["x"], 1), "y": round(p["y"], 1)} for n, p in pos.items()}


def screen_font_px(positions: Mapping[str, Mapping[str, float]], font_size: float,
                   canvas: tuple[float, float] = CANVAS, *,
                   elements: list[dict[str, Any]] | None = None,
                   padding: float = _FIT_PADDING) -> float:
    """On-screen size in px of a ``font_size`` label after cytoscape's fit of ``positions``
    on a ``canvas`` (width, height) with ``padding``.

    Fit zoom = min((W - 2 padding) / width, (H - 2 padding) / height) of the bounding box;
    with ``elements``, the box holds each node's footprint (its size and estimated label,
    as cytoscape's own fit does), else just the positions (a node of size 0).

    >>> pos = {"a": {"x": 0, "y": 0}, "b": {"x": 370, "y": 250}}
    >>> screen_font_px(pos, 10)
    20.0
    """
    if not positions:
        return float("inf")
    xs = np.array([p["x"] for p in positions.values()], dtype=float)
    ys = np.array([p["y"] for p in positions.values()], dtype=float)
    left, right, top, bottom = xs.copy(), xs.copy(), ys.copy(), ys.copy()
    if elements is not None:
        nodes = [(e["data"], e.get("classes", "")) for e in elements if "source" not in e["data"]]
        circle = interbank(d.get("kind", "") for d, _ in nodes)
        boxes = _boxes(nodes, circle)
        ids = list(positions)
        half = np.array([boxes[n].width / 2 if n in boxes else 0.0 for n in ids])
        up = np.array([boxes[n].size / 2 if n in boxes else 0.0 for n in ids])
        down = np.array([boxes[n].below if n in boxes else 0.0 for n in ids])
        left, right, top, bottom = xs - half, xs + half, ys - up, ys + down
    width = max(float(right.max() - left.min()), 1e-9)
    height = max(float(bottom.max() - top.min()), 1e-9)
    zoom = min((canvas[0] - 2 * padding) / width, (canvas[1] - 2 * padding) / height)
    return round(font_size * zoom, 2)
