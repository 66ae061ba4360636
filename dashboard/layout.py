"""The page, one screen at 1440x900 and 1024x700: a top bar (scenario, seed, Run), the run's
headline cards, then the network beside the player, the step's story, two linked series and
the guided tour; the parameters beside (wide screens) or over (narrow) the network; below the
fold the venue table, every series and the comparison. Sizes live in
``assets/contagion.css``. Built once per app, with the first run's view already in it, so the
first paint needs no callback."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import dash_cytoscape as cyto
from dash import dcc, html

from dashboard import ids
from dashboard.forms import Field, fields_for
from dashboard.headline import VENUE_COLUMNS, Card
from dashboard.markdown import markdown_components
from dashboard.narrative import format_usd
from dashboard.network_view import network_stylesheet
from dashboard.presets_menu import preset_options

__all__ = ["FirstView", "card_view", "field_controls", "make_layout", "venue_table_view"]

@dataclass(frozen=True)
class FirstView:
    """What the page shows before any callback runs (computed once per app): the first
    run's network at step 0, its story, headline, series and slider range, tour stage 1."""

    elements: list[dict[str, Any]]
    story: list[Any]
    label: str
    last_step: int
    marks: dict[int, str]
    summary: list[Any]
    figure: Any
    tour_title: str
    tour_text: str
    tour_stages: int
    cards: list[Any] = dataclasses.field(default_factory=list)
    venue_rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    compact: Any = None
    nodes: list[dict[str, str]] = dataclasses.field(default_factory=list)
    legend: Any = None


PANEL = {"border": "1px solid #ddd", "borderRadius": "6px", "padding": "10px",
         "background": "#fff"}
GRAPH_CONFIG: Any = {"displaylogo": False,
                "toImageButtonOptions": {"format": "png", "filename": "contagion", "scale": 2}}
