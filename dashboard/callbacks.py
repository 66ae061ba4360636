"""The dashboard's callbacks: small, one job each, reading runs only through the store.

Every number shown comes from a :class:`~contagion.runner.RunResult` (events, series,
venues, node states, network), through the pure builders of :mod:`dashboard.figures` and
:mod:`dashboard.narrative`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dash
import networkx as nx
import pandas as pd
from dash import ALL, Input, Output, Patch, State, ctx, dcc, html, no_update

from contagion.errors import ContagionError, ParameterError
from contagion.positions import Positions, check_positions, read_positions
from contagion.runner import RunResult, simulate
from contagion.scenario import Scenario
from dashboard import ids
from dashboard.figures import (
    CURSOR_INDEX,
    compact_figure,
    compare_figure,
    compare_table,
    cursor_shape,
    figure_html,
    node_figure,
    timeseries_figure,
)
from dashboard.forms import build, fields_for, validate
from dashboard.headline import headline_cards, venue_table, venue_table_records
from dashboard.layout import card_view, venue_table_view
from dashboard.legend import legend
from dashboard.markdown import markdown_components
from dashboard.narrative import default_trace, format_usd, node_events, step_narrative
from dashboard.network_view import network_elements, node_positions
from dashboard.player import register_player
from dashboard.store import RunStore
from dashboard.tour import tour_for
from dashboard.uploads import UploadDir, positions_upload, scenario_upload
from models import SCENARIOS, get_scenario

__all__ = ["RunView", "elapsed_text", "node_options", "register_callbacks", "run_view", "step_length_text",
           "step_view"]



def oracle_assets(result: RunResult) -> dict[str, str]:
    """Oracle name -> the asset it prices."""
    return {o.name: o.asset for o in result.scenario.oracles}


def form_values(values: list[Any], id_list: list[dict[str, str]]) -> dict[str, Any]:
    """Form values by parameter key (checklists become booleans)."""
    out: dict[str, Any] = {}
    for value, cid in zip(values, id_list, strict=True):
        out[cid["key"]] = bool(value) if isinstance(value, list) else value
    return out


#: The run form as callback states: scenario, parameter values and their ids, seed.
FORM = [State(ids.SCENARIO, "value"), State({"type": ids.PARAM, "key": ALL}, "value"),
        State({"type": ids.PARAM, "key": ALL}, "id"), State(ids.SEED, "value")]


def seed_message(seed: Any) -> str:
    """What is wrong with the seed field ('' when it is a whole number >= 0)."""
    if isinstance(seed, float) and seed.is_integer():
        seed = int(seed)
    if seed is None or seed == "":
        return "the seed is empty: give a whole number >= 0"
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        return f"{seed!r} is not allowed: a whole number >= 0"
    return ""


def form_scenario(scenario: str, values: dict[str, Any], seed: Any) -> tuple[Any, int]:
    """The scenario and seed the form describes (ParameterError naming a bad field)."""
    sc = build(scenario, values)
    if isinstance(seed, float) and seed.is_integer():
        seed = int(seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError("seed", seed, "an integer >= 0")
    return sc, seed


def summary_line(result: RunResult) -> list[Any]:
    s = result.summary
    parts = [
        f"{result.scenario.name}, seed {s['seed']}, {s['n_traders']:,} traders, "
        f"{s['steps']} steps of {step_length_text(result.scenario.market.step_minutes)}.",
        f" Defaults: {', '.join(s['defaulted']) or 'none'}.",
        f" Venues hit: {', '.join(s['venues_hit']) or 'none'}.",
        f" Liquidations: {s['liquidations']:,} ({format_usd(s['liquidation_volume_usd'])}).",
        f" Bad debt {format_usd(s['bad_debt_usd'])}; funds used "
        f"{format_usd(s['fund_used_usd'])}; socialised {format_usd(s['socialised_usd'])};"
        f" ADL {format_usd(s['adl_usd'])}.",
    ]
    return [html.Strong(parts[0]), *parts[1:]]


def step_view(store: RunStore, run_id: str, result: RunResult, step: int,
              expand: list[str] | None = None
              ) -> tuple[list[dict[str, Any]], list[Any], str]:
    """What the Cascade tab shows for one step: network elements (with fixed positions; the
    cohorts in ``expand`` drawn trader by trader), the narrative as list items, and the step
    label."""
    elements = network_elements(result.network, result.node_states, result.events, step,
                                expand=frozenset(expand or ()))
    if expand:  # everything else keeps its place: the layout is deterministic (0.4 ms)
        positions = node_positions(elements)
    else:
        positions = store.positions(run_id, lambda: node_positions(elements))
    for e in elements:
        where = positions.get(e["data"]["id"])
        if where is not None:
            e["position"] = where
    story = step_narrative(result.events, result.series, step, oracles=oracle_assets(result))
    label = f"Step {step} ({elapsed_text(step, result.scenario.market.step_minutes)})"
    return elements, [html.Li(s) for s in story], label


def elapsed_text(step: int, step_minutes: float) -> str:
    """The time since the start at ``step``, as a reader counts it: hours and minutes for
    the first two days, then days (and hours, when steps are shorter than a day).

    >>> elapsed_text(13, 5.0), elapsed_text(48, 60.0), elapsed_text(72, 60.0)
    ('1h05', '48h00', '3d 00h')
    >>> elapsed_text(41, 1440.0)
    'day 41'
    """
    minutes = step * step_minutes
    if minutes <= 48 * 60:
        return f"{int(minutes // 60)}h{int(minutes % 60):02d}"
    if step_minutes % 1440 == 0:
        return f"day {int(minutes // 1440)}"
    return f"{int(minutes // 1440)}d {int(minutes % 1440 // 60):02d}h"


def step_length_text(step_minutes: float) -> str:
    """A step's length in words: ``5 min``, ``1 h``, ``1 day``.

    >>> step_length_text(5.0), step_length_text(60.0), step_length_text(1440.0)
    ('5 min', '1 h', '1 day')
    """
    if step_minutes % 1440 == 0:
        days = int(step_minutes // 1440)
        return f"{days} day" + ("s" if days > 1 else "")
    if step_minutes % 60 == 0:
        return f"{int(step_minutes // 60)} h"
    return f"{step_minutes:g} min"


@dataclass(frozen=True)
class RunView:
    """What changes on the page when a run is shown (besides the step): slider range and
    marks, the one-line summary, the headline cards, the venue table, both series figures
    and the node list."""

    last: int
    marks: dict[int, str]
    summary: list[Any]
    cards: list[Any]
    venue_rows: list[dict[str, Any]]
    figure: Any
    compact: Any
    nodes: list[dict[str, str]]
    legend: Any


def node_options(elements: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every node of the picture, by label, for the keyboard-reachable node list."""
    out = [{"label": f"{e['data']['label']} ({e['data'].get('kind', '')})",
            "value": e["data"]["id"]} for e in elements if "source" not in e["data"]]
    return sorted(out, key=lambda o: o["label"].lower())


