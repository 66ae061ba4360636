"""Screenshots of the network picture (elements + stylesheet + legend) for a few presets.

Serves a minimal Dash page per preset (a cytoscape canvas of 800 x 560 px with the preset
layout fitted, the legend under it), opens it in Debian's headless Chromium with
Playwright, reads cytoscape's fit zoom (and so the on-screen font size of the labels),
and writes ``test-artifacts/network-<preset>[-<step>][-grey].png`` (the greyscale twin
with CSS ``filter: grayscale(1)`` on the page).

    .venv/bin/python -m experiments.network_picture [--traders 1000] [default terra ...]

Never downloads a browser: it needs ``/usr/bin/chromium`` (scripts/test.sh installs it).
"""

from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--disable-default-apps", "--disable-extensions",
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1"]
PRESETS = ("default", "classic_gai_kapadia", "terra", "ftx")


def page_app(elements: list[dict[str, Any]], title: str) -> Any:
    """A Dash app showing ``elements`` the way the dashboard will (preset layout, fit)."""
    import dash
    import dash_cytoscape as cyto
    from dash import html

    from dashboard.legend import legend
    from dashboard.network_view import CANVAS, network_stylesheet

    app = dash.Dash(__name__)
    app.layout = html.Div([
        html.Div(title, style={"fontWeight": "bold", "fontSize": "14px", "margin": "2px 0"}),
        cyto.Cytoscape(id="net", elements=elements, stylesheet=network_stylesheet(),
                       layout={"name": "preset", "fit": True, "padding": 30},
                       style={"width": f"{CANVAS[0]:.0f}px", "height": f"{CANVAS[1]:.0f}px",
                              "border": "1px solid #ccc"}, minZoom=0.2, maxZoom=4),
        legend(elements),
    ], id="page", style={"fontFamily": "sans-serif", "margin": "4px", "width": "880px"})
    return app


def shoot(preset: str, traders: int, step: int | None, expand: frozenset[str],
          browser: Any) -> dict[str, float]:
    """Screenshot one preset at ``step`` (default: its last); returns zoom and font px."""
    from werkzeug.serving import make_server

    from contagion.runner import simulate
    from dashboard.network_view import LABEL_FONT_PX, network_elements, node_positions
    from dashboard.network_view import screen_font_px as predicted
    from models import get_scenario

    r = simulate(get_scenario(preset, n_traders=traders), seed=0)
    last = int(r.series.index.max())
    at = last if step is None else min(step, last)
    els = network_elements(r.network, r.node_states, r.events, at, expand=expand)
    pos = node_positions(els)
    for e in els:
        if e["data"]["id"] in pos:
            e["position"] = pos[e["data"]["id"]]
    app = page_app(els, f"{preset}, {traders:,} traders, seed 0, step {at} of {last}")
    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_port}/"
    out: dict[str, float] = {}
    try:
        for grey in (False, True):
            page = browser.new_page(viewport={"width": 900, "height": 620 + 220})
            page.goto(url)
            page.wait_for_function("() => window.cy && window.cy.nodes().length > 0",
                                   timeout=30_000)
            page.wait_for_timeout(800)  # let the background images (patterns) load and paint
            if grey:
                page.add_style_tag(content="#page { filter: grayscale(1); }")
                page.wait_for_timeout(200)
            zoom = float(page.evaluate("() => window.cy.zoom()"))
            suffix = ("" if step is None else f"-{at}") + ("-expanded" if expand else "") \
                + ("-grey" if grey else "")
            path = ARTIFACTS / f"network-{preset}{suffix}.png"
            page.screenshot(path=str(path), full_page=True)
            page.close()
            out = {"zoom": zoom, "font_px": zoom * LABEL_FONT_PX,
                   "predicted_px": predicted(pos, LABEL_FONT_PX, elements=els)}
    finally:
        srv.shutdown()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("presets", nargs="*", default=list(PRESETS))
    ap.add_argument("--traders", type=int, default=1000)
    ap.add_argument("--step", type=int, default=None, help="the step to show (default: last)")
    ap.add_argument("--expand", action="append", default=[], help="a cohort id to expand")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=FLAGS)
        for preset in args.presets:
            m = shoot(preset, args.traders, args.step, frozenset(args.expand), browser)
            print(f"{preset:22s} fit zoom {m['zoom']:.3f}: labels {m['font_px']:.1f} px on screen "
                  f"(predicted {m['predicted_px']:.1f} px)")
        browser.close()


if __name__ == "__main__":
    main()
