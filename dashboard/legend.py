"""The network picture's legend: every colour, pattern, shape, border and line style.

Built from the tables the stylesheet is built from (:data:`~dashboard.network_view.STATE_STYLES`,
:data:`~dashboard.network_view.KIND_STYLES`, :data:`~dashboard.network_view.EDGE_STYLES`,
:data:`~dashboard.network_view.EVENT_HALO`), so the two cannot drift apart. Swatches are
small inline SVG images (data URIs): nothing is fetched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from dash import html

from dashboard.narrative import format_usd
from dashboard.network_view import (
    EDGE_STYLES,
    EVENT_HALO,
    KIND_STYLES,
    PATTERNS,
    STATE_STYLES,
)

__all__ = ["SHAPES", "legend", "legend_keys"]

#: Cytoscape node shape -> SVG drawing of it in a 20 x 20 box (fill and stroke set later).
SHAPES: dict[str, str] = {
    "ellipse": "<circle cx='10' cy='10' r='8.5' {paint}/>",
    "round-rectangle": "<rect x='1.5' y='3.5' width='17' height='13' rx='3.5' {paint}/>",
    "rectangle": "<rect x='1.5' y='3.5' width='17' height='13' {paint}/>",
    "cut-rectangle": "<polygon points='5,3.5 15,3.5 18.5,7 18.5,13 15,16.5 5,16.5 1.5,13 1.5,7' "
                     "{paint}/>",
    "octagon": "<polygon points='6.5,1.5 13.5,1.5 18.5,6.5 18.5,13.5 13.5,18.5 6.5,18.5 "
               "1.5,13.5 1.5,6.5' {paint}/>",
    "barrel": "<path d='M4,2 Q10,0.5 16,2 Q18.8,10 16,18 Q10,19.5 4,18 Q1.2,10 4,2 Z' {paint}/>",
    "pentagon": "<polygon points='10,1.5 18.5,7.7 15.3,17.8 4.7,17.8 1.5,7.7' {paint}/>",
    "hexagon": "<polygon points='5,2 15,2 19,10 15,18 5,18 1,10' {paint}/>",
    "diamond": "<polygon points='10,1 19,10 10,19 1,10' {paint}/>",
    "triangle": "<polygon points='10,1.5 18.8,18 1.2,18' {paint}/>",
    "star": "<polygon points='10.0,1.5 12.3,7.3 18.6,7.7 13.7,11.7 15.3,17.8 10.0,14.4 4.7,17.8 "
            "6.3,11.7 1.4,7.7 7.7,7.3' {paint}/>",
    "vee": "<polygon points='1.5,2 10,8 18.5,2 10,18.5' {paint}/>",
}
_SVG_DASH = {"solid": "", "dashed": "4,2.5", "dotted": "1.2,2", "dashdot": "4.5,2,1,2"}
_BORDER_DASH = {"solid": "", "dashed": "3,2", "dotted": "1,1.6", "double": ""}
_SWATCH = 20


def _uri(svg_body: str, width: int = _SWATCH, height: int = _SWATCH) -> str:
    svg = (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
           f"viewBox='0 0 {width} {height}'>{svg_body}</svg>")
    return "data:image/svg+xml;utf8," + quote(svg)


def _state_svg(state: str) -> str:
    s = STATE_STYLES[state]
    drawing, tiled = PATTERNS[s.pattern]
    dash = _BORDER_DASH.get(s.border, "")
    stroke = (f"stroke='#222222' stroke-width='{min(s.border_width, 2.5)}'"
              + (f" stroke-dasharray='{dash}'" if dash else ""))
    body = ""
    fill = s.colour
    if drawing and tiled:
        body += (f"<defs><pattern id='p' patternUnits='userSpaceOnUse' width='6' height='6'>"
                 f"<rect width='6' height='6' fill='{s.colour}'/>"
                 f"<g transform='scale(0.6)'>{drawing}</g></pattern></defs>")
        fill = "url(#p)"
    body += f"<circle cx='10' cy='10' r='8' fill='{fill}' {stroke}/>"
    if s.border == "double":
        body += "<circle cx='10' cy='10' r='5.6' fill='none' stroke='#FFFFFF' stroke-width='0.8'/>"
    if drawing and not tiled:
        body += f"<g transform='translate(3,3) scale(1.4)'>{drawing}</g>"
    return body


def _pie_svg() -> str:
    """A cohort: a pie of made-up shares of the states, one slice per state."""
    import math

    shares = [0.5, 0.25, 0.25] + [0.0] * (len(STATE_STYLES) - 3)
    body, start = "", -math.pi / 2
    for s, share in zip(STATE_STYLES.values(), shares, strict=True):
        if share <= 0:
            continue
        end = start + 2 * math.pi * share
        x0, y0 = 10 + 8 * math.cos(start), 10 + 8 * math.sin(start)
        x1, y1 = 10 + 8 * math.cos(end), 10 + 8 * math.sin(end)
        big = 1 if share > 0.5 else 0
        body += (f"<path d='M10,10 L{x0:.2f},{y0:.2f} A8,8 0 {big} 1 {x1:.2f},{y1:.2f} Z' "
                 f"fill='{s.colour}'/>")
        start = end
    return body + "<circle cx='10' cy='10' r='8' fill='none' stroke='#222222' stroke-width='1.5'/>"


def _event_svg() -> str:
    return (f"<circle cx='10' cy='10' r='9' fill='{EVENT_HALO['colour']}' "
            f"stroke='{EVENT_HALO['ring']}' stroke-width='1'/>"
            "<circle cx='10' cy='10' r='5' fill='#BBBBBB' stroke='#222222' stroke-width='1'/>")


def _kind_svg(kind: str) -> str:
    shape = KIND_STYLES[kind].shape
    if kind == "cohort":
        return _pie_svg()
    return SHAPES[shape].format(paint="fill='#DDDDDD' stroke='#222222' stroke-width='1.5'")


def _edge_svg(etype: str, width: float = 2.0) -> str:
    e = EDGE_STYLES[etype]
    dash = _SVG_DASH[e.dash]
    return (f"<line x1='1' y1='6' x2='24' y2='6' stroke='{e.colour}' stroke-width='{width}'"
            + (f" stroke-dasharray='{dash}'" if dash else "") + "/>"
            f"<polygon points='23,2 31,6 23,10' fill='{e.colour}'/>")


def _attrs(attrs: dict[str, str]) -> dict[str, Any]:
    """Wildcard ``data-*`` / ``aria-*`` props (typed ``Any``: Dash's stubs do not know them)."""
    return attrs


def _item(key: str, image: str, text: str, width: int = _SWATCH, height: int = _SWATCH
          ) -> html.Span:
    return html.Span([
        html.Img(src=_uri(image, width, height), alt="", width=str(width), height=str(height),
                 style={"verticalAlign": "middle", "marginRight": "4px"}),
        html.Span(text),
    ], style={"display": "inline-flex", "alignItems": "center", "marginRight": "12px",
              "whiteSpace": "nowrap"}, **_attrs({"data-legend": key}))


def _section(title: str, items: list[html.Span]) -> html.Div:
    return html.Div([html.Strong(title + ": ", style={"marginRight": "6px"}), *items],
                    style={"display": "flex", "flexWrap": "wrap", "alignItems": "center",
                           "rowGap": "2px", "marginBottom": "2px"})


def _present(present: Iterable[Any] | None) -> tuple[list[str], list[str], float | None]:
    """Kinds and edge types in ``present`` (elements or names), in table order, and the
    largest edge weight among elements."""
    if present is None:
        return list(KIND_STYLES), list(EDGE_STYLES), None
    kinds, types, top = set(), set(), None
    for item in present:
        if isinstance(item, dict):
            d = item.get("data", {})
            if "source" in d:
                types.add(d.get("type", ""))
                w = d.get("weight")
                if isinstance(w, int | float) and (top is None or w > top):
                    top = float(w)
            else:
                kinds.add(d.get("kind", ""))
        else:
            kinds.add(str(item))
            types.add(str(item))
    return ([k for k in KIND_STYLES if k in kinds], [t for t in EDGE_STYLES if t in types], top)


def legend(present: Iterable[Any] | None = None) -> html.Div:
    """A compact legend of the network picture.

    Parameters
    ----------
    present : iterable, optional
        The elements of :func:`~dashboard.network_view.network_elements` (or node kinds and
        edge types by name): the legend then lists only the kinds and link types in the
        picture, and the largest link's exposure. Every state and the event marker are
        always listed (the player changes states; the legend should not jump). ``None``
        lists everything the stylesheet styles.

    Returns
    -------
    dash.html.Div
        With ``aria-label`` "Legend of the network picture"; each entry a span with a
        ``data-legend`` key (``state:<s>``, ``kind:<k>``, ``edge:<t>``, ``event``) and an
        SVG swatch drawn from the stylesheet's own tables.

    Examples
    --------
    >>> keys = legend_keys(legend(["lending", "cohort", "collateral"]))
    >>> [k for k in keys if not k.startswith("state:")]
    ['event', 'kind:lending', 'kind:cohort', 'edge:collateral']
    """
    kinds, types, top = _present(present)
    states = [_item(f"state:{s}", _state_svg(s), v.legend) for s, v in STATE_STYLES.items()]
    states.append(_item("event", _event_svg(), EVENT_HALO["legend"]))
    sections = [_section("State (colour and pattern)", states)]
    if kinds:
        sections.append(_section("Kind (shape; size = exposure)",
                                 [_item(f"kind:{k}", _kind_svg(k), KIND_STYLES[k].legend)
                                  for k in kinds]))
    if types:
        width_note = "width = exposure" + (f", widest {format_usd(top)}" if top else "")
        sections.append(_section(f"Links ({width_note})",
                                 [_item(f"edge:{t}", _edge_svg(t), EDGE_STYLES[t].legend,
                                        width=32, height=12) for t in types]))
    return html.Div(sections, className="network-legend", role="group",
                    **_attrs({"aria-label": "Legend of the network picture"}),
                    style={"fontSize": "12px", "lineHeight": "22px", "color": "#222222"})


def legend_keys(component: Any) -> list[str]:
    """The ``data-legend`` keys of a legend, in order (for tests and tools)."""
    out: list[str] = []

    def walk(c: Any) -> None:
        if isinstance(c, list | tuple):
            for x in c:
                walk(x)
            return
        key = getattr(c, "data-legend", None)
        if key:
            out.append(key)
        children = getattr(c, "children", None)
        if children is not None and not isinstance(children, str):
            walk(children)

    walk(component)
    return out