def run_view(result: RunResult) -> RunView:
    """Everything a run shows apart from the step."""
    last = int(result.series.index.max())
    every = max(1, last // 12)
    marks = {i: str(i) for i in range(0, last + 1, every)}
    oracles = oracle_assets(result)
    first = network_elements(result.network, result.node_states, result.events, 0)
    return RunView(
        last=last, marks=marks, summary=summary_line(result),
        cards=[card_view(c) for c in headline_cards(result)],
        venue_rows=venue_table_records(venue_table(result)),
        figure=timeseries_figure(result.series, oracles=oracles, step=0),
        compact=compact_figure(result.series, oracles=oracles, step=0),
        nodes=node_options(first), legend=legend(first))


def register_callbacks(app: dash.Dash, store: RunStore, uploads: UploadDir | None = None,
                       start_scenario: str = "default") -> None:
    """Attach every callback of the dashboard to ``app``, reading runs from ``store`` and
    keeping accepted uploads in ``uploads``."""
    register_view_toggles(app)
    uploads = uploads if uploads is not None else UploadDir()

    def usable_scenario(ref: str) -> bool:
        """A preset, the scenario the app started on, or a file uploaded here (a page may
        not name any other file of the server)."""
        return ref in SCENARIOS or ref == start_scenario or uploads.holds(ref)

    def form_positions(path: str | None, sc: Scenario) -> Positions | None:
        """The uploaded positions, checked again against the scenario about to run."""
        if not path:
            return None
        if not uploads.holds(path):
            raise ContagionError("the positions file is not one uploaded here")
        return check_positions(read_positions(path), sc, source=Path(path).name)

    @app.callback(
        Output(ids.SCENARIO, "options"),
        Output(ids.SCENARIO, "value"),
        Output(ids.UPLOAD_SCENARIO_MSG, "children"),
        Output(ids.UPLOAD_SCENARIO_MSG, "className"),
        Input(ids.UPLOAD_SCENARIO, "contents"),
        State(ids.UPLOAD_SCENARIO, "filename"),
        State(ids.SCENARIO, "options"),
        prevent_initial_call=True,
    )
    def upload_scenario(contents: str | None, filename: str | None,
                        options: list[dict[str, Any]]) -> tuple:
        """An uploaded scenario file joins the menu and is chosen (which runs it)."""
        try:
            accepted, _ = scenario_upload(contents, filename, uploads)
        except ContagionError as exc:
            return no_update, no_update, f"Not accepted: {exc}", "upload-message bad"
        option = {"label": html.Div(f"file: {Path(accepted.path).name}"),
                  "value": accepted.path, "search": f"file {Path(accepted.path).name}"}
        return [option, *options], accepted.path, accepted.message, "upload-message good"

    @app.callback(
        Output(ids.POSITIONS_FILE, "data"),
        Output(ids.UPLOAD_POSITIONS_MSG, "children"),
        Output(ids.UPLOAD_POSITIONS_MSG, "className"),
        Input(ids.UPLOAD_POSITIONS, "contents"),
        Input(ids.CLEAR_POSITIONS, "n_clicks"),
        Input(ids.SCENARIO, "value"),
        State(ids.UPLOAD_POSITIONS, "filename"),
        *FORM,
        State(ids.POSITIONS_FILE, "data"),
        prevent_initial_call=True,
    )
    def upload_positions(contents: str | None, _clear: int, _chosen: str,
                         filename: str | None, scenario: str, values: list[Any],
                         id_list: list[dict[str, str]], seed: Any, held: str | None) -> tuple:
        """An uploaded positions file, checked against the form's scenario; forgotten when
        asked or when another scenario is chosen (it was checked against this one)."""
        trigger = ctx.triggered_id
        if trigger in (ids.CLEAR_POSITIONS, ids.SCENARIO):
            if not held:
                return no_update, no_update, no_update
            why = "forgotten" if trigger == ids.CLEAR_POSITIONS else \
                "forgotten: it was checked against the previous scenario"
            return None, f"Positions file {why}; runs draw random books.", "upload-message"
        try:
            sc, _ = form_scenario(scenario, form_values(values, id_list), seed)
            accepted, _ = positions_upload(contents, filename, sc, uploads)
        except ContagionError as exc:
            kept = " (the previous positions file is still used)" if held else ""
            return no_update, f"Not accepted{kept}: {exc}", "upload-message bad"
        return accepted.path, accepted.message, "upload-message good"
    register_player(app, store)

    @app.callback(
        Output("param-fields", "children"),
        Output(ids.COMPARE_KEY, "options"),
        Output(ids.COMPARE_KEY, "value"),
        Input(ids.SCENARIO, "value"),
        prevent_initial_call=True,
    )
    def rebuild_form(scenario: str) -> tuple[list[Any], list[dict[str, str]], str | None]:
        """The preset's fields, and its parameters as the Compare tab's choices (the tours
        name them)."""
        from dashboard.layout import field_controls

        fields = [f for f, _ in fields_for(scenario)]
        keys = [{"label": f.label, "value": f.key} for f in fields]
        first = next((f.key for f in fields if f.kind == "bool"), fields[0].key if fields else None)
        return field_controls(scenario), keys, first

    @app.callback(
        Output({"type": ids.PARAM_ERROR, "key": ALL}, "children"),
        Output(ids.SEED_ERROR, "children"),
        Output(ids.RUN, "disabled"),
        Input({"type": ids.PARAM, "key": ALL}, "value"),
        Input(ids.SEED, "value"),
        State({"type": ids.PARAM, "key": ALL}, "id"),
        State(ids.SCENARIO, "value"),
        prevent_initial_call=True,  # the preset's defaults are valid
    )
    def check_form(values: list[Any], seed: Any, id_list: list[dict[str, str]],
                   scenario: str) -> tuple[list[str], str, bool]:
        errors = validate(scenario, form_values(values, id_list))
        messages = [errors.get(cid["key"], "") for cid in id_list]
        seed_error = seed_message(seed)
        return messages, seed_error, any(messages) or bool(seed_error)

    @app.callback(
        Output(ids.JOB, "data"),
        Output(ids.POLL, "disabled"),
        Output(ids.PROGRESS, "value"),
        Output(ids.STATUS, "children"),
        Output(ids.CANCEL, "disabled"),
        Output(ids.RUN_ID, "data"),
        Input(ids.RUN, "n_clicks"),
        Input(ids.CANCEL, "n_clicks"),
        Input(ids.POLL, "n_intervals"),
        Input(ids.RERUN, "n_clicks"),
        Input(ids.SCENARIO, "value"),
        *FORM,
        State(ids.JOB, "data"),
        State(ids.RUN_ID, "data"),
        State(ids.POSITIONS_FILE, "data"),
        prevent_initial_call=True,
    )
    def run_control(_run: int, _cancel: int, _poll: int, _rerun: int, chosen: str,
                    scenario: str, values: list[Any], id_list: list[dict[str, str]], seed: Any,
                    job_id: str | None, shown: str | None, positions_file: str | None
                    ) -> tuple:
        trigger = ctx.triggered_id
        if trigger in (ids.SCENARIO, ids.RUN) and not usable_scenario(scenario):
            return no_update, True, "0", "Not started: unknown scenario", True, no_update
        if trigger == ids.SCENARIO:
            # a preset chosen in the menu: clear the old run and run the preset's defaults
            # (the form is being rebuilt with them) with the seed in the form
            store.cancel(job_id)
            if seed_message(seed):
                return (None, True, "0", f"Press Run to run {chosen}: {seed_message(seed)}",
                        True, None)
            try:
                sc = get_scenario(chosen)
            except ContagionError as exc:
                return None, True, "0", f"Not started: {exc}", True, None
            started = store.submit(sc, seed=int(seed), record_cohorts=sc.traders.n_traders > 5000)
            return started.run_id, False, "0", f"Running {chosen}…", False, None
        if trigger == ids.RERUN:
            try:
                again = store.rerun(shown or "")
            except KeyError:
                return no_update, True, "0", "Not started: this run is unknown here.", True, \
                    no_update
            return again.run_id, False, "0", "Re-running…", False, no_update
        if trigger == ids.RUN:
            try:
                sc, seed = form_scenario(scenario, form_values(values, id_list), seed)
                books = form_positions(positions_file, sc)
            except ContagionError as exc:
                return no_update, True, "0", f"Not started: {exc}", True, no_update
            started = store.submit(sc, seed=seed, record_cohorts=sc.traders.n_traders > 5000,
                                   positions=books)
            told = " from the uploaded positions" if books is not None else ""
            return started.run_id, False, "0", f"Queued{told}…", False, no_update
        if trigger == ids.CANCEL:
            store.cancel(job_id)
            return no_update, no_update, no_update, "Cancelling…", True, no_update
        job = store.job(job_id)
        if job is None:
            return None, True, "0", "", True, no_update
        pct = f"{100 * job.done / max(job.total, 1):.0f}"
        if job.status == "done":
            return None, True, "100", "Done.", True, job.run_id
        if job.status == "cancelled":
            return None, True, pct, f"Cancelled at step {job.done}.", True, no_update
        if job.status == "failed":
            return None, True, pct, f"Failed: {job.error}", True, no_update
        return no_update, False, pct, f"Running: step {job.done} of {job.total}", False, no_update

    @app.callback(
        Output(ids.SLIDER, "max"),
        Output(ids.SLIDER, "marks"),
        Output(ids.SUMMARY, "children"),
        Output(ids.HEADLINE, "children"),
        Output(ids.VENUE_TABLE, "children"),
        Output(ids.TIMESERIES, "figure"),
        Output(ids.COMPACT, "figure"),
        Output(ids.NODE_PICK, "options"),
        Output(ids.LEGEND, "children"),
        Output(ids.EXPANDED, "data"),
        Input(ids.RUN_ID, "data"),
        State(ids.VENUE_SORT, "data"),
        prevent_initial_call=True,  # the layout embeds the first run's view
    )
    def load_run(run_id: str, sort: dict[str, Any]) -> tuple:
        result = store.get(run_id)
        if result is None:
            empty = {"data": [], "layout": {"shapes": [cursor_shape(None)]}}
            text, _ = missing_run(store, run_id)
            return 1, None, text, [], [], empty, empty, [], [], []
        v = run_view(result)
        table = venue_table_view(v.venue_rows, sort["by"], sort["descending"])
        return (v.last, v.marks, v.summary, v.cards, table, v.figure, v.compact, v.nodes,
                v.legend.children, [])

    @app.callback(
        Output(ids.VENUE_TABLE, "children", allow_duplicate=True),
        Output(ids.VENUE_SORT, "data"),
        Input({"type": ids.VENUE_SORT_BY, "col": ALL}, "n_clicks"),
        State(ids.VENUE_SORT, "data"),
        State(ids.RUN_ID, "data"),
        prevent_initial_call=True,
    )
    def sort_venues(_clicks: list[int], sort: dict[str, Any], run_id: str) -> tuple:
        """Sort the venue table by the clicked heading (again: the other way)."""
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(_clicks):
            return no_update, no_update
        result = store.get(run_id)
        if result is None:
            return no_update, no_update
        by = trigger["col"]
        descending = not sort["descending"] if by == sort["by"] else by not in ("venue", "kind")
        rows = venue_table_records(venue_table(result))
        return venue_table_view(rows, by, descending), {"by": by, "descending": descending}

    @app.callback(
        Output(ids.NETWORK, "elements"),
        Output(ids.NARRATIVE, "children"),
        Output(ids.STEP_LABEL, "children"),
        Output(ids.TIMESERIES, "figure", allow_duplicate=True),
        Output(ids.COMPACT, "figure", allow_duplicate=True),
        Output(ids.EXPIRED, "className"),
        Output(ids.EXPIRED_TEXT, "children"),
        Output(ids.LEGEND, "children", allow_duplicate=True),
        Output(ids.SHOWN_STEP, "data"),
        Input(ids.SLIDER, "value"),
        Input(ids.EXPANDED, "data"),
        State(ids.RUN_ID, "data"),
        prevent_initial_call=True,
    )
    def show_step(step: int | None, expand: list[str] | None, run_id: str) -> tuple:
        """The step's network, story, label and series cursors; and the step, as the one
        drawn (``SHOWN_STEP``: the player advances only from a drawn step)."""
        step = int(step or 0)
        result = store.get(run_id)
        if result is None:
            text, can_rerun = missing_run(store, run_id)
            return ([], [html.Li(text)], "", no_update, no_update,
                    "expired shown" if can_rerun else "expired", text, no_update, step)
        elements, story, label = step_view(store, run_id, result, step, expand)
        # the kinds drawn change only when cohorts open or close
        key: Any = (legend(elements).children if ctx.triggered_id == ids.EXPANDED
                    else no_update)
        cursors: list[Any] = [no_update, no_update]
        if ctx.triggered_id == ids.SLIDER:  # on first load the figures are not there yet
            cursors = [Patch(), Patch()]
            for cursor in cursors:
                cursor["layout"]["shapes"][CURSOR_INDEX] = cursor_shape(step)
        return elements, story, label, *cursors, "expired", "", key, step

    # The stage counter runs in the browser, in click order: a server callback reading the
    # stage as State would lose clicks made while an earlier request was in flight. A new
    # run starts its own tour at its first stage.
    app.clientside_callback(
        """function(prev, next, runId, stage, count) {
            const trig = dash_clientside.callback_context.triggered.map(t => t.prop_id);
            if (trig.some(p => p.startsWith('run-id'))) { return 0; }
            let s = stage || 0;
            if (trig.some(p => p.startsWith('tour-next'))) { s = Math.min(s + 1, count - 1); }
            else if (trig.some(p => p.startsWith('tour-prev'))) { s = Math.max(s - 1, 0); }
            return s;
        }""",
        Output(ids.TOUR_STAGE, "data"),
        Input(ids.TOUR_PREV, "n_clicks"),
        Input(ids.TOUR_NEXT, "n_clicks"),
        Input(ids.RUN_ID, "data"),
        State(ids.TOUR_STAGE, "data"),
        State(ids.TOUR_COUNT, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.TOUR_TITLE, "children"),
        Output(ids.TOUR_TEXT, "children"),
        Output(ids.TOUR_COUNT, "data"),
        Input(ids.TOUR_STAGE, "data"),
        Input(ids.RUN_ID, "data"),
        prevent_initial_call=True,
    )
    def tour(stage: int | None, run_id: str) -> tuple:
        """The stage's title and text, from the shown run's own tour (a new run: stage 1)."""
        result = store.get(run_id)
        if result is None:
            return "Guided tour", missing_run(store, run_id)[0], 1
        stages = tour_for(result.scenario.name, result)
        if f"{ids.RUN_ID}.data" in ctx.triggered_prop_ids:
            stage = 0
        stage = max(0, min(int(stage or 0), len(stages) - 1))
        return (f"Guided tour — {stages[stage].title}", markdown_components(stages[stage].body),
                len(stages))

    @app.callback(
        Output(ids.INSPECTOR_TITLE, "children"),
        Output(ids.INSPECTOR_FIGURE, "figure"),
        Output(ids.INSPECTOR_TRACE, "children"),
        Output(ids.INSPECTOR_EVENTS, "children"),
        Output(ids.INSPECTOR, "className"),
        Output(ids.INSPECTED, "data"),
        Output(ids.EXPAND, "children"),
        Output(ids.EXPAND, "style"),
        Input(ids.NETWORK, "tapNodeData"),
        Input(ids.NODE_PICK, "value"),
        State(ids.RUN_ID, "data"),
        State(ids.EXPANDED, "data"),
        prevent_initial_call=True,
    )
    def inspect(tapped: dict[str, Any] | None, picked: str | None, run_id: str,
                expanded: list[str] | None) -> tuple:
        """The node panel of the clicked node, or of the one picked in the node list (the
        keyboard's way to every node)."""
        result = store.get(run_id)
        node = tapped
        if ctx.triggered_id == ids.NODE_PICK:
            node = _node_data(result, picked) if result is not None and picked else None
        hidden = {"display": "none"}
        if not node or result is None:
            return "Click a node to inspect it", {}, "", "", "inspector panel", None, "", hidden
        name = node["id"]
        fig = node_figure(name, result.venues, result.node_states, network=result.network,
                          events=result.events)
        trace: Any = ""
        if name in set(result.events.loc[result.events["kind"] == "default", "venue"]):
            trace = html.Div([html.Strong(f"How {name} came to default:"),
                              html.Ol([html.Li(s) for s in default_trace(result.events, name)])])
        rows = node_events(result.events, name, network=result.network)
        events_table = _table(rows.tail(200)) if len(rows) else html.P("No events for this node.")
        exposures = counterparties(result.network, name)
        table = html.Div([
            html.Strong("Counterparties and exposures (end of run)"),
            _table(exposures.head(50)) if len(exposures) else html.P("No exposures."),
            html.Strong("Events"), events_table,
        ])
        kind = node.get("kind", "")
        title = f"{node.get('label', name)} ({kind}, {node.get('state', '')})"
        button = (expand_label(name, expanded), {"margin": "4px 0"}) if kind == "cohort" \
            else ("", hidden)
        return title, fig, trace, table, "inspector panel open", name, *button

    @app.callback(
        Output(ids.EXPANDED, "data", allow_duplicate=True),
        Output(ids.EXPAND, "children", allow_duplicate=True),
        Input(ids.EXPAND, "n_clicks"),
        Input(ids.RESET_VIEW, "n_clicks"),
        State(ids.INSPECTED, "data"),
        State(ids.EXPANDED, "data"),
        prevent_initial_call=True,
    )
    def expand_cohort(_n: int, _reset: int, node: str | None, expanded: list[str] | None
                      ) -> tuple:
        """Draw the inspected cohort's traders one by one, or group them again; Reset groups
        every cohort again."""
        if ctx.triggered_id == ids.RESET_VIEW:
            return ([], expand_label(node, [])) if expanded else (no_update, no_update)
        if not node or not node.startswith("cohort:"):
            return no_update, no_update
        now = list(expanded or [])
        now = [c for c in now if c != node] if node in now else [*now, node]
        return now, expand_label(node, now)

    @app.callback(
        Output(ids.COMPARE_ERROR, "children"),
        Output(ids.COMPARE_TABLE, "children"),
        Output(ids.COMPARE_FIGURE, "figure"),
        Input(ids.COMPARE_RUN, "n_clicks"),
        *FORM,
        State(ids.COMPARE_KEY, "value"),
        State(ids.COMPARE_VALUE, "value"),
        prevent_initial_call=True,
    )
    def compare(_n: int, scenario: str, values: list[Any], id_list: list[dict[str, str]],
                seed: Any, key: str, raw: str) -> tuple:
        base = form_values(values, id_list)
        try:
            variant = dict(base)
            variant[key] = _parse(scenario, key, raw)
            sc_a, seed = form_scenario(scenario, base, seed)
            sc_b, _ = form_scenario(scenario, variant, seed)
            a, b = simulate(sc_a, seed=seed), simulate(sc_b, seed=seed)
        except ContagionError as exc:
            return str(exc), no_update, no_update
        labels = (f"{key} = {base.get(key)!r}", f"{key} = {variant[key]!r}")
        table = compare_table(a.summary, b.summary, labels=labels)
        return "", _table(table), compare_figure(a.series, b.series, labels=labels)

    @app.callback(
        Output(ids.DOWNLOAD, "data"),
        Input(ids.EXPORT_EVENTS, "n_clicks"),
        Input(ids.EXPORT_FIGURES, "n_clicks"),
        Input(ids.EXPORT_NETWORK, "n_clicks"),
        State(ids.RUN_ID, "data"),
        prevent_initial_call=True,
    )
    def export(_e: int, _f: int, _n: int, run_id: str) -> Any:
        result = store.get(run_id)
        if result is None:
            return no_update
        stem = f"contagion-{result.scenario.name}-seed{result.seed}"
        if ctx.triggered_id == ids.EXPORT_EVENTS:
            return dcc.send_data_frame(result.events.to_csv, f"{stem}-events.csv", index=False)
        if ctx.triggered_id == ids.EXPORT_FIGURES:
            fig = timeseries_figure(result.series, oracles=oracle_assets(result))
            return {"content": figure_html(fig), "filename": f"{stem}-figures.html"}
        data = nx.node_link_data(result.network, edges="edges")
        return {"content": json.dumps(data, default=float), "filename": f"{stem}-network.json"}


def expand_label(node: str | None, expanded: list[str] | None) -> str:
    """The node panel's button for a cohort: draw its traders, or group them again."""
    venue = (node or "").removeprefix("cohort:")
    if node in (expanded or []):
        return f"Group {venue}'s traders again"
    return f"Draw {venue}'s traders one by one (largest first)"


def missing_run(store: RunStore, run_id: str | None) -> tuple[str, bool]:
    """What to say about a run the store cannot give back, and whether Re-run can bring it
    back (an expired run can: the store kept its recipe)."""
    if not run_id:
        return "Computing the chosen scenario… (the previous run is cleared)", False
    status = store.status(run_id)
    if status == "expired":
        return ("This run was cleared from the server's cache to make room for newer runs. "
                "Re-run it: the same scenario and seed give the same results.", True)
    if status == "running":
        return "This run is being computed…", False
    return ("This run is no longer on the server (it was restarted, or the run failed). "
            "Start it again from the form.", False)


def register_view_toggles(app: dash.Dash) -> None:
    """Browser-only controls: the parameters panel, presenter mode, fit/reset of the network
    view and closing the node panel (no server round trip)."""
    app.clientside_callback(
        """function(n) {
            const el = document.getElementById('params-panel');
            const shown = el && el.offsetParent !== null;
            return shown ? 'params panel closed' : 'params panel open';
        }""",
        Output(ids.PARAMS_PANEL, "className"),
        Input(ids.PARAMS_TOGGLE, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        """function(n) { return (n % 2) ? 'app presenter' : 'app'; }""",
        Output(ids.APP, "className"),
        Input(ids.PRESENTER, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        """function(fit, reset) {
            const cy = window.cy;
            if (!cy) { return window.dash_clientside.no_update; }
            const trig = dash_clientside.callback_context.triggered.map(t => t.prop_id);
            if (trig.some(p => p.startsWith('network-reset'))) {
                cy.elements().unselect();
                cy.zoom(1);
            }
            cy.fit(undefined, 30);
            return window.dash_clientside.no_update;
        }""",
        Output(ids.FIT, "title"),
        Input(ids.FIT, "n_clicks"),
        Input(ids.RESET_VIEW, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        """function(n) { return 'inspector panel'; }""",
        Output(ids.INSPECTOR, "className", allow_duplicate=True),
        Input(ids.INSPECTOR_CLOSE, "n_clicks"),
        prevent_initial_call=True,
    )


def _node_data(result: RunResult, node: str) -> dict[str, Any] | None:
    """A node's data as a tap on it would report them (a cohort: from the picture)."""
    if node in result.network:
        d = result.network.nodes[node]
        return {"id": node, "label": d.get("label", node), "kind": d.get("kind", ""),
                "state": d.get("state", "")}
    for e in network_elements(result.network, result.node_states, result.events, 0):
        if e["data"]["id"] == node:
            return dict(e["data"])
    return None


def counterparties(G: nx.MultiDiGraph, node: str, *, top: int = 50) -> pd.DataFrame:
    """The node's exposures from the graph: counterparty, link type, direction and USD."""
    if node not in G:
        return pd.DataFrame(columns=["counterparty", "type", "direction", "usd"])
    rows = [(d, data["type"], "out", data["weight"]) for _, d, data in G.out_edges(node, data=True)]
    rows += [(s, data["type"], "in", data["weight"]) for s, _, data in G.in_edges(node, data=True)]
    frame = pd.DataFrame(rows, columns=["counterparty", "type", "direction", "usd"])
    frame = frame[frame["type"] != "price_feed"]
    return frame.sort_values("usd", ascending=False).head(top).reset_index(drop=True)


def _parse(scenario: str, key: str, raw: Any) -> Any:
    """The comparison value typed into a text box, as the parameter's type."""
    from contagion.scenario import _coerce

    defaults = dict((f.key, d) for f, d in fields_for(scenario))
    if key not in defaults:
        raise ParameterError("compare parameter", key, "one of " + ", ".join(defaults))
    return _coerce(key, defaults[key], raw if raw is not None else "")


def _table(frame: pd.DataFrame) -> html.Table:
    head = html.Thead(html.Tr([html.Th(c) for c in frame.columns]))
    body = html.Tbody([html.Tr([html.Td(_cell(v)) for v in row])
                       for row in frame.itertuples(index=False)])
    return html.Table([head, body], style={"borderCollapse": "collapse", "width": "100%"})


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return str(v)
