"""The step player: it runs in the browser, so Pause takes effect at once and no step is
skipped.

The player owns the slider's value and writes it with ``dash_clientside.set_props``
(``contagionPlayer.go`` in ``assets/player.js``), not as a declared Output: it reacts to
``SHOWN_STEP``, which the server's ``show_step`` derives from the slider, and a declared
Output would close a callback cycle, which Dash refuses in debug mode and prunes at run time.
The user's drag of the slider is the only other writer. Two clientside callbacks:

- :data:`CONTROL_JS`: Play/Pause, first/back/forward/last (``assets/keyboard.js`` clicks the
  same buttons), the speed (the tick's period, 500 ms / speed), a new run (step 0, stopped)
  and the tour: a stage change stops the player, and :func:`tour_step` (on the server: the
  stage's step depends on the run) answers with ``TOUR_STEP``, to which the player moves.
  It reads nothing that a pending server callback writes, so Dash runs it at once, even
  while a step is being drawn (a callback reading ``SHOWN_STEP`` would wait for it).
- :data:`TICK_JS`: the tick of ``ids.TICK`` or a step drawn (``SHOWN_STEP``). While playing,
  the slider advances by exactly one step, only once the previous step has been drawn and
  0.8 tick periods have passed since the last advance. So every step is drawn and the
  player runs as fast as the page draws, up to the nominal speed; the achieved speed is
  shown (``ids.RATE``) when it falls below 90% of the nominal.

The "playing" flag lives on ``window.contagionPlayer`` and the click on Play/Pause flips it in
its own event-loop turn (``assets/player.js``): a tick that comes later does nothing. Pause
stays on the step on screen: the slider goes back to it, and the answer for the step that
was on its way is dropped when it arrives (Dash's ``request_post`` hook, see
``dashboard.app.RENDERER_HOOKS``), even if it had started to arrive.
"""

from __future__ import annotations

import json
from typing import Any

import dash
from dash import Input, Output, State, no_update

from dashboard import ids
from dashboard.layout import TICK_MS
from dashboard.store import RunStore
from dashboard.tour import resolve_step, tour_for

__all__ = ["CONTROL_JS", "TICK_JS", "register_player"]

#: What both callbacks share: the state on ``window``, the ids, and the advance by one step.
_COMMON = """
    const ID = __IDS__, TICK_MS = __TICK_MS__;
    const dc = window.dash_clientside, nu = dc.no_update;
    const P = window.contagionPlayer;  // assets/player.js
    const trig = new Set(dc.callback_context.triggered.map(t => t.prop_id.split('.')[0]));
    const period = TICK_MS / (speed || 1);
    const nominal = 1000 / period;
    value = Number(value || 0);
    max = Number(max || 0);
    if (P.shown === null) { P.shown = value; }  // the first view is drawn with the page
    const go = P.go;
    const PLAY = '\\u25b6 Play', PAUSE = '\\u275a\\u275a Pause';
    const stopped = [true, nu, PLAY, nu];
    const note = text => {
        if (text === P.note) { return nu; }
        P.note = text;
        return text;
    };
    const advance = () => {
        const now = performance.now();
        go(value + 1);
        P.last = now;
        P.times.push(now);
        if (P.times.length > 9) { P.times.shift(); }
        if (P.times.length < 5) { return nu; }
        const span = P.times[P.times.length - 1] - P.times[0];
        P.rate = 1000 * (P.times.length - 1) / span;
        return note(P.rate < 0.9 * nominal ?
            `drawing ${P.rate.toFixed(1)} of ${nominal} steps/s` : '');
    };
"""

