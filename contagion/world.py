"""The world graph: the scenario's institutions and the typed links the engine runs over.

:func:`build_world` turns a :class:`~contagion.scenario.Scenario` into a NetworkX
``MultiDiGraph`` once, at set-up; :class:`~contagion.model.ContagionModel` keeps it as
``model.graph`` and reads every contagion channel from its edges (:func:`resolve_wiring`),
so a user who deletes or adds an edge, in the scenario file or on the graph, changes the
cascade. Nodes carry ``kind`` (``lending``, ``perp``, ``custodial``, ``firm``, ``peg``,
``yield_venue``, ``clearing_house``, ``oracle``, ``pool``, ``fund``, ``asset``); traders stay rows in the
venues' books.

Edges (their ``type``; one edge per type between two nodes, keyed by type and asset):

=================  =========================  ==============================================
type               direction                  what the engine reads from it
=================  =========================  ==============================================
``price_feed``     oracle -> venue            the oracle a venue marks ``asset`` to (held as
                                              collateral or owed as debt); without one the
                                              venue reads the market price itself. Keyed by
                                              the numeraire (``market.numeraire_oracle``
                                              set), also to custodial exchanges: the price
                                              the venue values the numeraire at; without
                                              one it keeps valuing it at $1
``liquidity``      venue -> pool              the pool a venue's liquidators (or a custodian's
                                              fire sales) sell ``asset`` into, or buy a
                                              borrowed ``asset`` from to repay its debt;
                                              without one, the external order book
``backstop``       fund -> venue              the insurance fund that pays the venue's bad
                                              debt; without one losses go straight to
                                              suppliers (socialised) or ADL
``cross_margin``   custodian -> perp venue    the custodian whose deposits cross-margined
                                              accounts at the perp venue count as margin
``credit``         lender -> borrower         an unsecured loan of ``amount_usd``: what the
                                              clearing (Eisenberg-Noe) reads each step
``supply``         custodian -> lender        the custodian's supply to a lending pool,
                                              ``amount_usd`` (recalled in a run, socialised
                                              losses hit it)
``issues``         institution -> asset       the venue token that crashes when its issuer
                                              defaults (from a bridge: the claim it mints,
                                              repriced to its backing)
``tops_up``        trader cohort -> venue     the cohort's traders who defend their
                                              positions (``tops_up``) repay debt or add
                                              margin there from their wallets; without it
                                              they let that venue liquidate them
``locks``          bridge -> asset            the asset a bridge holds locked: its claim's
                                              underlying (checked; the bridge's books value
                                              its locked units at that asset's price)
``bridge_route``   bridge -> perp venue       the venue's cross-margin transfers cross the
                                              bridge: its finality delays them, its halt
                                              freezes them; without it, the plain delay
=================  =========================  ==============================================

Trader cohorts are nodes ``traders:isolated`` and ``traders:cross`` (kind ``traders``): the
traders whose perp accounts are margined alone, and those cross-margined with their deposit
at a custodial exchange. Their accounts stay rows in the venues' books.

Examples
--------
>>> from models import get_scenario
>>> G = build_world(get_scenario("default"))
>>> sorted({d["type"] for _, _, d in G.edges(data=True)})
['backstop', 'credit', 'cross_margin', 'issues', 'liquidity', 'price_feed', 'supply', 'tops_up']
>>> sorted((u, d["asset"]) for u, v, d in G.in_edges("LendB", data=True) if d["type"] == "price_feed")
[('ETH-twap', 'ETH'), ('EXT-spot', 'EXT'), ('LND-twap', 'LND')]
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from contagion.errors import NetworkFormatError, ParameterError
from contagion.scenario import Scenario

__all__ = ["TRADER_COHORTS", "WORLD_EDGE_TYPES", "Wiring", "asset_node", "build_world",
           "check_world", "cohort_node", "read_world", "resolve_wiring", "write_world"]

WORLD_EDGE_TYPES = ("price_feed", "liquidity", "backstop", "cross_margin", "credit", "supply",
                    "issues", "tops_up", "clears", "default_fund", "locks", "bridge_route")
TRADER_COHORTS = ("isolated", "cross")


def cohort_node(cohort: str) -> str:
    """The node id of a trader cohort (``isolated`` or ``cross``)."""
    return f"traders:{cohort}"


def asset_node(asset: str) -> str:
    """The node id of an asset (prefixed: an asset may share its name with an oracle)."""
    return f"asset:{asset}"


def _add_node(G: nx.MultiDiGraph, name: str, kind: str) -> None:
    if name in G:
        raise ParameterError(f"{kind} name", name,
                             "a name no other institution, oracle, pool or fund uses",
                             f"{name!r} is already a {G.nodes[name]['kind']} node of the world graph")
    G.add_node(name, kind=kind, label=name)


def _edge(G: nx.MultiDiGraph, u: str, v: str, kind: str, **attrs: Any) -> None:
    key = f"{kind}:{attrs['asset']}" if "asset" in attrs else kind
    G.add_edge(u, v, key=key, type=kind, **attrs)


def build_world(scenario: Scenario) -> nx.MultiDiGraph:
    """The scenario's world graph: institutions, oracles, pools, funds and venue tokens,
    linked by the edges the engine reads (see the module docstring)."""
    sc = scenario
    G = nx.MultiDiGraph(scenario=sc.name)
    for kind, items in (("lending", sc.lending), ("perp", sc.perps), ("custodial", sc.custodial),
                        ("firm", sc.firms), ("peg", sc.pegs), ("yield_venue", sc.yield_venues),
                        ("oracle", sc.oracles), ("pool", sc.pools), ("fund", sc.funds)):
        for item in items:
            _add_node(G, item.name, kind)
    for a in sc.assets:
        G.add_node(asset_node(a.name), kind="asset", label=a.name)
    pools_of: dict[str, list[str]] = {}
    for p in sc.pools:
        pools_of.setdefault(p.base, []).append(p.name)
    for v in sc.lending:
        for c in v.collateral:
            _edge(G, c.oracle, v.name, "price_feed", asset=c.asset)
            pool = c.pool if c.pool is not None else next(iter(pools_of.get(c.asset, [])), None)
            if pool is not None:
                _edge(G, v.name, pool, "liquidity", asset=c.asset)
        listed = {c.asset for c in v.collateral}
        for b in v.borrow:  # what a borrowed asset is worth, and where keepers buy it
            if b.asset in listed:
                continue  # one feed and one route per venue and asset: the collateral's
            _edge(G, b.oracle, v.name, "price_feed", asset=b.asset)
            pool = b.pool if b.pool is not None else next(iter(pools_of.get(b.asset, [])), None)
            if pool is not None:
                _edge(G, v.name, pool, "liquidity", asset=b.asset)
        if v.insurance_fund is not None:
            _edge(G, v.insurance_fund, v.name, "backstop")
    num_oracle = sc.market.numeraire_oracle
    if num_oracle is not None:  # every venue values a depegging numeraire at its oracle
        names = [v.name for v in sc.lending] + [v.name for v in sc.perps]
        for name in names + [v.name for v in sc.custodial]:
            _edge(G, num_oracle, name, "price_feed", asset=sc.market.numeraire)
    for pv in sc.perps:
        for asset, oracle in zip(pv.market_assets, pv.market_oracles, strict=True):
            _edge(G, oracle, pv.name, "price_feed", asset=asset)
        if pv.insurance_fund is not None:
            _edge(G, pv.insurance_fund, pv.name, "backstop")
    for k, ex in enumerate(sc.custodial):
        sold = [ex.token] if ex.token is not None else []
        sold += [asset for asset, _ in ex.asset_holdings_usd]
        for asset in sold:
            pool = next(iter(pools_of.get(asset, [])), None)
            if pool is not None:
                _edge(G, ex.name, pool, "liquidity", asset=asset)
        if ex.supply_to is not None:
            _edge(G, ex.name, ex.supply_to, "supply",
                  amount_usd=ex.supply_to_lending_frac * ex.deposits_usd)
        if k == 0 and sc.traders.cross_margin:  # the first exchange holds traders' deposits
            for pv in sc.perps:
                _edge(G, ex.name, pv.name, "cross_margin")
    credit: dict[tuple[str, str], float] = {}
    for link in sc.credit_links:
        credit[(link.lender, link.borrower)] = credit.get((link.lender, link.borrower), 0.0) \
            + link.amount_usd
    for (lender, borrower), amount in credit.items():
        _edge(G, lender, borrower, "credit", amount_usd=amount)
    for a in sc.assets:
        if a.issuer is not None:
            _edge(G, a.issuer, asset_node(a.name), "issues", asset=a.name)
    for cohort in TRADER_COHORTS:
        G.add_node(cohort_node(cohort), kind="traders", label=f"{cohort} traders")
        for venue in [*(v.name for v in sc.lending), *(p.name for p in sc.perps)]:
            _edge(G, cohort_node(cohort), venue, "tops_up")
    for h in sc.clearing_houses:
        _add_node(G, h.name, "clearing_house")
        _edge(G, h.oracle, h.name, "price_feed", asset=h.asset)
        margins, funds = h.resources_usd()
        for m, im, df in zip(h.members, margins, funds, strict=True):
            _edge(G, m.name, h.name, "clears", amount_usd=im)
            _edge(G, m.name, h.name, "default_fund", amount_usd=df)
    for br in sc.bridges:
        _add_node(G, br.name, "bridge")
        locked = next(a.underlying for a in sc.assets if a.name == br.asset)
        _edge(G, br.name, asset_node(str(locked)), "locks")
        _edge(G, br.name, asset_node(br.asset), "issues", asset=br.asset)
        for pv_name in br.margin_venues:
            _edge(G, br.name, pv_name, "bridge_route")
    return G


@dataclass
class Wiring:
    """The channels of one world graph, as the model's agents use them.

    ``feeds[(venue, asset)]`` is the oracle name (absent: the venue reads the market);
    ``routes[(venue, asset)]`` the pool name (absent: the external order book);
    ``backstops[venue]`` the fund; ``custodians[perp]`` the custodian; ``credit[(lender,
    borrower)]`` and ``supply[(custodian, lender)]`` amounts in USD; ``tokens[issuer]`` the
    assets it issues; ``topups`` the (cohort, venue) pairs where a cohort tops up;
    ``clears[(member, house)]`` and ``default_fund[(member, house)]`` a clearing member's
    initial margin and default-fund contribution in USD; ``locks[bridge]`` the asset a bridge
    holds locked; ``bridge_routes[perp]`` the bridge its cross-margin transfers cross.
    """

    feeds: dict[tuple[str, str], str] = field(default_factory=dict)
    routes: dict[tuple[str, str], str] = field(default_factory=dict)
    backstops: dict[str, str] = field(default_factory=dict)
    custodians: dict[str, str] = field(default_factory=dict)
    credit: dict[tuple[str, str], float] = field(default_factory=dict)
    supply: dict[tuple[str, str], float] = field(default_factory=dict)
    tokens: dict[str, list[str]] = field(default_factory=dict)
    topups: set[tuple[str, str]] = field(default_factory=set)
    clears: dict[tuple[str, str], float] = field(default_factory=dict)
    default_fund: dict[tuple[str, str], float] = field(default_factory=dict)
    locks: dict[str, str] = field(default_factory=dict)
    bridge_routes: dict[str, str] = field(default_factory=dict)


def _kinds(G: nx.MultiDiGraph, u: str, v: str) -> tuple[str, str]:
    return G.nodes[u].get("kind", "?"), G.nodes[v].get("kind", "?")


def resolve_wiring(G: nx.MultiDiGraph) -> Wiring:
    """Read every channel from ``G``'s edges, checking each edge joins the right kinds.

    Raises :class:`~contagion.errors.ParameterError` naming the edge for an unknown edge
    type, an edge between the wrong kinds of node, a missing or negative amount, or two
    oracles (pools, funds, custodians) for one venue and asset.
    """
    w = Wiring()
    allowed = {
        "price_feed": ({"oracle"}, {"lending", "perp", "custodial", "clearing_house"}),
        "liquidity": ({"lending", "custodial"}, {"pool"}),
        "backstop": ({"fund"}, {"lending", "perp"}),
        "cross_margin": ({"custodial"}, {"perp"}),
        "credit": ({"custodial"}, {"custodial", "firm"}),
        "supply": ({"custodial"}, {"lending"}),
        "issues": ({"lending", "perp", "custodial", "firm", "bridge"}, {"asset"}),
        "tops_up": ({"traders"}, {"lending", "perp"}),
        "clears": ({"custodial", "firm"}, {"clearing_house"}),
        "default_fund": ({"custodial", "firm"}, {"clearing_house"}),
        "locks": ({"bridge"}, {"asset"}),
        "bridge_route": ({"bridge"}, {"perp"}),
    }
    for u, v, data in _edges(G):
        kind = data.get("type")
        where = f"graph edge {u}->{v} ({kind})"
        if kind not in allowed:
            raise ParameterError(where, kind, "an edge type in " + ", ".join(WORLD_EDGE_TYPES))
        src, dst = allowed[kind]
        ku, kv = _kinds(G, u, v)
        if ku not in src or kv not in dst:
            raise ParameterError(where, f"{ku} -> {kv}",
                                 f"{' or '.join(sorted(src))} -> {' or '.join(sorted(dst))}")
        asset = data.get("asset")
        if kind in ("price_feed", "liquidity") and not isinstance(asset, str):
            raise ParameterError(f"{where}.asset", asset, "the asset it carries, e.g. 'ETH'")
        if kind == "price_feed":
            _once(w.feeds, (v, asset), u, where)
        elif kind == "liquidity":
            _once(w.routes, (u, asset), v, where)
        elif kind == "backstop":
            _once(w.backstops, v, u, where)
        elif kind == "cross_margin":
            _once(w.custodians, v, u, where)
        elif kind in ("credit", "supply", "clears", "default_fund"):
            amount = data.get("amount_usd")
            if isinstance(amount, bool) or not isinstance(amount, int | float) or not amount >= 0:
                raise ParameterError(f"{where}.amount_usd", amount, "a number >= 0")
            book = {"credit": w.credit, "supply": w.supply, "clears": w.clears,
                    "default_fund": w.default_fund}[kind]
            book[(u, v)] = book.get((u, v), 0.0) + float(amount)
        elif kind == "tops_up":
            w.topups.add((str(u).removeprefix("traders:"), v))
        elif kind == "locks":
            _once(w.locks, u, str(v).removeprefix("asset:"), where)
        elif kind == "bridge_route":
            _once(w.bridge_routes, v, u, where)
        else:  # issues
            w.tokens.setdefault(u, []).append(str(v).removeprefix("asset:"))
    return w


def check_world(G: nx.MultiDiGraph, scenario: Scenario) -> Wiring:
    """:func:`resolve_wiring`, then check the graph against ``scenario``: every node is one of
    its institutions, oracles, pools, funds or ``asset:NAME``; lenders are custodians; a
    price feed carries its oracle's asset and a liquidity route its pool's base. Raises
    :class:`~contagion.errors.ParameterError` naming the node or edge."""
    w = resolve_wiring(G)
    sc = scenario
    known = {x.name for items in (sc.lending, sc.perps, sc.custodial, sc.firms, sc.pegs,
                                  sc.yield_venues, sc.oracles, sc.pools, sc.funds,
                                  sc.clearing_houses, sc.bridges) for x in items}
    known |= {asset_node(a.name) for a in sc.assets}
    known |= {cohort_node(c) for c in TRADER_COHORTS}
    extra = sorted(set(G.nodes) - known, key=str)
    if extra:
        raise ParameterError("world graph node", extra[0], "a node of the scenario: "
                             "an institution, oracle, pool, fund, asset:NAME or "
                             "traders:isolated / traders:cross")
    custodians = {c.name for c in sc.custodial}
    for (lender, borrower) in w.credit:
        if lender not in custodians:
            raise ParameterError(f"graph edge {lender}->{borrower} (credit)", lender,
                                 "a custodial exchange lending to a firm or exchange")
    oracle_asset = {o.name: o.asset for o in sc.oracles}
    for (venue, asset), oracle in w.feeds.items():
        if oracle_asset[oracle] != asset:
            raise ParameterError(f"graph edge {oracle}->{venue} (price_feed)", asset,
                                 f"the oracle's own asset, {oracle_asset[oracle]!r}")
    listed = {(m.name, h.name) for h in sc.clearing_houses for m in h.members}
    for kind, book in (("clears", w.clears), ("default_fund", w.default_fund)):
        for (member, house) in book:
            if (member, house) not in listed:
                raise ParameterError(f"graph edge {member}->{house} ({kind})", member,
                                     f"a member listed in clearing_houses[{house}].members",
                                     "the scenario gives each member's position")
    underlying = {b.name: next((str(a.underlying) for a in sc.assets if a.name == b.asset), "")
                  for b in sc.bridges}
    for bridge, asset in w.locks.items():
        if underlying.get(bridge) != asset:
            raise ParameterError(f"graph edge {bridge}->asset:{asset} (locks)", asset,
                                 f"the underlying of the claim it mints, "
                                 f"{underlying.get(bridge, 'none')!r}")
    pool_base = {p.name: p.base for p in sc.pools}
    for (holder, asset), pool in w.routes.items():
        if pool_base[pool] != asset:
            raise ParameterError(f"graph edge {holder}->{pool} (liquidity)", asset,
                                 f"the pool's base asset, {pool_base[pool]!r}")
    return w


def _edges(G: nx.MultiDiGraph) -> Iterable[tuple[str, str, dict[str, Any]]]:
    return G.edges(data=True)


def _once(book: dict[Any, str], key: Any, value: str, where: str) -> None:
    if key in book and book[key] != value:
        raise ParameterError(where, value, f"one per venue and asset; {book[key]!r} is wired already")
    book[key] = value


MAX_WORLD_BYTES = 64 * 1024 * 1024


def write_world(G: nx.MultiDiGraph, path: str | os.PathLike[str]) -> Path:
    """Write a world graph as node-link JSON (``.json``) or GraphML (``.graphml``),
    atomically; JSON nodes and edges keep the graph's own order (same world, same bytes)."""
    p = Path(path)
    if p.suffix not in (".json", ".graphml"):
        raise NetworkFormatError(f"cannot write {p.name}: use a .json or .graphml file name")
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    os.close(fd)
    try:
        if p.suffix == ".json":
            data = nx.node_link_data(G, edges="edges")
            Path(tmp).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        else:
            nx.write_graphml(G, tmp)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def read_world(path: str | os.PathLike[str]) -> nx.MultiDiGraph:
    """Read a world graph written by :func:`write_world` (or edited by hand): node-link JSON
    or GraphML. Node ids are text, each listed once; nodes need a ``kind``; edges join two
    different listed nodes and need a ``type``; the model checks the rest
    against its scenario (:func:`resolve_wiring`, ``ContagionModel``) before anything runs.
    Errors name the file and the node or edge."""
    p = Path(path)
    if p.suffix not in (".json", ".graphml"):
        raise NetworkFormatError(f"{p}: a world file ends .json (node-link) or .graphml")
    if not p.is_file():
        raise NetworkFormatError(f"{p}: no such world file")
    if p.stat().st_size > MAX_WORLD_BYTES:
        raise NetworkFormatError(f"{p}: {p.stat().st_size:,} bytes; a world file is at most "
                                 f"{MAX_WORLD_BYTES:,} bytes")
    from contagion.network import check_node_link, graphml_duplicates

    try:
        if p.suffix == ".json":
            data = json.loads(p.read_text(encoding="utf-8"))
            check_node_link(data, str(p))  # ids: text, each once; edges: listed ends, no loop
            G = nx.node_link_graph(data, directed=True, multigraph=True, edges="edges")
        else:
            graphml_duplicates(p)
            G = nx.MultiDiGraph(nx.read_graphml(p, force_multigraph=True))
    except NetworkFormatError:
        raise
    except UnicodeDecodeError as exc:
        raise NetworkFormatError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise NetworkFormatError(f"{p}: not valid JSON: {exc.msg} at line {exc.lineno} "
                                 f"column {exc.colno}") from None
    except Exception as exc:  # a parser's own error: report it with the file name
        raise NetworkFormatError(f"{p}: cannot be read as a world graph: {exc}") from None
    for node, d in G.nodes(data=True):
        if not isinstance(node, str):
            raise NetworkFormatError(f"{p}: node {node!r} has a non-text id; ids are names")
        if "kind" not in d:
            raise NetworkFormatError(f"{p}: node {node!r} has no 'kind' attribute")
    for u, v, d in G.edges(data=True):
        if u == v:
            raise NetworkFormatError(f"{p}: edge {u}->{v} is a self-loop; allowed: edges "
                                     "between two different nodes")
        if "type" not in d:
            raise NetworkFormatError(f"{p}: edge {u}->{v} has no 'type' attribute "
                                     f"(one of {', '.join(WORLD_EDGE_TYPES)})")
    return G
