"""The page: run controls on the left; the cascade player, network, story and series on the
right; a comparison tab. Built once per app, with the first run's view already in it, so the
first paint needs no callback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash_cytoscape as cyto
from dash import dcc, html

from dashboard import ids
from dashboard.forms import Field, fields_for
from dashboard.network_view import network_stylesheet
from models import SCENARIOS

__all__ = ["FirstView", "field_controls", "make_layout"]

@dataclass(frozen=True)
class FirstView:
    """What the page shows before any callback runs (computed once per app): the first
    run's network at step 0, its story, summary, series and slider range, tour stage 1."""

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


PANEL = {"border": "1px solid #ddd", "borderRadius": "6px", "padding": "10px",
         "background": "#fff"}
GRAPH_CONFIG: Any = {"displaylogo": False,
                "toImageButtonOptions": {"format": "png", "filename": "contagion", "scale": 2}}


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
                            debounce=True, style={"width": "150px"})
    return html.Div([
        html.Label(field.label, title=field.help, style={"display": "block", "fontSize": "13px"}),
        control,
        html.Div(id={"type": ids.PARAM_ERROR, "key": field.key},
                 style={"color": "#b30000", "fontSize": "12px"}),
    ], style={"marginBottom": "6px"})


def field_controls(scenario: str) -> list[html.Div]:
    """One labelled input (and its error line) per editable parameter of ``scenario``."""
    return [_field(f, d) for f, d in fields_for(scenario)]


def scenario_options(scenario: str) -> list[dict[str, str]]:
    """The presets, and the scenario file the app was started on (``--scenario mine.toml``)."""
    options = [{"label": name, "value": name} for name in SCENARIOS]
    if scenario not in SCENARIOS:
        options.insert(0, {"label": f"file: {scenario}", "value": scenario})
    return options


def controls(scenario: str) -> html.Div:
    """The run form for ``scenario``."""
    return html.Div([
        html.H3("Run", style={"marginTop": 0}),
        html.Label("Scenario", style={"fontSize": "13px"}),
        dcc.Dropdown(id=ids.SCENARIO, options=scenario_options(scenario), value=scenario,
                     clearable=False),
        html.Div(field_controls(scenario), id="param-fields", style={"marginTop": "8px"}),
        html.Label("Seed", style={"fontSize": "13px"}),
        dcc.Input(id=ids.SEED, type="number", value=0, step="any", debounce=True,
                  style={"width": "150px"}),
        html.Div(id=ids.SEED_ERROR, style={"color": "#b30000", "fontSize": "12px"}),
        html.Div([
            html.Button("Run", id=ids.RUN, n_clicks=0, style={"marginRight": "6px"}),
            html.Button("Cancel", id=ids.CANCEL, n_clicks=0, disabled=True),
        ], style={"marginTop": "10px"}),
        html.Progress(id=ids.PROGRESS, value="0", max="100",
                      style={"width": "100%", "marginTop": "8px"}),
        html.Div(id=ids.STATUS, style={"fontSize": "13px", "minHeight": "36px"}),
        dcc.Interval(id=ids.POLL, interval=400, disabled=True),
    ], style={**PANEL, "width": "300px", "flex": "none"})


def player(view: FirstView) -> html.Div:
    """Step slider with play/pause, back/forward and speed."""
    return html.Div([
        html.Button("◀", id=ids.BACK, n_clicks=0, title="step back"),
        html.Button("▶ Play", id=ids.PLAY, n_clicks=0, style={"margin": "0 4px"}),
        html.Button("▶|", id=ids.FORWARD, n_clicks=0, title="step forward"),
        dcc.Dropdown(id=ids.SPEED, options=[{"label": f"{s}x", "value": s}
                                            for s in (0.5, 1, 2, 4)],
                     value=1, clearable=False, style={"width": "80px", "margin": "0 8px"}),
        html.Span(view.label, id=ids.STEP_LABEL,
                  style={"minWidth": "170px", "fontWeight": "bold"}),
        html.Div(dcc.Slider(id=ids.SLIDER, min=0, max=view.last_step, step=1, value=0,
                            marks=view.marks,
                            tooltip={"always_visible": False, "placement": "bottom"}),
                 style={"flex": "1"}),
        dcc.Interval(id=ids.TICK, interval=500, disabled=True),
    ], style={"display": "flex", "alignItems": "center", "gap": "4px"})