#: The controls: buttons (and keys), speed, a new run, the tour. It reads nothing that a
#: pending server callback writes, so Dash runs it at once, even while a step is drawn.
#: Outputs: the tick's disabled flag and period, the Play button's text, the speed note.
CONTROL_JS = """
function(play, back, fwd, first, last, speed, runId, stage, tourStep, value, max) {
""" + _COMMON + """
    if (trig.has(ID.RUN_ID)) {
        P.playing = false;
        go(0);
        return [true, nu, PLAY, note('')];
    }
    if (trig.has(ID.TOUR_STEP) && tourStep) {
        P.playing = false;
        go(tourStep.step);
        return stopped;
    }
    if (trig.has(ID.TOUR_STAGE)) {
        P.playing = false;  // the server answers with the stage's step (TOUR_STEP)
        return stopped;
    }
    const moves = [[ID.FIRST, () => 0], [ID.LAST, () => max], [ID.BACK, b => b - 1],
                   [ID.FORWARD, b => b + 1]];
    for (const [id, to] of moves) {
        if (trig.has(id)) {
            // from the step on screen when playing, else from the slider (presses add up)
            const screen = P.onScreen();
            const base = P.playing && screen !== null ? screen : value;
            const step = Math.max(0, Math.min(max, to(base)));
            if (P.playing && step !== P.target) { P.cancel(screen); }  // not drawn
            P.playing = false;
            go(step);
            return stopped;
        }
    }
    if (trig.has(ID.PLAY)) {
        // the click itself flipped P.playing and, on Pause, went back to the step on screen
        if (!P.playing) { return stopped; }
        P.times = [];
        P.last = -Infinity;
        let out = note('');
        if (value >= max) {
            go(0);
        } else if (P.shown === value) {
            out = advance();
        }
        return [false, period, PAUSE, out];
    }
    if (trig.has(ID.SPEED)) {
        P.times = [];
        return [nu, period, nu, note('')];
    }
    return [nu, nu, nu, nu];
}
"""

#: The clock: a tick, or a step drawn (``SHOWN_STEP``). While playing, advance by one step
#: once the slider's step is drawn and 0.8 tick periods have passed since the last advance.
TICK_JS = """
function(tick, shown, speed, value, max) {
""" + _COMMON + """
    if (trig.has(ID.SHOWN_STEP)) { P.shown = Number(shown); }
    if (!P.playing || P.shown !== value) { return [nu, nu, nu, nu]; }
    if (value >= max) {
        P.playing = false;
        return stopped;
    }
    if (performance.now() - P.last < 0.8 * period) { return [nu, nu, nu, nu]; }
    return [nu, nu, nu, advance()];
}
"""
_IDS = {name: getattr(ids, name) for name in (
    "SLIDER", "RUN_ID", "TOUR_STEP", "TOUR_STAGE", "FIRST", "LAST", "BACK", "FORWARD", "PLAY",
    "SPEED", "SHOWN_STEP")}
CONTROL_JS, TICK_JS = (js.replace("__IDS__", json.dumps(_IDS)).replace("__TICK_MS__", str(TICK_MS))
                       for js in (CONTROL_JS, TICK_JS))


def register_player(app: dash.Dash, store: RunStore) -> None:
    """Attach the player's callbacks to ``app`` (the tour's steps are read from ``store``)."""
    outputs = [Output(ids.TICK, "disabled"), Output(ids.TICK, "interval"),
               Output(ids.PLAY, "children"), Output(ids.RATE, "children")]
    app.clientside_callback(
        CONTROL_JS,
        *outputs,
        Input(ids.PLAY, "n_clicks"),
        Input(ids.BACK, "n_clicks"),
        Input(ids.FORWARD, "n_clicks"),
        Input(ids.FIRST, "n_clicks"),
        Input(ids.LAST, "n_clicks"),
        Input(ids.SPEED, "value"),
        Input(ids.RUN_ID, "data"),
        Input(ids.TOUR_STAGE, "data"),
        Input(ids.TOUR_STEP, "data"),
        State(ids.SLIDER, "value"),
        State(ids.SLIDER, "max"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        TICK_JS,
        *[Output(o.component_id, o.component_property, allow_duplicate=True) for o in outputs],
        Input(ids.TICK, "n_intervals"),
        Input(ids.SHOWN_STEP, "data"),
        State(ids.SPEED, "value"),
        State(ids.SLIDER, "value"),
        State(ids.SLIDER, "max"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.TOUR_STEP, "data"),
        Input(ids.TOUR_STAGE, "data"),
        State(ids.RUN_ID, "data"),
        prevent_initial_call=True,
    )
    def tour_step(stage: int | None, run_id: str) -> Any:
        """The step of the tour's stage in the shown run (the player moves there)."""
        result = store.get(run_id)
        if result is None:
            return no_update
        stages = tour_for(result.scenario.name, result)
        stage = max(0, min(int(stage or 0), len(stages) - 1))
        step = resolve_step(stages[stage].step, result.events, result.series)
        return {"run": run_id, "stage": stage, "step": step}
