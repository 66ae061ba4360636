"""Pure figure builders for the dashboard: a run's tables in, Plotly figures and
dash-cytoscape elements out.

Nothing here knows about Dash callbacks or holds state: every function takes the
DataFrames (or the graph) of a :class:`~contagion.runner.RunResult` and returns a new
figure, element list, table or string. The time-series figure carries a vertical cursor
as ``layout.shapes[0]`` (named ``"cursor"``) so a callback can move it with a ``Patch``
(:func:`cursor_shape`, :func:`set_cursor`) instead of rebuilding the figure.

Sections: time series, per-node figure, comparison. The network view (cytoscape elements,
stylesheet, positions) is in :mod:`dashboard.network_view`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.network_view import STATE_COLOURS, cohort_members

__all__ = [
    "CURSOR_INDEX",
    "PRICE_AXIS",
    "STATE_COLOURS",
    "USD_AXIS",
    "compact_figure",
    "compare_figure",
    "compare_table",
    "cursor_shape",
    "figure_html",
    "node_figure",
    "set_cursor",
    "timeseries_figure",
]

#: Position of the cursor in ``layout.shapes`` of :func:`timeseries_figure`.
CURSOR_INDEX = 0

_STATES = tuple(STATE_COLOURS)
_SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                   "#F0E442", "#000000")
_ROW_HEIGHT_PX = 180
#: Dollar axes: "$0.5", "$500", "$1.2M", "$3B" (d3's SI "~s" would print half a dollar as
#: "$500m" and a billion as "$1G").
USD_AXIS: dict[str, Any] = {"tickprefix": "$", "exponentformat": "B", "tickformat": ""}
#: Price axes: plain decimals with thousands separators ("121,000", "0.038"), never "1.21e+05".
PRICE_AXIS: dict[str, Any] = {"tickformat": ",~r"}
_UIREVISION = "contagion-timeseries"


# ---------------------------------------------------------------------- time series
def cursor_shape(step: int | None) -> dict[str, Any]:
    """The vertical step cursor: a layout shape spanning every row of the time series.

    ``step=None`` gives an invisible cursor at step 0 (the shape stays in place, so a
    ``Patch`` of ``layout.shapes[CURSOR_INDEX]`` can always replace it).

    Examples
    --------
    >>> s = cursor_shape(12)
    >>> s["name"], s["x0"], s["x1"], s["xref"], s["yref"], s["visible"]
    ('cursor', 12, 12, 'x', 'paper', True)
    >>> cursor_shape(None)["visible"]
    False
    """
    x = 0 if step is None else int(step)
    return {"type": "line", "name": "cursor", "xref": "x", "yref": "paper",
            "x0": x, "x1": x, "y0": 0, "y1": 1, "layer": "above", "visible": step is not None,
            "line": {"color": "#D55E00", "width": 2, "dash": "dot"}}


def set_cursor(fig: go.Figure | dict[str, Any], step: int | None) -> go.Figure | dict[str, Any]:
    """Move the shape named ``"cursor"`` of ``fig`` (a figure or its dict) to ``step``.

    ``fig`` is updated in place and returned; a cursor is added if it has none.

    Examples
    --------
    >>> fig = {"data": [], "layout": {"shapes": [cursor_shape(3)]}}
    >>> set_cursor(fig, 40)["layout"]["shapes"][0]["x0"]
    40
    """
    new = cursor_shape(step)
    if isinstance(fig, go.Figure):
        shapes = [s.to_plotly_json() for s in fig.layout.shapes]
        at = next((i for i, s in enumerate(shapes) if s.get("name") == "cursor"), None)
        if at is None:
            shapes.insert(CURSOR_INDEX, new)
        else:
            shapes[at] = new
        fig.layout.shapes = shapes
        return fig
    layout = fig.setdefault("layout", {})
    shapes_list = layout.setdefault("shapes", [])
    at = next((i for i, s in enumerate(shapes_list) if s.get("name") == "cursor"), None)
    if at is None:
        shapes_list.insert(CURSOR_INDEX, new)
    else:
        shapes_list[at].update(new)
    return fig


def _columns(series: pd.DataFrame, prefix: str) -> list[str]:
    return [c for c in series.columns if c.startswith(prefix)]


def _price_assets(series: pd.DataFrame, oracles: dict[str, str]) -> list[str]:
    """Assets with a market price or pool column, in column order; those with an oracle
    first-class (the default rows), else all of them."""
    seen = [c.removeprefix("price_") for c in _columns(series, "price_")]
    seen += [c.removeprefix("pool_").split("/")[0] for c in _columns(series, "pool_")]
    seen += list(oracles.values())
    ordered = list(dict.fromkeys(seen))
    with_oracle = [a for a in ordered if a in set(oracles.values())]
    return with_oracle or ordered


def _price_traces(series: pd.DataFrame, asset: str, oracles: dict[str, str]
                  ) -> list[go.Scatter]:
    x = series.index
    traces = []
    if f"price_{asset}" in series:
        traces.append(go.Scatter(x=x, y=series[f"price_{asset}"], name=f"{asset} market",
                                 line={"color": "#000000", "width": 2}))
    for i, c in enumerate(c for c in _columns(series, "pool_")
                          if c.removeprefix("pool_").split("/")[0] == asset):
        traces.append(go.Scatter(x=x, y=series[c], name=f"pool {c.removeprefix('pool_')}",
                                 line={"color": ("#009E73", "#56B4E9", "#F0E442")[i % 3],
                                       "width": 1.5}))
    names = [o for o, a in oracles.items() if a == asset and f"oracle_{o}" in series]
    for i, o in enumerate(names):
        traces.append(go.Scatter(x=x, y=series[f"oracle_{o}"], name=f"oracle {o}",
                                 line={"color": ("#0072B2", "#E69F00", "#CC79A7", "#D55E00")[i % 4],
                                       "width": 1.5, "shape": "hv", "dash": "dash"}))
    return traces


def _lines(series: pd.DataFrame, cols: list[str], names: list[str], *, shape: str = "linear"
           ) -> list[go.Scatter]:
    return [go.Scatter(x=series.index, y=series[c], name=n,
                       line={"color": _SERIES_COLOURS[i % 8], "shape": shape})
            for i, (c, n) in enumerate(zip(cols, names, strict=True))]


def _timeseries_rows(series: pd.DataFrame, oracles: dict[str, str], assets: list[str]
                     ) -> list[tuple[str, list[go.BaseTraceType], dict[str, Any]]]:
    """(title, traces, y-axis settings) per row; traces on the liquidation row's
    secondary axis carry ``meta="secondary"``."""
    usd = USD_AXIS
    rows: list[tuple[str, list[go.BaseTraceType], dict[str, Any]]] = []
    for a in assets:
        traces = _price_traces(series, a, oracles)
        if traces:
            rows.append((f"{a}: market vs pool vs oracle price", traces, PRICE_AXIS))
    liq: list[go.BaseTraceType] = []
    if "liquidation_usd" in series:
        liq.append(go.Bar(x=series.index, y=series["liquidation_usd"], name="liquidated (USD)",
                          marker={"color": STATE_COLOURS["liquidated"]}))
    if "liquidations" in series:
        liq.append(go.Scatter(x=series.index, y=series["liquidations"], name="liquidations (count)",
                              mode="lines", line={"color": "#000000", "width": 1}, meta="secondary"))
    if liq:
        rows.append(("Liquidations per step", liq, usd))
    impact = _columns(series, "impact_")
    if impact:
        rows.append(("Price impact per pool (this step)",
                     _lines(series, impact, [c.removeprefix("impact_") for c in impact]),
                     {"tickformat": ".1%"}))
    loss = [c for c in ("bad_debt_usd", "socialised_usd", "adl_usd", "insolvent_debt_usd")
            if c in series]
    if loss:
        names = {"bad_debt_usd": "bad debt", "socialised_usd": "socialised loss",
                 "adl_usd": "ADL", "insolvent_debt_usd": "insolvent debt"}
        rows.append(("Cumulative losses", _lines(series, loss, [names[c] for c in loss]), usd))
    funds = [c for c in _columns(series, "fund_") if c != "fund_balance_usd"]
    if funds:
        rows.append(("Insurance fund balances",
                     _lines(series, funds, [c.removeprefix("fund_") for c in funds]), usd))
    rows += _market_feature_rows(series)
    if "defaults" in series:
        rows.append(("Defaults (count)", _lines(series, ["defaults"], ["defaults"], shape="hv"),
                     {"rangemode": "tozero", "dtick": 1}))
    return rows


def _market_feature_rows(series: pd.DataFrame
                         ) -> list[tuple[str, list[go.BaseTraceType], dict[str, Any]]]:
    """Rows for the market features a run switched on (issue 12), each only if its columns are
    present: perp funding rates per period (``funding_<venue>_<asset>``), lending utilisation
    (``utilisation_<venue>``), yearly borrow rates (``borrow_rate_<venue...>``), supplier
    withdrawals waiting for cash (``queued_<venue>``) and, for venues with portfolio margin, the
    margin the traders' books require (``portfolio_margin_<venue>``) and their net delta and
    vega (``net_delta_`` / ``vega_<venue>_<asset>``), a clearing house's default fund left
    (``default_fund_<house>``), the debt liquidations left as dust (``dust_debt_<venue>``,
    venues under Aave v3.3's rules) and an exchange's published and true reserve ratios
    (``published_ratio_`` / ``reserve_ratio_<exchange>``, with solvency proofs)."""
    rows: list[tuple[str, list[go.BaseTraceType], dict[str, Any]]] = []
    for prefix, title, axis in (
            ("funding_", "Perp funding rate per period (longs pay when positive)",
             {"tickformat": ".3%"}),
            ("utilisation_", "Lending utilisation (debt / supply)",
             {"tickformat": ".0%", "rangemode": "tozero"}),
            ("borrow_rate_", "Borrow rate (yearly)", {"tickformat": ".1%", "rangemode": "tozero"}),
            ("queued_", "Supplier withdrawals waiting for cash", {**USD_AXIS, "rangemode": "tozero"}),
            ("portfolio_margin_", "Portfolio margin required (traders' maintenance)",
             {**USD_AXIS, "rangemode": "tozero"}),
            ("net_delta_", "Traders' net delta (units of the underlying)", {}),
            ("vega_", "Traders' net vega (USD per 1.00 of volatility)", {}),
            ("default_fund_", "Clearing house: members' default fund left",
             {**USD_AXIS, "rangemode": "tozero"}),
            ("dust_debt_", "Debt left in dust positions (under Aave v3.3's minimum leftover)",
             {**USD_AXIS, "rangemode": "tozero"})):
        cols = _columns(series, prefix)
        if cols:
            rows.append((title, _lines(series, cols, [c.removeprefix(prefix) for c in cols]),
                         axis))
    published, true = _columns(series, "published_ratio_"), _columns(series, "reserve_ratio_")
    if published:  # solvency proofs of kind reserves / liabilities (issue 13)
        names = ([f"{c.removeprefix('published_ratio_')} published" for c in published]
                 + [f"{c.removeprefix('reserve_ratio_')} true" for c in true])
        rows.append(("Solvency proof: published vs true reserve ratio",
                     _lines(series, published + true, names), {"tickformat": ".2f"}))
    return rows


def timeseries_figure(series: pd.DataFrame, *, oracles: dict[str, str], step: int | None = None,
                      assets: list[str] | None = None) -> go.Figure:
    """All of a run's time series in one figure with a shared step axis.

    Rows (each only if its columns are present): one price row per asset (market price
    ``price_<A>``, pools based on ``A`` ``pool_<A>/...``, the oracles of ``A``); liquidation
    volume (bars, USD) and count (line, right axis); price impact per pool; cumulative bad
    debt, socialised loss, ADL and insolvent debt; insurance fund balances; funding rates,
    lending utilisation, borrow rates and queued withdrawals (runs with those features on);
    defaults.

    Parameters
    ----------
    series : DataFrame
        ``RunResult.series``, indexed by step.
    oracles : dict
        Oracle name -> asset, e.g. ``{o.name: o.asset for o in result.scenario.oracles}``.
    step : int, optional
        Where to draw the cursor (``layout.shapes[CURSOR_INDEX]``, named ``"cursor"``).
    assets : list of str, optional
        Assets to give a price row, in order; default: every asset that has an oracle.

    Returns
    -------
    plotly.graph_objects.Figure
        Each row has its own legend (``legend``, ``legend2``, ...) beside it; ``uirevision``
        is fixed so zoom survives a re-render.

    Examples
    --------
    >>> s = pd.DataFrame({"price_ETH": [2000.0, 1800.0], "oracle_ETH-feed": [2000.0, 1900.0],
    ...                   "defaults": [0, 1]}).rename_axis("step")
    >>> fig = timeseries_figure(s, oracles={"ETH-feed": "ETH"}, step=1)
    >>> [a.text for a in fig.layout.annotations]
    ['ETH: market vs pool vs oracle price', 'Defaults (count)']
    >>> fig.layout.shapes[0].name, fig.layout.shapes[0].x0
    ('cursor', 1)
    """
    rows = _timeseries_rows(series, oracles, _price_assets(series, oracles) if assets is None
                            else assets)
    n = max(len(rows), 1)
    specs = [[{"secondary_y": any(getattr(t, "meta", None) == "secondary" for t in r[1])}]
             for r in rows] or [[{}]]
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, specs=specs,
                        vertical_spacing=min(0.06, 0.25 / n),
                        subplot_titles=[r[0] for r in rows] or None)
    for i, (_, traces, yaxis) in enumerate(rows, start=1):
        legend = "legend" if i == 1 else f"legend{i}"
        for t in traces:
            secondary = getattr(t, "meta", None) == "secondary"
            t.update(legend=legend, meta=None)
            fig.add_trace(t, row=i, col=1, secondary_y=secondary)
        fig.update_yaxes(row=i, col=1, secondary_y=False, **yaxis)
        if specs[i - 1][0].get("secondary_y"):
            fig.update_yaxes(row=i, col=1, secondary_y=True, title_text="count",
                             showgrid=False, rangemode="tozero", tickmode="auto")
        top = fig.get_subplot(i, 1).yaxis.domain[1]
        fig.update_layout({legend: {"y": top, "yanchor": "top", "x": 1.02, "xanchor": "left",
                                    "font": {"size": 11}, "bgcolor": "rgba(255,255,255,0.6)"}})
    fig.update_xaxes(title_text="step", row=n, col=1)
    fig.update_layout(height=_ROW_HEIGHT_PX * n + 80, margin={"l": 70, "r": 200, "t": 40, "b": 50},
                      hovermode="x unified", uirevision=_UIREVISION, template="plotly_white",
                      barmode="overlay", shapes=[cursor_shape(step)])
    return fig


def compact_figure(series: pd.DataFrame, *, oracles: dict[str, str], step: int | None = None
                   ) -> go.Figure:
    """The two series a viewer follows beside the network: the first priced asset's market
    vs pool vs oracle price, and the cumulative losses (bad debt, socialised loss, ADL,
    insolvent debt), with the same step cursor as :func:`timeseries_figure`
    (``layout.shapes[CURSOR_INDEX]``). Sized for a side panel (legends inside, small margins).

    Examples
    --------
    >>> s = pd.DataFrame({"price_ETH": [2000.0, 1800.0], "oracle_ETH-feed": [2000.0, 1900.0],
    ...                   "bad_debt_usd": [0.0, 5.0]}).rename_axis("step")
    >>> fig = compact_figure(s, oracles={"ETH-feed": "ETH"}, step=1)
    >>> [a.text for a in fig.layout.annotations]
    ['ETH price: market vs oracle', 'Cumulative losses']
    """
    assets = _price_assets(series, oracles)
    rows: list[tuple[str, list[go.BaseTraceType], dict[str, Any]]] = []
    for a in assets[:1]:
        traces = _price_traces(series, a, oracles)
        for t in traces:  # short names: the legend sits in a narrow column
            t.name = t.name.removeprefix("oracle ").replace(f"{a} market", "market")
        if traces:
            rows.append((f"{a} price: market vs oracle", traces, PRICE_AXIS))
    short = {"bad debt": "bad debt", "socialised loss": "socialised", "ADL": "ADL",
             "insolvent debt": "insolvent"}
    for title, traces, yaxis in _timeseries_rows(series, oracles, []):
        if title == "Cumulative losses":
            for t in traces:
                t.name = short.get(t.name, t.name)
            rows.append((title, traces, yaxis))
    n = max(len(rows), 1)
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.16,
                        subplot_titles=[r[0] for r in rows] or None)
    for i, (_, traces, yaxis) in enumerate(rows, start=1):
        legend = "legend" if i == 1 else f"legend{i}"
        for t in traces:
            t.update(legend=legend, meta=None)
            fig.add_trace(t, row=i, col=1)
        fig.update_yaxes(row=i, col=1, **yaxis)
        top = fig.get_subplot(i, 1).yaxis.domain[1]
        fig.update_layout({legend: {"y": top, "yanchor": "top", "x": 1.01, "xanchor": "left",
                                    "font": {"size": 10}, "tracegroupgap": 0}})
    fig.update_annotations(font={"size": 12})
    fig.update_layout(margin={"l": 52, "r": 92, "t": 22, "b": 22}, hovermode="x unified",
                      uirevision=_UIREVISION, template="plotly_white",
                      shapes=[cursor_shape(step)])
    return fig


# ---------------------------------------------------------------------- per-node figure
def _empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(template="plotly_white", xaxis={"visible": False},
                      yaxis={"visible": False}, height=300)
    return fig


def _institution_figure(node: str, rows: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    names = {"assets_usd": "assets", "liabilities_usd": "liabilities", "equity_usd": "equity",
             "bad_debt_usd": "bad debt"}
    for i, (c, n) in enumerate(names.items()):
        if c in rows:
            fig.add_trace(go.Scatter(x=rows["step"], y=rows[c], name=n,
                                     line={"color": _SERIES_COLOURS[i]}))
    if "defaulted" in rows and rows["defaulted"].any():
        at = int(rows.loc[rows["defaulted"].astype(bool), "step"].min())
        fig.add_vline(x=at, line={"color": STATE_COLOURS["defaulted"], "dash": "dash"},
                      annotation_text=f"default (step {at})")
    fig.update_layout(title=f"{node}: balance sheet", yaxis=USD_AXIS,
                      xaxis={"title": {"text": "step"}}, template="plotly_white",
                      hovermode="x unified")
    return fig


def _state_figure(node: str, rows: pd.DataFrame) -> go.Figure:
    fig = make_subplots(specs=[[{"secondary_y": "members" in rows}]])
    fig.add_trace(go.Scatter(x=rows["step"], y=rows["exposure_usd"], name="exposure",
                             mode="lines", line={"color": "#888888"}, showlegend=False))
    for s, c in STATE_COLOURS.items():
        at = rows[rows["state"] == s]
        if len(at):
            fig.add_trace(go.Scatter(x=at["step"], y=at["exposure_usd"], mode="markers", name=s,
                                     marker={"color": c, "size": 6}))
    for s in ("healthy", "at_risk", "liquidated"):
        if s in rows and "members" in rows:
            fig.add_trace(go.Scatter(x=rows["step"], y=rows[s], name=f"members {s}",
                                     line={"color": STATE_COLOURS[s], "dash": "dot"}),
                          secondary_y=True)
    fig.update_yaxes(**USD_AXIS, title_text="exposure", secondary_y=False)
    if "members" in rows:
        fig.update_yaxes(title_text="members", tickmode="auto", showgrid=False,
                         rangemode="tozero", secondary_y=True)
    fig.update_layout(title=f"{node}: exposure and state", xaxis={"title": {"text": "step"}},
                      template="plotly_white")
    return fig


def _cohort_rows(node: str, network: nx.MultiDiGraph, node_states: pd.DataFrame,
                 events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-step totals of the traders a cohort node of :func:`network_elements` holds."""
    members = cohort_members(network, events).get(node, [])
    rows = node_states[node_states["node"].isin(members)]
    if rows.empty:
        return rows
    counts = pd.crosstab(rows["step"], rows["state"]).reindex(columns=list(_STATES), fill_value=0)
    out = pd.DataFrame({"step": counts.index,
                        "exposure_usd": rows.groupby("step")["exposure_usd"].sum().to_numpy(),
                        "state": counts.idxmax(axis=1).to_numpy(),
                        "members": counts.sum(axis=1).to_numpy()})
    for s in ("healthy", "at_risk", "liquidated"):
        out[s] = counts[s].to_numpy()
    return out


def node_figure(node: str, venues: pd.DataFrame, node_states: pd.DataFrame, *,
                network: nx.MultiDiGraph | None = None,
                events: pd.DataFrame | None = None) -> go.Figure:
    """A node over time: a venue's or firm's balance sheet (assets, liabilities, equity,
    bad debt, a line at its default), or any other node's exposure with its state as
    coloured markers (cohorts also show members per state, right axis).

    ``network`` is needed only for cohort nodes made by :func:`network_elements`
    (``"cohort:LendA"``, the traders with an account at LendA), to find their traders;
    pass the run's ``events`` too to count traders liquidated out of every position.
    Nodes without records (oracles, pools) get an empty figure saying so.

    Examples
    --------
    >>> v = pd.DataFrame({"step": [0, 1], "venue": ["CEX", "CEX"], "defaulted": [False, True],
    ...     "assets_usd": [2.0, 1.0], "liabilities_usd": [1.5, 1.5], "equity_usd": [0.5, -0.5],
    ...     "bad_debt_usd": [0.0, 0.0]})
    >>> [t.name for t in node_figure("CEX", v, pd.DataFrame()).data]
    ['assets', 'liabilities', 'equity', 'bad debt']
    """
    if not venues.empty and node in set(venues["venue"]):
        return _institution_figure(node, venues[venues["venue"] == node].sort_values("step"))
    rows = (node_states[node_states["node"] == node].sort_values("step")
            if not node_states.empty else node_states)
    if rows.empty and network is not None and node.startswith("cohort:") and not node_states.empty:
        rows = _cohort_rows(node, network, node_states, events)
    if rows.empty:
        return _empty_figure(f"No per-step record for {node}")
    return _state_figure(node, rows)


# ---------------------------------------------------------------------- comparison
_COMPARE_SERIES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "Liquidation volume (cumulative)": lambda s: s["liquidation_usd"].cumsum(),
    "Bad debt": lambda s: s["bad_debt_usd"],
    "Socialised loss": lambda s: s["socialised_usd"],
    "ADL": lambda s: s["adl_usd"],
    "Insurance fund balance": lambda s: s["fund_balance_usd"],
    "Defaults": lambda s: s["defaults"],
}

