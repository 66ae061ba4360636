"""The Dash app factory and the ``contagion dashboard`` entry point.

``create_app()`` builds a self-contained app: its own run store, the default scenario
pre-computed (so the first paint is immediate), all assets served from the app itself (no
CDN: it works offline). The server binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import dash

from contagion.runner import simulate
from dashboard.callbacks import register_callbacks, run_view, step_view
from dashboard.layout import FirstView, make_layout
from dashboard.store import RunStore
from dashboard.tour import tour_for
from dashboard.uploads import UploadDir
from models import get_scenario

__all__ = ["create_app", "serve"]

log = logging.getLogger(__name__)

#: Dash's page with the document's language set (screen readers pick their voice from it).
INDEX = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


class _DashApp(dash.Dash):
    """Dash, with plotly.js from ``assets/plotly-cartesian.min.js`` (the official cartesian
    partial bundle, see ``dashboard/vendor/README.md``) instead of the full bundle Dash adds
    for ``dcc.Graph``: ``dcc.Graph`` uses ``window.Plotly`` when the page has it."""

    def _setup_plotlyjs(self) -> None:
        self._plotlyjs_url = ""


#: Dash's renderer hooks: the player drops the answer for a step that Pause cancelled
#: (``dashboard/assets/player.js``, ``contagionPlayer.answered``).
RENDERER_HOOKS: Any = {"request_post": "function (payload, response) { "
                       "if (window.contagionPlayer) { "
                       "window.contagionPlayer.answered(payload, response); } }"}


def create_app(scenario: str = "default", *, seed: int = 0, max_runs: int = 8,
               workers: int = 2, cache_dir: str | os.PathLike[str] | None = None,
               max_disk_bytes: int = 2 * 1024**3) -> dash.Dash:
    """A new dashboard app showing ``scenario`` (seed ``seed``) on first load.

    Each app owns a :class:`~dashboard.store.RunStore` keeping at most ``max_runs`` finished
    runs in memory and the rest in ``cache_dir`` (default: a temporary directory of its own)
    up to ``max_disk_bytes``; it computes at most ``workers`` runs at once; sessions only
    hold run ids.
    """
    store = RunStore(max_runs=max_runs, workers=workers, cache_dir=cache_dir,
                     max_disk_bytes=max_disk_bytes)
    first = simulate(get_scenario(scenario), seed=seed)
    first_id = store.put(first, run_id=f"preset-{scenario}-{seed}", pinned=True)
    app = _DashApp(__name__, title="contagion", serve_locally=True,
                    suppress_callback_exceptions=True, update_title="", compress=True,
                    hooks=RENDERER_HOOKS)
    app.index_string = INDEX
    elements, story, label = step_view(store, first_id, first, 0)
    run = run_view(first)
    stages = tour_for(scenario, first)
    stage = stages[0]
    view = FirstView(elements=elements, story=story, label=label, last_step=run.last,
                     marks=run.marks, summary=run.summary, figure=run.figure,
                     tour_title=f"Guided tour — {stage.title}", tour_text=stage.body,
                     tour_stages=len(stages), cards=run.cards, venue_rows=run.venue_rows,
                     compact=run.compact, nodes=run.nodes,
                     legend=run.legend)
    # Built once: every session starts on the same pinned run; what a session does later
    # lives in its own browser's stores (run ids) and in the store's per-run cache.
    app.layout = make_layout(scenario, first_id, view)
    uploads = UploadDir()
    register_callbacks(app, store, uploads, start_scenario=scenario)
    app.server.config["CONTAGION_UPLOADS"] = uploads  # keeps the directory alive with the app
    app.server.config["CONTAGION_STORE"] = store  # for tests and operators, not for callbacks
    return app


def serve(*, host: str = "127.0.0.1", port: int = 8050, scenario: str = "default",
          debug: bool = False, cache_dir: str | os.PathLike[str] | None = None) -> None:
    """Run the dashboard with Dash's server until interrupted; finished runs that leave
    memory go to ``cache_dir`` (default: a temporary directory, removed on exit)."""
    app = create_app(scenario, cache_dir=cache_dir)
    log.info("contagion dashboard on http://%s:%d/", host, port)
    print(f"contagion dashboard: http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    app.run(host=host, port=port, debug=debug, dev_tools_disable_version_check=True)