#: The side panel's small chart: no mode bar (it would cover the legends).
COMPACT_CONFIG: Any = {"displayModeBar": False, "responsive": True}
def _venue_cell(key: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if key.endswith("_usd"):
        return format_usd(float(value))
    if key in ("recovery_rate", "fund_left_frac"):
        return f"{float(value):.0%}"
    if key == "default_step":
        return str(int(value))
    if key == "liquidations":
        return f"{int(value):,}"
    return str(value)


def venue_table_view(rows: list[dict[str, Any]], by: str, descending: bool) -> html.Table:
    """The per-venue table sorted by ``by`` (empty cells last); each heading is a button
    that sorts by its column (again: the other way)."""
    def key(row: dict[str, Any]) -> tuple[bool, Any]:
        v: Any = row.get(by)
        missing = v is None or (isinstance(v, float) and v != v)
        return (missing, 0 if missing else (-v if descending and not isinstance(v, str) else v))

    ordered = sorted(rows, key=key)
    if descending and rows and isinstance(rows[0].get(by), str):
        ordered = sorted(rows, key=lambda r: str(r.get(by)), reverse=True)
    arrow = " ▼" if descending else " ▲"
    head = html.Thead(html.Tr([
        html.Th(html.Button(h + (arrow if k == by else ""), id={"type": ids.VENUE_SORT_BY,
                                                                  "col": k},
                            n_clicks=0, className="sort"),
                **_attrs({"aria-sort": ("descending" if descending else "ascending") if k == by
                   else "none"}))
        for k, h in VENUE_COLUMNS.items()]))
    body = html.Tbody([html.Tr([html.Td(_venue_cell(k, r.get(k))) for k in VENUE_COLUMNS])
                       for r in ordered])
    return html.Table([head, body], className="venues")


def card_view(card: Card) -> html.Div:
    """One headline card."""
    return html.Div([
        html.Div(card.title, className="card-title"),
        html.Div(card.value, className="card-value"),
        html.Div(card.detail, className="card-detail", title=card.detail),
    ], className="card panel" + (" alert" if card.alert else ""), id=f"card-{card.key}")


#: What the keyboard does, shown under the player (dashboard/assets/keyboard.js).
KEY_MAP = "Keys: Space play/pause · ← → step · Home/End first/last · P presenter"
#: The player's speeds; speed s plays 1000 / TICK_MS * s = 2s steps a second at most.
SPEEDS = (0.5, 1, 2, 4)
TICK_MS = 500


def _attrs(pairs: dict[str, Any]) -> dict[str, Any]:
    """ARIA attributes for a component (their names are not Python keywords)."""
    return pairs


def _field(field: Field, default: Any) -> html.Div:
    fid = {"type": ids.PARAM, "key": field.key}
    if field.kind == "bool":
        control: Any = dcc.Checklist(id=fid, options=[{"label": " on", "value": "on"}],
                                     value=["on"] if default else [], inline=True)
    elif field.kind == "choice":
        control = dcc.Dropdown(id=fid, options=list(field.choices), value=default,
                               clearable=False, style={"width": "150px"})
    else:
        # step "any": a browser hands Dash None for a number off the step grid ("2.5"
        # traders, "-5"), which would read as an empty field; the server says what is wrong
        control = dcc.Input(id=fid, type="number", value=default, step="any",
                            debounce=True)
    return html.Div([
        html.Label(field.label, title=field.help, htmlFor=None),
        control,
        html.Div(id={"type": ids.PARAM_ERROR, "key": field.key}, className="param-error",
                 role="alert"),
    ], className="field")


def field_controls(scenario: str) -> list[html.Div]:
    """One labelled input (and its error line) per editable parameter of ``scenario``."""
    return [_field(f, d) for f, d in fields_for(scenario)]


def scenario_options(scenario: str) -> list[dict[str, Any]]:
    """The presets as title, date and one line (and the scenario file the app was started on,
    ``--scenario mine.toml``, first)."""
    return preset_options(scenario)


def top_bar(scenario: str) -> html.Header:
    """Title, scenario menu, seed, Run/Cancel, progress and status, and the view toggles:
    one row, fixed height, so Run is always on screen."""
    return html.Header([
        html.H1("contagion"),
        html.Div([
            dcc.Dropdown(id=ids.SCENARIO, options=scenario_options(scenario), value=scenario,
                         clearable=False, className="scenario-menu", searchable=True),
            html.Label("Seed", htmlFor=ids.SEED),
            dcc.Input(id=ids.SEED, type="number", value=0, step="any", debounce=True,
                      className="seed-box"),
            html.Span(id=ids.SEED_ERROR, className="seed-error", role="alert"),
            html.Button("Run", id=ids.RUN, n_clicks=0, className="primary"),
            html.Button("Cancel", id=ids.CANCEL, n_clicks=0, disabled=True),
            html.Progress(id=ids.PROGRESS, value="0", max="100",
                          **_attrs({"aria-label": "run progress"})),
        ], className="form-bits", style={"display": "flex", "alignItems": "center", "gap": "8px"}),
        html.Div(id=ids.STATUS, className="status", role="status", **_attrs({"aria-live": "polite"})),
        html.Button("Parameters", id=ids.PARAMS_TOGGLE, n_clicks=0, className="form-bits",
                    title="show or hide the scenario's parameters"),
        html.Button("Presenter", id=ids.PRESENTER, n_clicks=0,
                    title="large type for a projector (key P)"),
        dcc.Interval(id=ids.POLL, interval=400, disabled=True),
    ], className="topbar panel")


def params_panel(scenario: str) -> html.Aside:
    """The preset's parameters: beside the stage on wide screens, over it on narrow ones."""
    return html.Aside([
        html.H2("Parameters"),
        html.Div(field_controls(scenario), id="param-fields"),
        html.H2("Your own world", style={"marginTop": "12px"}),
        # no `accept` filter: the browser would drop another file silently; the server says
        # what is wrong with it instead
        dcc.Upload(id=ids.UPLOAD_SCENARIO, className="upload",
                   children=html.Div(["Scenario file (.toml, .json): drop it here or ",
                                      html.U("choose")])),
        html.Div(id=ids.UPLOAD_SCENARIO_MSG, className="upload-message", role="alert"),
        dcc.Upload(id=ids.UPLOAD_POSITIONS, className="upload",
                   children=html.Div(["Positions file (.csv, .parquet): drop it here or ",
                                      html.U("choose")])),
        html.Div(id=ids.UPLOAD_POSITIONS_MSG, className="upload-message", role="alert"),
        html.Button("Forget the positions file", id=ids.CLEAR_POSITIONS, n_clicks=0),
        dcc.Store(id=ids.POSITIONS_FILE),
        html.P(["Formats: docs/positions.md and the schema from ",
                html.Code("contagion scenarios schema"), "."],
               style={"fontSize": "12px", "color": "#555"}),
    ], id=ids.PARAMS_PANEL, className="params panel auto", **_attrs({"aria-label": "parameters"}))


def headline(cards: list[Any]) -> html.Div:
    return html.Div(cards, id=ids.HEADLINE, className="cards",
                    **_attrs({"aria-label": "the run's headline figures"}))


def player(view: FirstView) -> html.Div:
    """Step slider with first/back/play/forward/last, speed, the achieved speed when the
    page draws slower than asked, and the keyboard map. The player runs in the browser
    (:mod:`dashboard.player`); ``SHOWN_STEP`` is the step the server last drew."""
    return html.Div([
        html.Div([
            html.Button("|◀", id=ids.FIRST, n_clicks=0, title="first step (Home)",
                        **_attrs({"aria-label": "first step"})),
            html.Button("◀", id=ids.BACK, n_clicks=0, title="step back (←)",
                        **_attrs({"aria-label": "step back"})),
            html.Button("▶ Play", id=ids.PLAY, n_clicks=0, title="play or pause (Space)",
                        **_attrs({"aria-label": "play or pause"})),
            html.Button("▶", id=ids.FORWARD, n_clicks=0, title="step forward (→)",
                        **_attrs({"aria-label": "step forward"})),
            html.Button("▶|", id=ids.LAST, n_clicks=0, title="last step (End)",
                        **_attrs({"aria-label": "last step"})),
            html.Span(id=ids.RATE, className="rate",
                      title="every step is drawn: this is the speed the page keeps up"),
        ], className="controls"),
        html.Div(dcc.Slider(id=ids.SLIDER, min=0, max=view.last_step, step=1, value=0,
                            marks=view.marks, updatemode="drag",
                            tooltip={"always_visible": False, "placement": "bottom"}),
                 **_attrs({"aria-label": "step of the run"})),
        html.Div([
            html.Span(view.label, id=ids.STEP_LABEL, className="step-label",
                      **_attrs({"aria-live": "polite"})),
            dcc.RadioItems(id=ids.SPEED, options=[{"label": f"{s:g}x", "value": s}
                                                  for s in SPEEDS],
                           value=1, inline=True, className="speed",
                           inputStyle={"marginRight": "2px"},
                           labelStyle={"marginRight": "6px", "fontSize": "13px"}),
        ], className="step-row"),
        html.Div(KEY_MAP, id=ids.KEYS, className="keys"),
        dcc.Interval(id=ids.TICK, interval=TICK_MS, disabled=True),
        dcc.Store(id=ids.SHOWN_STEP, data=0),
        dcc.Store(id=ids.TOUR_STEP),
    ], className="player panel")


def network_panel(view: FirstView) -> html.Section:
    # Nothing above the network may change height after it renders: cytoscape caches its
    # container's position, and a shift would make clicks miss the nodes. The legend is a
    # fixed-height strip below it, so it never covers a node.
    return html.Section([
        html.Div([
            cyto.Cytoscape(
                id=ids.NETWORK, elements=view.elements, stylesheet=network_stylesheet(),
                layout={"name": "preset", "fit": True, "padding": 30},
                style={"width": "100%", "height": "100%"}, minZoom=0.2, maxZoom=4,
            ),
            html.Div(dcc.Dropdown(id=ids.NODE_PICK, options=view.nodes,
                                  placeholder="Inspect a node…", clearable=True),
                     className="node-pick"),
            html.Div([
                html.Button("Fit", id=ids.FIT, n_clicks=0, title="fit the whole network"),
                html.Button("Reset", id=ids.RESET_VIEW, n_clicks=0,
                            title="reset zoom, selection and drawn traders"),
            ], className="toolbar"),
            html.Div([
                html.P(id=ids.EXPIRED_TEXT),
                html.Button("Re-run it", id=ids.RERUN, n_clicks=0, className="primary"),
            ], id=ids.EXPIRED, className="expired", role="alert"),
            html.Div(id=ids.TOOLTIP, className="tooltip", role="tooltip"),
        ], className="network-canvas"),
        html.Div(view.legend.children if view.legend is not None else [], id=ids.LEGEND,
                 className="legend", **_attrs({"aria-label": "legend"})),
    ], className="network-panel panel", **_attrs({"aria-label": "exposure network"}))


def inspector() -> html.Div:
    """The node panel: opens over the story column, beside the network."""
    return html.Div([
        html.Button("✕ Close", id=ids.INSPECTOR_CLOSE, n_clicks=0, style={"float": "right"}),
        html.H4(id=ids.INSPECTOR_TITLE, children="Click a node to inspect it",
                style={"marginTop": 0}),
        html.Button("", id=ids.EXPAND, n_clicks=0, style={"display": "none"}),
        dcc.Store(id=ids.INSPECTED),
        dcc.Store(id=ids.EXPANDED, data=[]),
        dcc.Graph(id=ids.INSPECTOR_FIGURE, config=GRAPH_CONFIG, style={"height": "260px"}),
        html.Div(id=ids.INSPECTOR_TRACE, style={"fontSize": "13px"}),
        html.Div(id=ids.INSPECTOR_EVENTS, style={"fontSize": "12px"}),
    ], id=ids.INSPECTOR, className="inspector panel")


def side(view: FirstView) -> html.Div:
    return html.Div([
        html.Div([
            player(view),
            html.Div([
                html.H3("This step"),
                html.Ul(view.story, id=ids.NARRATIVE, **_attrs({"aria-live": "polite"})),
            ], className="story panel"),
            html.Div(dcc.Graph(id=ids.COMPACT, figure=view.compact, config=COMPACT_CONFIG,
                               style={"height": "100%"}), className="compact panel"),
            html.Div([
                html.Div([
                    html.H3(view.tour_title, id=ids.TOUR_TITLE),
                    html.Button("◀", id=ids.TOUR_PREV, n_clicks=0, title="previous stage",
                                **_attrs({"aria-label": "previous tour stage"})),
                    html.Button("Next stage ▶", id=ids.TOUR_NEXT, n_clicks=0,
                                **_attrs({"aria-label": "next tour stage"})),
                ], className="tour-head"),
                html.Div(markdown_components(view.tour_text), id=ids.TOUR_TEXT),
            ], className="tour panel", **_attrs({"aria-label": "guided tour"})),
        ], className="side"),
        inspector(),
    ], className="side-wrap")


def details(view: FirstView, scenario: str) -> html.Div:
    """Below the fold: the venue table, every series, exports, and the comparison."""
    return html.Div(dcc.Tabs(id=ids.DETAILS, value="venues", children=[
        dcc.Tab(label="Venues", value="venues", children=html.Div([
            html.P("Per venue at the end of the run; click a heading to sort.",
                   style={"fontSize": "13px", "margin": "4px 0"}),
            dcc.Store(id=ids.VENUE_SORT, data={"by": "bad_debt_usd", "descending": True}),
            html.Div(venue_table_view(view.venue_rows, "bad_debt_usd", True),
                     id=ids.VENUE_TABLE),
            html.Div([
                html.Button("Event log (CSV)", id=ids.EXPORT_EVENTS, n_clicks=0),
                html.Button("Figures (HTML)", id=ids.EXPORT_FIGURES, n_clicks=0,
                            style={"margin": "0 6px"}),
                html.Button("Network (JSON)", id=ids.EXPORT_NETWORK, n_clicks=0),
                html.Span("  PNG: use the camera icon of any chart.",
                          style={"fontSize": "12px", "color": "#555"}),
                dcc.Download(id=ids.DOWNLOAD),
            ], style={"margin": "8px 0"}),
        ], className="panel")),
        dcc.Tab(label="All series", value="series", children=html.Div(
            dcc.Graph(id=ids.TIMESERIES, figure=view.figure, config=GRAPH_CONFIG,
                      style={"height": "1100px"}), className="panel")),
        dcc.Tab(label="Compare", value="compare", children=compare_tab(scenario)),
    ]), className="details")


def compare_tab(scenario: str) -> html.Div:
    keys = [{"label": f.label, "value": f.key} for f, _ in fields_for(scenario)]
    return html.Div([
        html.P("Run the scenario in the form twice, changing one parameter, and compare: "
               "the left run uses the form as it is, the right run changes the parameter "
               "below.", style={"fontSize": "13px"}),
        html.Div([
            dcc.Dropdown(id=ids.COMPARE_KEY, options=keys, value="cross_margin",
                         clearable=False, style={"width": "260px"}),
            dcc.Input(id=ids.COMPARE_VALUE, type="text", value="false", debounce=True,
                      placeholder="value for the right run", style={"width": "160px"}),
            html.Button("Compare", id=ids.COMPARE_RUN, n_clicks=0),
        ], style={"display": "flex", "gap": "8px", "alignItems": "center"}),
        html.Div(id=ids.COMPARE_ERROR, style={"color": "#b30000", "fontSize": "13px"}),
        dcc.Loading(html.Div([
            html.Div(id=ids.COMPARE_TABLE, style={"margin": "8px 0"}),
            dcc.Graph(id=ids.COMPARE_FIGURE, config=GRAPH_CONFIG, style={"height": "700px"}),
        ])),
    ], className="panel")


def make_layout(scenario: str, default_run_id: str, view: FirstView) -> html.Div:
    """The whole page, with this session's stores."""
    return html.Div([
        dcc.Store(id=ids.RUN_ID, data=default_run_id),
        dcc.Store(id=ids.JOB),
        dcc.Store(id=ids.TOUR_STAGE, data=0),
        dcc.Store(id=ids.TOUR_COUNT, data=view.tour_stages),
        top_bar(scenario),
        html.Div(view.summary, id=ids.SUMMARY, className="summary-line"),
        headline(view.cards),
        html.Div([
            params_panel(scenario),
            html.Main([network_panel(view), side(view)], className="stage"),
        ], className="body"),
        details(view, scenario),
    ], id=ids.APP, className="app")