_COMPARE_METRICS: dict[str, Callable[[dict[str, Any]], float]] = {
    "defaults": lambda m: float(m["defaults"]),
    "venues hit": lambda m: float(len(m["venues_hit"])),
    "cascade depth": lambda m: float(m["cascade_depth"]),
    "accounts liquidated": lambda m: float(m["accounts_liquidated"]),
    "liquidation volume (USD)": lambda m: float(m["liquidation_volume_usd"]),
    "bad debt (USD)": lambda m: float(m["bad_debt_usd"]),
    "insolvent debt (USD)": lambda m: float(m["insolvent_debt_usd"]),
    "socialised loss (USD)": lambda m: float(m["socialised_usd"]),
    "ADL (USD)": lambda m: float(m["adl_usd"]),
    "fund used (USD)": lambda m: float(m["fund_used_usd"]),
}


def compare_figure(series_a: pd.DataFrame, series_b: pd.DataFrame, *, labels: tuple[str, str]
                   ) -> go.Figure:
    """Two runs' key cumulative metrics overlaid, one panel per metric (2 x 3 grid).

    Panels whose columns either run lacks are left out.

    Examples
    --------
    >>> a = pd.DataFrame({"liquidation_usd": [0.0, 5.0], "defaults": [0, 0]})
    >>> b = pd.DataFrame({"liquidation_usd": [1.0, 9.0], "defaults": [0, 1]})
    >>> fig = compare_figure(a, b, labels=("base", "stressed"))
    >>> [(t.name, t.y.tolist()) for t in fig.data][:2]
    [('base', [0.0, 5.0]), ('stressed', [1.0, 10.0])]
    """
    panels = []
    for title, f in _COMPARE_SERIES.items():
        try:
            panels.append((title, f(series_a), f(series_b)))
        except KeyError:
            continue
    cols = 3
    nrows = max(1, -(-len(panels) // cols))
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=[p[0] for p in panels] or None,
                        horizontal_spacing=0.07, vertical_spacing=0.15)
    styles = ({"color": "#0072B2"}, {"color": "#D55E00", "dash": "dash"})
    for i, (title, ya, yb) in enumerate(panels):
        r, c = divmod(i, cols)
        for y, label, line in zip((ya, yb), labels, styles, strict=True):
            fig.add_trace(go.Scatter(x=y.index, y=y, name=label, legendgroup=label, line=line,
                                     showlegend=i == 0, line_shape="hv" if title == "Defaults"
                                     else "linear"), row=r + 1, col=c + 1)
        flat = max(float(np.nanmax(np.abs(ya), initial=0.0)),
                   float(np.nanmax(np.abs(yb), initial=0.0))) == 0.0
        fig.update_yaxes(row=r + 1, col=c + 1, rangemode="tozero",
                         **({"range": [0, 1], "tickvals": [0]} if flat else {}),
                         **({"dtick": 1} if title == "Defaults" else USD_AXIS))
    fig.update_xaxes(title_text="step", row=nrows)
    fig.update_layout(height=300 * nrows + 80, template="plotly_white", hovermode="x unified",
                      margin={"t": 80}, legend={"orientation": "h", "y": 0.99, "yanchor": "top",
                                                "x": 0, "yref": "container"})
    return fig


def compare_table(summary_a: dict[str, Any], summary_b: dict[str, Any], *,
                  labels: tuple[str, str]) -> pd.DataFrame:
    """Headline measures of two runs side by side.

    Parameters
    ----------
    summary_a, summary_b : dict
        ``RunResult.summary`` (:func:`contagion.metrics.run_summary`) of each run.
    labels : (str, str)
        Names of the two runs; they become the value columns' names (suffixed " (A)" and
        " (B)" if they are equal or clash with ``metric``/``difference``).

    Returns
    -------
    DataFrame
        Columns ``metric``, ``labels[0]``, ``labels[1]``, ``difference`` (b - a), floats.

    Examples
    --------
    >>> keys = ["defaults", "cascade_depth", "accounts_liquidated", "liquidation_volume_usd",
    ...         "bad_debt_usd", "insolvent_debt_usd", "socialised_usd", "adl_usd",
    ...         "fund_used_usd"]
    >>> a = dict.fromkeys(keys, 0.0) | {"venues_hit": []}
    >>> b = dict.fromkeys(keys, 1.0) | {"venues_hit": ["CEX", "LendB"]}
    >>> t = compare_table(a, b, labels=("base", "stressed"))
    >>> t.iloc[:2].values.tolist()
    [['defaults', 0.0, 1.0, 1.0], ['venues hit', 0.0, 2.0, 2.0]]
    """
    a_name, b_name = labels
    if a_name == b_name or {a_name, b_name} & {"metric", "difference"}:
        a_name, b_name = f"{a_name} (A)", f"{b_name} (B)"
    a = [f(summary_a) for f in _COMPARE_METRICS.values()]
    b = [f(summary_b) for f in _COMPARE_METRICS.values()]
    return pd.DataFrame({"metric": list(_COMPARE_METRICS), a_name: a, b_name: b,
                         "difference": np.subtract(b, a)})


def figure_html(fig: go.Figure) -> str:
    """A standalone HTML page of ``fig`` with plotly.js inlined (works offline).

    Examples
    --------
    >>> html = figure_html(go.Figure(go.Scatter(x=[0, 1], y=[1, 2])))
    >>> "<html>" in html, "<script src=" in html, len(html) > 1_000_000
    (True, False, True)
    """
    return str(fig.to_html(include_plotlyjs=True, full_html=True))
