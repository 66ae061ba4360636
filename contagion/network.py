"""The exposure graph: who is exposed to whom, by how much, through which mechanism.

Built from the model's books each time it is asked for (edge attributes are the single
record of bilateral exposure at that moment). Node kinds: ``trader`` (or ``cohort`` when
traders are grouped), ``lending``, ``perp``, ``custodial``, ``firm``, ``oracle``, ``fund``,
``pool``, ``peg`` (an algorithmic stablecoin's mint/burn mechanism), ``yield_venue``
(deposits of a stablecoin, Anchor) and ``bridge`` (a lock-and-mint bridge: ``defaulted``
while its claims are under-backed, ``at_risk`` while halted). Edge types (DESIGN.md section 4): ``collateral``
(trader -> venue, deposits included: every depositor of a yield venue keeps its edge, of
weight 0 once it has left, so a replay shows who ran), ``debt`` (venue -> trader),
``cross_margin`` (custodial -> perp, on a trader's behalf), ``price_feed`` (oracle ->
venue), ``backstop`` (fund -> venue; a peg's reserve -> the peg), ``token_collateral``
(issuer -> venue accepting its token; a peg is the issuer of its stablecoin and its
token), ``credit`` (lender -> borrower), ``liquidity`` (venue -> pool it liquidates into;
a yield venue -> the pool its leavers sell into; a peg -> the two pools its arbitrage
trades in), ``bridge_route`` (bridge -> perp venue whose cross-margin transfers cross it,
weight the transfers in flight). Weights are USD exposures.

A peg's reserve is a ``fund`` node named ``"<peg> reserve"`` (the ``agent`` of its
``fund_draw`` events). States of the new kinds (:func:`peg_state`, :func:`yield_venue_state`)
are functions of the step's books, recorded with the other nodes' each step.

Node states (:data:`NODE_STATES`): ``healthy``, ``at_risk``, ``liquidated`` (traders),
``defaulted`` (an institution that failed to pay, as in the run's ``defaulted`` list; a peg
whose stablecoin is broken) and ``drained`` (a fund that is spent, a yield venue its
depositors have left: empty, not in default; :func:`fund_state`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd

from contagion.errors import NetworkFormatError
from contagion.settlement import pending_by_pair

if TYPE_CHECKING:
    from contagion.model import ContagionModel

__all__ = [
    "EDGE_TYPES",
    "NODE_STATES",
    "build_network",
    "check_node_link",
    "cohort_states",
    "fund_state",
    "graphml_duplicates",
    "node_states",
    "peg_state",
    "read_network",
    "trader_states",
    "venue_exposure_matrix",
    "venue_membership",
    "write_network",
    "yield_venue_state",
]

EDGE_TYPES = ("collateral", "debt", "cross_margin", "price_feed", "backstop",
              "token_collateral", "credit", "liquidity", "pending_settlement", "bridge_route")
#: ``drained`` is a fund whose balance is spent (an insurance fund, a peg's reserve) or a
#: yield venue whose depositors have left: it has nothing left to pay with, but it has not
#: defaulted (no institution failed to pay its creditors; the run's ``defaulted`` list and
#: the venue table do not count it).
NODE_STATES = ("healthy", "at_risk", "liquidated", "defaulted", "drained")
STATE_CODE = {s: i for i, s in enumerate(NODE_STATES)}
#: A peg is ``at_risk`` once its stablecoin's spot in its pool is more than this far from $1
#: (either side): past the 0.5% at which the first Anchor depositors leave and the $0.99
#: below which Terra's reserve defends (the default ``PegParams.defend_below_price``).
PEG_AT_RISK_DEPEG_FRAC = 0.01
#: ... and ``defaulted`` (broken) while its reserve is spent (or it never had one) and the
#: stablecoin trades more than this far below $1: nothing but mint/burn defends it and
#: holders take a loss of over 10% (not sticky: a peg pulled back above $0.90 is at risk).
PEG_BROKEN_DEPEG_FRAC = 0.10
#: A yield venue is ``drained`` (run dry) once less than this share of its starting
#: deposits is left; ``at_risk`` while depositors are leaving.
YIELD_DRAINED_FRAC = 0.10


def trader_states(model: ContagionModel) -> tuple[np.ndarray, np.ndarray]:
    """Per trader: state code (index into :data:`NODE_STATES`) and exposure in USD.

    A trader is ``liquidated`` once any of its accounts was liquidated, ``at_risk`` when
    a health factor is below 1.1 or a perp margin ratio below 1.5, else ``healthy``.
    Exposure is the value it has at venues (collateral, margin, deposits, yield-venue
    deposits at the stablecoin's market price).
    """
    n = model.population.n
    exposure = np.zeros(n)
    risky = np.zeros(n, dtype=bool)
    for v in model.lending:
        own = v.book.owner
        t = own < n
        value = v.book.collateral[t] @ v.prices()
        exposure += np.bincount(own[t], weights=value, minlength=n)
        risky[own[t][v.health()[t] < 1.1]] = True
    for v in model.perps:
        own = v.book.owner
        t = (own >= 0) & (own < n)
        exposure += np.bincount(own[t], weights=np.maximum(v.book.collateral[t], 0), minlength=n)
        risky[own[t][v.margin_ratio()[t] < 1.5]] = True
    for ex in model.custodial:
        exposure += np.bincount(ex.book.owner, weights=ex.book.balance, minlength=n)
    for yv in model.yield_venues:
        exposure += np.bincount(yv.owner, weights=_deposits_usd(model, yv), minlength=n)
    state = np.where(risky, STATE_CODE["at_risk"], STATE_CODE["healthy"])
    state[model.liquidated_traders] = STATE_CODE["liquidated"]
    return state, exposure


def _institution_state(a: Any) -> str:
    return "defaulted" if a.defaulted else str(a.network_state())


def fund_state(exhausted: bool) -> str:
    """``drained`` for a fund whose balance is spent (``fund_exhausted``), else ``healthy``.

    An empty insurance fund (or a peg's reserve) has not defaulted: it owed nothing; what it
    can no longer pay falls on others (socialised losses, ADL), and the venue it backed
    defaults only if that venue cannot pay its own creditors.
    """
    return "drained" if exhausted else "healthy"


def peg_state(peg: Any) -> str:
    """``healthy``, ``at_risk`` or ``defaulted`` for an :class:`~contagion.agents.peg.AlgorithmicPeg`.

    With ``depeg = 1 - spot`` of the stablecoin in the peg's pool: ``defaulted`` when the
    reserve is spent (or there was none) and ``depeg > PEG_BROKEN_DEPEG_FRAC`` (10%),
    ``at_risk`` when ``|depeg| > PEG_AT_RISK_DEPEG_FRAC`` (1%), else ``healthy``.
    """
    depeg = 1.0 - peg.stable_pool.spot
    if peg.reserve_exhausted and depeg > PEG_BROKEN_DEPEG_FRAC:
        return "defaulted"
    return "at_risk" if abs(depeg) > PEG_AT_RISK_DEPEG_FRAC else "healthy"


def yield_venue_state(yv: Any) -> str:
    """``healthy``, ``at_risk`` or ``drained`` for a :class:`~contagion.agents.yield_venue.YieldVenue`.

    ``drained`` (run dry) once the deposits left are below ``YIELD_DRAINED_FRAC`` (10%) of
    the starting deposits; ``at_risk`` while depositors are leaving (some sold this step or
    have started to leave and still hold deposits); else ``healthy``. A yield venue never
    ``defaulted``: its depositors left, it did not fail to pay them.
    """
    if yv.deposits_units() < YIELD_DRAINED_FRAC * float(yv.deposit_units.sum()):
        return "drained"
    return "at_risk" if yv.step_sold_units > 0 or yv.depositors_leaving() > 0 else "healthy"


def _deposits_usd(model: ContagionModel, yv: Any) -> np.ndarray:
    """Each depositor's deposits left at the stablecoin's market price."""
    return yv.remaining_units * float(model.market.price[yv.asset])


def _peg_nodes(model: ContagionModel) -> list[tuple[str, dict[str, Any]]]:
    """Nodes of the pegs, their reserves and the yield venues, with state and exposure.

    A peg's exposure is its stablecoin's circulating supply at par (what the mint/burn
    promises to redeem at $1); its reserve's, the reserve's value at market; a yield
    venue's, the deposits left at the stablecoin's market price.
    """
    out: list[tuple[str, dict[str, Any]]] = []
    price = model.market.price
    for peg in model.pegs:
        out.append((peg.name, {
            "kind": "peg", "label": f"{peg.name} ({peg.params.stable}/{peg.params.token} "
                                    "mint/burn)",
            "state": peg_state(peg), "exposure_usd": float(peg.stable_supply_units),
            "stable": peg.params.stable, "token": peg.params.token,
            "stable_spot": float(peg.stable_pool.spot),
            "token_price_usd": float(price[peg.token]),
            "stable_supply_units": float(peg.stable_supply_units),
            "token_supply_units": float(peg.token_supply_units),
            "reserve_usd": float(peg.reserve_usd())}))
        if peg.params.reserve_usd > 0:
            asset = model.market.assets[peg.reserve_asset]
            out.append((f"{peg.name} reserve", {
                "kind": "fund", "label": f"{peg.name} reserve ({asset})",
                "state": fund_state(peg.reserve_exhausted),
                "exposure_usd": float(peg.reserve_usd())}))
    for yv in model.yield_venues:
        out.append((yv.name, {
            "kind": "yield_venue", "label": yv.name, "state": yield_venue_state(yv),
            "exposure_usd": float(_deposits_usd(model, yv).sum()),
            "asset": model.market.assets[yv.asset], "depositors": int(yv.owner.size),
            "leaving": yv.depositors_leaving()}))
    for b in model.bridges:  # exposure: the claims outstanding at the underlying's price
        out.append((b.name, {
            "kind": "bridge", "label": f"{b.name} ({model.market.assets[b.underlying]} -> "
                                       f"{b.params.asset} bridge)",
            "state": b.state(), "exposure_usd": b.claims_usd(),
            "asset": b.params.asset, "backing_ratio": b.backing_ratio(),
            "locked_usd": b.locked_usd(), "halted": int(b.halted)}))
    return out


def _account_venues(model: ContagionModel) -> list[Any]:
    """Venues traders hold accounts at: the margin venues, exchanges and yield venues."""
    return [*model.lending, *model.perps, *model.custodial, *model.yield_venues]


def build_network(model: ContagionModel, *, node_limit: int = 2000) -> nx.MultiDiGraph:
    """The current exposure graph of ``model``.

    Traders are individual nodes when there are at most ``node_limit`` of them; above it
    they are grouped into one ``cohort`` node per combination of venues they use, with
    summed exposures, so large runs stay readable.
    """
    G = nx.MultiDiGraph(step=int(model.steps), scenario=model.scenario.name)
    n = model.population.n
    state, exposure = trader_states(model)
    grouped = n > node_limit
    venues = _account_venues(model)
    if grouped:
        membership, _ = venue_membership(model)
        node_of = np.array([f"cohort:{m}" for m in range(1 << len(venues))], dtype=object)
        for m in np.unique(membership):
            ids = membership == m
            names = [v.name for b, v in enumerate(venues) if m >> b & 1] or ["no venue"]
            G.add_node(f"cohort:{m}", kind="cohort", label=" + ".join(names),
                       members=int(ids.sum()), exposure_usd=float(exposure[ids].sum()),
                       state=NODE_STATES[int(np.bincount(state[ids],
                                                         minlength=len(NODE_STATES)).argmax())],
                       liquidated=int((state[ids] == STATE_CODE["liquidated"]).sum()))
        node_names, trader_code = list(node_of), membership.astype(np.int64)
    else:
        trader_node = np.array([f"trader:{i}" for i in range(n)], dtype=object)
        node_names, trader_code = list(trader_node), np.arange(n, dtype=np.int64)
        has_account = venue_membership(model)[0] != 0  # wallet-only traders are not drawn
        for ti in np.flatnonzero(has_account):
            G.add_node(trader_node[ti], kind="trader", label=f"trader {ti}", members=1,
                       exposure_usd=float(exposure[ti]), state=NODE_STATES[int(state[ti])])
    for a in model.balance_sheets():
        G.add_node(a.name, kind=a.kind, label=a.name, state=_institution_state(a),
                   exposure_usd=0.0)
    from contagion.credit import OUTSIDE, credit_matrix

    names, L, ext = credit_matrix(model)  # the balance sheets the model clears each step
    for i, name in enumerate(names):
        if name != OUTSIDE:
            G.nodes[name]["external_assets_usd"] = float(ext[i])
            G.nodes[name]["external_liabilities_usd"] = float(L[i, names.index(OUTSIDE)])
    for o in model.oracles.values():
        G.add_node(o.name, kind="oracle", label=o.name, state="healthy", exposure_usd=0.0)
    for f in model.funds.values():
        G.add_node(f.name, kind="fund", label=f.name,
                   state=fund_state(f.exhausted), exposure_usd=f.balance_usd)
    for p in model.pools.values():
        G.add_node(p.name, kind="pool", label=p.name, state="healthy",
                   exposure_usd=p.reserve_quote * 2)
    for name, attrs in _peg_nodes(model):
        G.add_node(name, **attrs)

    # Edges are grouped on integer codes of their end nodes (``node_names[code]``), not on
    # the names: factorising a million strings cost more than the rest of the build. The
    # groups come out in the same first-seen order and sum their rows in the same order.
    code_of_name = {name: code for code, name in enumerate(node_names)}

    def code(node: np.ndarray | str) -> np.ndarray | int:
        if not isinstance(node, str):
            return node
        if node not in code_of_name:
            code_of_name[node] = len(node_names)
            node_names.append(node)
        return code_of_name[node]

    def add_edges(src: np.ndarray | str, dst: np.ndarray | str, w: np.ndarray, kind: str,
                  *, keep_zero: bool = False) -> None:
        frame = pd.DataFrame({"s": code(src), "d": code(dst), "w": w})
        if not keep_zero:
            frame = frame[frame["w"] > 0]
        frame = frame.groupby(["s", "d"], sort=False)["w"].sum()
        for (s, d), weight in frame.items():
            G.add_edge(node_names[s], node_names[d], key=kind, type=kind, weight=float(weight))

    for v in model.lending:
        own = v.book.owner
        t = own < n
        add_edges(trader_code[own[t]], v.name, v.book.collateral[t] @ v.prices(), "collateral")
        owed = v.debt_usd()
        add_edges(v.name, trader_code[own[t]], owed[t], "debt")
        for f in model.firms:
            if f.lending is v:
                add_edges(f.name, v.name, np.array([f.account_net_usd() + owed[f.row]]),
                          "collateral")
                add_edges(v.name, f.name, np.array([owed[f.row]]), "debt")
        # in the venue's own order (a set's order follows object ids: not reproducible)
        feeds = [*v.oracles, *v.debt_oracles]
        for o in dict.fromkeys(o for o in feeds if o.name in model.oracles):
            G.add_edge(o.name, v.name, key="price_feed", type="price_feed", weight=1.0)
        for pool in dict.fromkeys(p for p in v.pools if p is not None):
            G.add_edge(v.name, pool.name, key="liquidity", type="liquidity",
                       weight=float(v.liquidated_usd))
        if v.fund is not None:
            G.add_edge(v.fund.name, v.name, key="backstop", type="backstop",
                       weight=v.fund.balance_usd)
        for j, asset in enumerate(v.asset_names):
            issuer = next((a.issuer for a in model.scenario.assets if a.name == asset), None)
            if issuer:
                value = float(v.book.collateral[:, j].sum() * v.prices()[j])
                G.add_edge(issuer, v.name, key="token_collateral", type="token_collateral",
                           weight=value)
        _add_peg_collateral(G, model, v)
    for v in model.perps:
        own = v.book.owner
        t = (own >= 0) & (own < n)
        add_edges(trader_code[own[t]], v.name, np.maximum(v.book.collateral[t], 0), "collateral")
        for feed in v.oracles:  # one per market (a venue reading the market has none)
            if feed.name in model.oracles:
                G.add_edge(feed.name, v.name, key="price_feed", type="price_feed", weight=1.0)
        if v.fund is not None:
            G.add_edge(v.fund.name, v.name, key="backstop", type="backstop",
                       weight=v.fund.balance_usd)
        if v.custodian is not None and v.book.cross.any():
            credit = float(v.cross_credit().sum())
            G.add_edge(v.custodian.name, v.name, key="cross_margin", type="cross_margin",
                       weight=credit)
    for ex in model.custodial:
        has = ex.book.balance > 0
        add_edges(trader_code[ex.book.owner[has]], ex.name, ex.book.balance[has], "collateral")
        if ex.lending is not None:
            G.add_edge(ex.name, ex.lending.name, key="credit", type="credit",
                       weight=ex.lending.claim_of(ex.name))
        for borrower, amount in ex.loans.items():
            recalled = (model.settlements.pending_usd(ex.name, borrower, "loan_recall")
                        if len(model.settlements) else 0.0)
            G.add_edge(ex.name, borrower, key="credit", type="credit",
                       weight=float(amount) - recalled)
    # obligations in their settlement window (payee -> payer): a recalled loan moves here
    # from its credit edge until it settles; a cross-margin transfer not yet paid
    for (payee, payer), amount in pending_by_pair(model.settlements.records).items():
        G.add_edge(payee, payer, key="pending_settlement", type="pending_settlement",
                   weight=amount)
    for house in model.clearing_houses:  # margin and fund contributions each member has left
        for i, member in enumerate(house.members):
            G.add_edge(member.name, house.name, key="clears", type="clears",
                       weight=float(house.margin_usd[i]))
            G.add_edge(member.name, house.name, key="default_fund", type="default_fund",
                       weight=float(house.fund_usd[i]))
        G.nodes[house.name]["exposure_usd"] = house.liabilities_usd()
    for yv in model.yield_venues:  # every depositor keeps its edge (0 once it has left)
        add_edges(trader_code[yv.owner], yv.name, _deposits_usd(model, yv), "collateral",
                  keep_zero=True)
        G.add_edge(yv.name, yv.pool.name, key="liquidity", type="liquidity",
                   weight=float(yv.proceeds_usd.sum()))
    for peg in model.pegs:
        _add_peg_edges(G, peg)
    _add_bridge_edges(G, model)
    for name in G.nodes:
        if G.nodes[name]["kind"] in ("lending", "perp", "custodial", "firm"):
            G.nodes[name]["exposure_usd"] = float(
                sum(d["weight"] for _, _, d in G.in_edges(name, data=True)
                    if d["type"] in ("collateral", "credit")))
    return G


def _add_bridge_edges(G: nx.MultiDiGraph, model: ContagionModel) -> None:
    """A bridge's ``token_collateral`` edges to the lenders holding its claim (their value at
    the lender's prices) and its ``bridge_route`` edges to the perp venues whose cross-margin
    transfers cross it (the transfers in flight)."""
    for b in model.bridges:
        claims = {model.market.assets[c] for c in b.claims}
        for v in model.lending:
            cols = [j for j, a in enumerate(v.asset_names) if a in claims]
            if cols:
                held = float((v.book.collateral[:, cols] @ v.prices()[cols]).sum())
                G.add_edge(b.name, v.name, key="token_collateral", type="token_collateral",
                           weight=held)
        in_flight: dict[str, float] = {venue: 0.0 for venue in b.routes}
        for r in b.in_flight():
            in_flight[r.payee] += r.amount_usd
        for venue, amount in in_flight.items():
            G.add_edge(b.name, venue, key="bridge_route", type="bridge_route", weight=amount)


def _add_peg_collateral(G: nx.MultiDiGraph, model: ContagionModel, v: Any) -> None:
    """``token_collateral`` edges peg -> lending venue ``v``: the value of the peg's
    stablecoin and token ``v`` holds as collateral (one edge per peg, summed)."""
    if not model.pegs:
        return
    held = v.book.collateral.sum(axis=0) * v.prices()
    for peg in model.pegs:
        cols = [j for j, a in enumerate(v.asset_names) if a in (peg.params.stable, peg.params.token)]
        if cols:
            G.add_edge(peg.name, v.name, key="token_collateral", type="token_collateral",
                       weight=float(held[cols].sum()))


def _add_peg_edges(G: nx.MultiDiGraph, peg: Any) -> None:
    """The peg's ``liquidity`` edges to the two pools its arbitrage trades in, weighted by
    the stablecoin converted so far (burned plus minted, at $1 a unit: each unit is $1 of
    token at the conversion price), and its reserve's ``backstop`` edge (the reserve's
    value)."""
    converted = float(peg.stable_burned + peg.stable_minted)
    for pool in (peg.stable_pool, peg.token_pool):
        G.add_edge(peg.name, pool.name, key="liquidity", type="liquidity", weight=converted)
    if peg.params.reserve_usd > 0:
        G.add_edge(f"{peg.name} reserve", peg.name, key="backstop", type="backstop",
                   weight=float(peg.reserve_usd()))


def venue_exposure_matrix(G: nx.MultiDiGraph) -> tuple[list[str], np.ndarray]:
    """Venue-to-venue exposures (credit, token collateral, cross-margin, pending
    settlements) as a matrix.

    ``M[i, j]`` is how much node ``i`` stands to lose if ``j`` fails; usable as DebtRank's
    ``exposures``. Pegs count as venues: a lender accepting a peg's stablecoin or token
    loses if the peg breaks.
    """
    kinds = ("lending", "perp", "custodial", "firm", "peg")
    names = [n for n, d in G.nodes(data=True) if d.get("kind") in kinds]
    idx = {n: i for i, n in enumerate(names)}
    M = np.zeros((len(names), len(names)))
    for s, d, data in G.edges(data=True):
        if s not in idx or d not in idx:
            continue
        if data["type"] in ("credit", "pending_settlement"):  # the one owed loses
            M[idx[s], idx[d]] += data["weight"]
        elif data["type"] in ("token_collateral", "cross_margin"):  # the acceptor loses
            M[idx[d], idx[s]] += data["weight"]
    return names, M


def write_network(G: nx.MultiDiGraph, path: str | Path) -> Path:
    """Write ``G`` as node-link JSON (``.json``) or GraphML (``.graphml``), atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    if path.suffix == ".json":
        data = nx.node_link_data(G, edges="edges")
        tmp.write_text(json.dumps(data, indent=1, default=float))
    elif path.suffix == ".graphml":
        nx.write_graphml(G, tmp)
    else:
        raise NetworkFormatError(f"cannot write {path.name}: use a .json or .graphml file name")
    tmp.replace(path)
    return path


#: Node attributes that are amounts in USD: where present, a finite number >= 0.
AMOUNT_NODE_ATTRS = ("external_assets_usd", "external_liabilities_usd")


def _number(x: Any) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool | np.bool_)