def cascade_tab(view: FirstView) -> html.Div:
    # Nothing above the network may change height after it renders: cytoscape caches its
    # container's position, and a shift would make clicks miss the nodes.
    return html.Div([
        html.Div(player(view), style={**PANEL, "marginBottom": "8px"}),
        html.Div([
            html.Div(cyto.Cytoscape(
                id=ids.NETWORK, elements=view.elements, stylesheet=network_stylesheet(),
                layout={"name": "preset", "fit": True, "padding": 10},
                style={"width": "100%", "height": "560px"}, minZoom=0.2, maxZoom=4,
            ), style={**PANEL, "flex": "3", "minWidth": "0"}),
            html.Div([
                html.Div([
                    html.H4("This step", style={"marginTop": 0}),
                    html.Ul(view.story, id=ids.NARRATIVE,
                            style={"fontSize": "13px", "paddingLeft": "18px"}),
                ], style={**PANEL, "flex": "1", "overflowY": "auto", "marginBottom": "8px"}),
                html.Div([
                    html.Strong(view.tour_title, id=ids.TOUR_TITLE),
                    dcc.Markdown(view.tour_text, id=ids.TOUR_TEXT, style={"fontSize": "13px"}),
                    html.Button("◀ Previous stage", id=ids.TOUR_PREV, n_clicks=0),
                    html.Button("Next stage ▶", id=ids.TOUR_NEXT, n_clicks=0,
                                style={"marginLeft": "6px"}),
                ], style={**PANEL, "flex": "1", "overflowY": "auto"}),
            ], style={"flex": "2", "display": "flex", "flexDirection": "column",
                      "height": "582px"}),
        ], style={"display": "flex", "gap": "8px", "marginBottom": "8px"}),
        html.Div(view.summary, id=ids.SUMMARY,
                 style={**PANEL, "marginBottom": "8px", "fontSize": "13px"}),
        html.Div(id=ids.INSPECTOR, children=[
            html.H4(id=ids.INSPECTOR_TITLE, children="Click a node to inspect it",
                    style={"marginTop": 0}),
            dcc.Graph(id=ids.INSPECTOR_FIGURE, config=GRAPH_CONFIG, style={"height": "280px"}),
            html.Div(id=ids.INSPECTOR_TRACE, style={"fontSize": "13px"}),
            html.Div(id=ids.INSPECTOR_EVENTS, style={"fontSize": "12px", "maxHeight": "220px",
                                                     "overflowY": "auto"}),
        ], style={**PANEL, "marginBottom": "8px"}),
        html.Div([
            html.Button("Event log (CSV)", id=ids.EXPORT_EVENTS, n_clicks=0),
            html.Button("Figures (HTML)", id=ids.EXPORT_FIGURES, n_clicks=0,
                        style={"margin": "0 6px"}),
            html.Button("Network (JSON)", id=ids.EXPORT_NETWORK, n_clicks=0),
            html.Span("  PNG: use the camera icon of any chart.",
                      style={"fontSize": "12px", "color": "#555"}),
            dcc.Download(id=ids.DOWNLOAD),
        ], style={"marginBottom": "8px"}),
        html.Div(dcc.Graph(id=ids.TIMESERIES, figure=view.figure, config=GRAPH_CONFIG,
                           style={"height": "1100px"}),
                 style=PANEL),
    ])


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
    ], style=PANEL)


def make_layout(scenario: str, default_run_id: str, view: FirstView) -> html.Div:
    """The whole page, with this session's stores."""
    return html.Div([
        html.H2("contagion: counterparty credit contagion in crypto markets",
                style={"margin": "6px 0"}),
        dcc.Store(id=ids.RUN_ID, data=default_run_id),
        dcc.Store(id=ids.JOB),
        dcc.Store(id=ids.TOUR_STAGE, data=0),
        dcc.Store(id=ids.TOUR_COUNT, data=view.tour_stages),
        html.Div([
            controls(scenario),
            html.Div(dcc.Tabs(id=ids.TABS, value="cascade", children=[
                dcc.Tab(label="Cascade", value="cascade", children=cascade_tab(view)),
                dcc.Tab(label="Compare", value="compare", children=compare_tab(scenario)),
            ]), style={"flex": "1", "minWidth": "0"}),
        ], style={"display": "flex", "gap": "10px", "alignItems": "flex-start"}),
    ], style={"fontFamily": "sans-serif", "padding": "8px", "background": "#f6f6f6"})
