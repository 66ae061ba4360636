"""Benchmark: the dashboard's server-side re-render per slider move and its first paint.

Run: ``.venv/bin/python experiments/bench/bench_dashboard.py [--traders 2000] [--no-browser]``.

1. Slider re-render, server side: for a run of ``--traders`` traders (the default 2,000 gives a
   view of about 2,000 nodes), time what the slider callback does for every step (network
   elements with positions, the narrative, the cursor patch) and print the median, 95th
   percentile and worst, against the 150 ms target.
2. First paint: build the app (which computes the default scenario), serve it, load it in
   Debian's headless Chromium and time until the network and the narrative are drawn,
   against the 3 s target. Needs /usr/bin/chromium (``scripts/test.sh`` installs it).

Figures are printed, never asserted: machines are noisy.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import threading
import time

from contagion.runner import simulate
from dashboard.figures import cursor_shape
from dashboard.narrative import step_narrative
from dashboard.network_view import network_elements, node_positions
from models import get_scenario

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , "
         "EXCLUDE 127.0.0.1"]


def slider_times(traders: int) -> tuple[int, list[float]]:
    """Seconds per slider move, one per step, and the number of nodes drawn."""
    r = simulate(get_scenario("default", n_traders=traders), seed=0)
    oracles = {o.name: o.asset for o in r.scenario.oracles}
    first = network_elements(r.network, r.node_states, r.events, 0)
    positions = node_positions(first)
    nodes = sum("source" not in e["data"] for e in first)
    times = []
    for step in range(int(r.series.index.max()) + 1):
        t = time.perf_counter()
        els = network_elements(r.network, r.node_states, r.events, step)
        for e in els:
            if e["data"]["id"] in positions:
                e["position"] = positions[e["data"]["id"]]
        step_narrative(r.events, r.series, step, oracles=oracles)
        cursor_shape(step)
        times.append(time.perf_counter() - t)
    return nodes, times


def first_paint() -> tuple[float, float]:
    """(seconds to build the app, seconds from navigation to network and story drawn)."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    t = time.perf_counter()
    app = create_app("default")
    build = time.perf_counter() - t
    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_port}/"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)  # warm: browser caches, lazy imports
        page.wait_for_function("() => window.cy && window.cy.nodes().length > 10", timeout=60000)
        page2 = browser.new_page(viewport={"width": 1400, "height": 1000})
        t = time.perf_counter()
        page2.goto(url)
        page2.wait_for_function("() => window.cy && window.cy.nodes().length > 10 && "
                                "document.querySelectorAll('#narrative li').length > 0",
                                timeout=60000)
        paint = time.perf_counter() - t
        browser.close()
    srv.shutdown()
    return build, paint


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traders", type=int, default=2000)
    ap.add_argument("--no-browser", action="store_true", help="skip the first-paint measurement")
    args = ap.parse_args()
    nodes, times = slider_times(args.traders)
    ms = sorted(x * 1000 for x in times)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    print(f"slider re-render, server side, {nodes:,} nodes drawn ({args.traders:,} traders), "
          f"{len(ms)} steps: median {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, "
          f"worst {ms[-1]:.0f} ms  (target < 150 ms: {'PASS' if p95 < 150 else 'FAIL'} at p95)")
    if not args.no_browser:
        build, paint = first_paint()
        print(f"first paint of the default scenario: {paint:.2f} s from navigation to network and "
              f"story drawn (target < 3 s: {'PASS' if paint < 3 else 'FAIL'}); the app's start-up "
              f"(computing the default run) took {build:.2f} s before that")


if __name__ == "__main__":
    main()