def check_node_link(data: Any, source: str) -> None:
    """Check the shape of node-link JSON ``data`` before NetworkX reads it (it would merge
    duplicate ids and invent nodes for dangling edges without a word): an object with a
    list ``nodes`` of objects with a text ``id``, each id once, and a list ``edges`` of
    objects whose ``source`` and ``target`` are listed nodes and differ. Raises
    :class:`NetworkFormatError` naming ``source`` and the node or edge."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise NetworkFormatError(f"{source}: not a node-link graph: expected a JSON object with "
                                 "a list 'nodes' (and a list 'edges'), as a run's network.json")
    edges = data.get("edges", [])
    if not isinstance(edges, list):
        raise NetworkFormatError(f"{source}: 'edges' is {type(edges).__name__}, not a list")
    seen: set[str] = set()
    for i, node in enumerate(data["nodes"]):
        if not isinstance(node, dict) or "id" not in node:
            raise NetworkFormatError(f"{source}: nodes[{i}] is not an object with an 'id'")
        nid = node["id"]
        if not isinstance(nid, str) or not nid:
            raise NetworkFormatError(f"{source}: node {nid!r} (nodes[{i}]) has a non-text id; "
                                     "allowed: a non-empty name in quotes, e.g. \"Bank1\"")
        if nid in seen:
            raise NetworkFormatError(f"{source}: node {nid!r} is listed twice (nodes[{i}]); "
                                     "allowed: each node id once")
        seen.add(nid)
    for i, edge in enumerate(edges):
        if not isinstance(edge, dict) or "source" not in edge or "target" not in edge:
            raise NetworkFormatError(f"{source}: edges[{i}] is not an object with a 'source' "
                                     "and a 'target'")
        u, v = edge["source"], edge["target"]
        for end, name in (("source", u), ("target", v)):
            if not isinstance(name, str) or name not in seen:
                raise NetworkFormatError(f"{source}: edge {u!r} -> {v!r} (edges[{i}]): its {end} "
                                         f"{name!r} is not a listed node id")
        if u == v:
            raise NetworkFormatError(f"{source}: edge {u!r} -> {v!r} (edges[{i}]) is a "
                                     "self-loop; allowed: edges between two different nodes")


def graphml_duplicates(path: str | Path) -> None:
    """A GraphML node id listed twice (NetworkX would merge them)."""
    import xml.etree.ElementTree as ET

    seen: set[str] = set()
    for _, el in ET.iterparse(path):
        if el.tag.rsplit("}", 1)[-1] == "node":
            nid = el.get("id")
            if nid in seen:
                raise NetworkFormatError(f"{path}: node {nid!r} is listed twice; allowed: each "
                                         "node id once")
            seen.add(str(nid))
        el.clear()


def read_network(path: str | Path) -> nx.MultiDiGraph:
    """Read a user's exposure network (node-link JSON or GraphML).

    Every node needs a text id (each once) and a text ``kind``, and its
    ``external_assets_usd`` / ``external_liabilities_usd``, where given, must be finite
    numbers >= 0; every edge joins two different listed nodes and needs a ``type`` from
    :data:`EDGE_TYPES` and a finite numeric ``weight`` >= 0. Errors
    (:class:`NetworkFormatError`) name the file and the offending node, edge and attribute.
    """
    path = Path(path)
    if not path.exists():
        raise NetworkFormatError(f"network file {str(path)!r} does not exist")
    if not path.is_file():
        raise NetworkFormatError(f"network file {str(path)!r} is not a file")
    try:
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "links" in data and "edges" not in data:
                data["edges"] = data.pop("links")  # NetworkX's older name for them
            check_node_link(data, str(path))
            G = nx.node_link_graph(data, directed=True, multigraph=True, edges="edges")
        elif path.suffix == ".graphml":
            graphml_duplicates(path)
            # force_multigraph keeps the edge keys (the GraphML edge ids: our edge types)
            G = nx.MultiDiGraph(nx.read_graphml(path, force_multigraph=True))
        else:
            raise NetworkFormatError(f"cannot read {path.name}: use .json (node-link) or .graphml")
    except NetworkFormatError:
        raise
    except UnicodeDecodeError as exc:
        raise NetworkFormatError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise NetworkFormatError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} "
                                 f"column {exc.colno}") from None
    except Exception as exc:  # a parser's own error: report it with the file name
        raise NetworkFormatError(f"cannot parse {path}: {exc}") from None
    for node, data in G.nodes(data=True):
        if not isinstance(node, str):
            raise NetworkFormatError(f"{path}: node {node!r} has a non-text id")
        if not isinstance(data.get("kind"), str):
            raise NetworkFormatError(f"{path}: node {node!r} has "
                                     + ("no 'kind' attribute" if "kind" not in data
                                        else f"kind {data['kind']!r}; allowed: a text")
                                     + " (e.g. 'custodial', 'firm', 'lending')")
        for attr in AMOUNT_NODE_ATTRS:
            if attr in data:
                x = data[attr]
                if not (_number(x) and np.isfinite(float(x)) and float(x) >= 0):
                    raise NetworkFormatError(f"{path}: node {node!r} has {attr} {x!r}; allowed: "
                                             "a finite number >= 0")
    for s, d, data in G.edges(data=True):
        if s == d:
            raise NetworkFormatError(f"{path}: edge {s!r} -> {d!r} is a self-loop; allowed: "
                                     "edges between two different nodes")
        if data.get("type") not in EDGE_TYPES:
            raise NetworkFormatError(f"{path}: edge {s!r} -> {d!r} has type "
                                     f"{data.get('type')!r}; allowed: {', '.join(EDGE_TYPES)}")
        w = data.get("weight")
        if not (_number(w) and np.isfinite(float(w)) and float(w) >= 0):
            raise NetworkFormatError(f"{path}: edge {s!r} -> {d!r} has weight {w!r}; allowed: "
                                     "a finite number >= 0")
    return G


def venue_membership(model: ContagionModel) -> tuple[np.ndarray, list[str]]:
    """Per trader, a bit mask of the venues it has an account at (lending, perp, custodial,
    then yield venues), and the venue names."""
    n = model.population.n
    venues = _account_venues(model)
    membership = np.zeros(n, dtype=np.int64)
    for bit, v in enumerate(venues):
        own = v.account_owners()
        present = own[(own >= 0) & (own < n)]
        membership[present] |= 1 << bit
    return membership, [v.name for v in venues]


def cohort_states(model: ContagionModel) -> pd.DataFrame:
    """Traders grouped by the set of venues they use: members, exposure and state counts.

    One row per cohort, columns ``node`` (``cohort:<mask>``), ``kind`` ("cohort"), ``label``,
    ``members``, ``exposure_usd``, ``healthy``, ``at_risk``, ``liquidated`` and ``state`` (the
    most frequent). Vectorised: a few bincounts over the traders.
    """
    membership, names = venue_membership(model)
    state, exposure = trader_states(model)
    masks, group = np.unique(membership, return_inverse=True)
    k = masks.size
    counts = np.zeros((k, len(NODE_STATES)), dtype=np.int64)
    for code in range(len(NODE_STATES)):
        counts[:, code] = np.bincount(group, weights=(state == code), minlength=k).astype(np.int64)
    labels = [" + ".join(nm for b, nm in enumerate(names) if int(m) >> b & 1) or "no venue"
              for m in masks]
    return pd.DataFrame({
        "node": [f"cohort:{int(m)}" for m in masks], "kind": "cohort", "label": labels,
        "members": counts.sum(axis=1), "exposure_usd": np.bincount(group, weights=exposure,
                                                                   minlength=k),
        "healthy": counts[:, 0], "at_risk": counts[:, 1], "liquidated": counts[:, 2],
        "state": np.array(NODE_STATES)[counts.argmax(axis=1)],
    })


def node_states(model: ContagionModel, *, node_limit: int = 5000,
                cohorts: bool = False) -> pd.DataFrame:
    """State and exposure of every node this step, without building the graph.

    Traders are listed one by one when there are at most ``node_limit`` of them; above it,
    as cohorts (:func:`cohort_states`) when ``cohorts``, else not at all. Pegs, their
    reserves and yield venues are listed like the venues and funds (see :func:`peg_state`,
    :func:`yield_venue_state`). Columns: ``step, node, kind, state, exposure_usd`` (plus
    ``members``... for cohorts).
    """
    rows: dict[str, list[Any]] = {"node": [], "kind": [], "state": [], "exposure_usd": []}
    for a in model.balance_sheets():
        rows["node"].append(a.name)
        rows["kind"].append(a.kind)
        rows["state"].append(_institution_state(a))
        rows["exposure_usd"].append(float(getattr(a, "liquidated_usd", 0.0)))
    for f in model.funds.values():
        rows["node"].append(f.name)
        rows["kind"].append("fund")
        rows["state"].append(fund_state(f.exhausted))
        rows["exposure_usd"].append(f.balance_usd)
    for name, attrs in _peg_nodes(model):
        rows["node"].append(name)
        rows["kind"].append(attrs["kind"])
        rows["state"].append(attrs["state"])
        rows["exposure_usd"].append(attrs["exposure_usd"])
    n = model.population.n
    if n <= node_limit:  # one frame built at once (recorded every step of a dashboard run)
        state, exposure = trader_states(model)
        k = len(rows["node"])
        return pd.DataFrame({
            "step": np.full(k + n, int(model.steps), dtype=np.int64),
            "node": [*rows["node"], *_trader_names(n)],
            "kind": [*rows["kind"], *(["trader"] * n)],
            "state": [*rows["state"], *_NODE_STATE_NAMES[state].tolist()],
            "exposure_usd": np.concatenate([np.asarray(rows["exposure_usd"], dtype=np.float64),
                                            exposure.astype(np.float64, copy=False)]),
        })
    frame = pd.DataFrame(rows)
    if cohorts:
        frame = pd.concat([frame, cohort_states(model)], ignore_index=True)
    frame.insert(0, "step", int(model.steps))
    return frame


_NODE_STATE_NAMES = np.array(NODE_STATES, dtype=object)


@lru_cache(maxsize=8)
def _trader_names(n: int) -> tuple[str, ...]:
    """``trader:0`` ... ``trader:<n-1>``: node ids, built once per population size."""
    return tuple(f"trader:{i}" for i in range(n))
