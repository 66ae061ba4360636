"""Benchmark: the dashboard's speed measured in Chromium, from input to pixels.

Run: ``.venv/bin/python experiments/bench/bench_dashboard_browser.py [--traders 2000]
[--repeats N] [--quick] [--no-compress]``. Needs Debian's ``/usr/bin/chromium``
(``scripts/test.sh`` installs it); never a downloaded browser.

``bench_dashboard.py`` times the server's part of a slider move; this one times what a user
sees, in a real headless Chromium driven by Playwright, with the app served from a thread on
127.0.0.1 (as in the browser tests):

1. **Slider, input to pixels** (the ``--traders`` app, 2,000 traders by default). The step
   slider's thumb (``#step-slider [role=slider]``) has the keyboard focus and gets a real
   ArrowRight (then ArrowLeft) key press, for every step of the run, forward then back.
   ``t0`` = the keydown's ``event.timeStamp`` (a capture-phase listener on ``document``);
   ``t1`` = the start of the first animation frame after cytoscape drew the new step: a
   MutationObserver sees ``#step-label`` take the new step's text (Dash commits all outputs
   of a callback in one React commit, so the network's elements were patched in that same
   commit), the next cytoscape ``render`` event marks the canvas drawn, and a
   ``requestAnimationFrame`` scheduled from that event marks the frame presented. When the
   move changed no element of the network, ``t1`` is the second animation frame after the
   label changed. Median, p90 and worst against the 150 / 250 ms targets.
   The same moves are split into phases (see ``PHASES``) from in-page marks, Resource Timing
   of the ``_dash-update-component`` request and a ``Server-Timing`` header this bench adds
   to the app's responses; a second pass samples the page's main thread with the V8 CPU
   profiler and attributes its time to each script bundle.
2. **First load** (the default scenario's app, and the ``--traders`` app): a fresh browser
   context (empty cache); navigation start -> the player is usable (play button enabled,
   the slider's thumb present, the network has its nodes, the tour text is rendered), then
   the first moment after that when the main thread stays free of long tasks for 500 ms.
   Bytes transferred (``transferSize`` of the navigation and every resource) and decoded,
   the five largest resources. With the app's HTTP compression and without it, side by side.
3. **Play** (the default scenario): speed 4x (``#speed``; nominal 8 steps/s), ``#play-button``,
   every step label shown recorded with its time until the last step; steps/s achieved,
   the steps never shown; then play again, press pause, and record the label changes in
   the next 3 s.

Progress goes to stderr and the report (Markdown) to stdout. Figures are printed, never
asserted: the machine is shared and noisy, so every section prints the load average.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from typing import Any
from unittest import mock

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
FLAGS = [  # as tests/conftest.py: no request leaves 127.0.0.1
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-default-apps", "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    "--window-size=1400,1000",
]
VIEWPORT = {"width": 1400, "height": 1000}
# component ids (dashboard/ids.py); the bench relies on these and on nothing else of the layout
SLIDER, STEP_LABEL, NETWORK, PLAY, SPEED, TOUR_TEXT = (
    "step-slider", "step-label", "network", "play-button", "speed", "tour-text")
THUMB = f"#{SLIDER} [role=slider]"
SLIDER_MEDIAN_MS, SLIDER_P90_MS = 150.0, 250.0
LOAD_S, LOAD_MB = 2.5, 2.0
PLAY_RATE = 8.0
PAUSE_WATCH_MS = 3000

#: Installed in every page before its own scripts: marks what the page does, on the page's
#: own clock (``performance.now()``, whose origin is the navigation start).
PROBE_JS = r"""
(() => {
  const B = window.__bench = {keys: [], clicks: [], labels: [], fetches: [], longtasks: [],
                              win: {cyN: 0, cyFirst: null, cyLast: null}, pending: null};
  performance.setResourceTimingBufferSize(100000);
  document.addEventListener('keydown', e => B.keys.push({t: e.timeStamp, key: e.key}), true);
  document.addEventListener('click', e => B.clicks.push({t: e.timeStamp,
      id: (e.target.closest('[id]') || {}).id || ''}), true);
  const origFetch = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : (input && input.url) || '';
    if (!url.includes('_dash-update-component')) { return origFetch.apply(this, arguments); }
    const rec = {t: performance.now(), output: '', bytesUp: 0};
    try { rec.bytesUp = init.body.length; rec.output = JSON.parse(init.body).output; } catch (e) {}
    B.fetches.push(rec);
    return origFetch.apply(this, arguments).then(res => {
      rec.headers = performance.now(); res.__bench = rec; return res; });
  };
  const origJson = Response.prototype.json;
  Response.prototype.json = function () {
    const rec = this.__bench;
    const p = origJson.call(this);
    if (!rec) { return p; }
    rec.jsonStart = performance.now();
    return p.then(v => { rec.jsonEnd = performance.now(); return v; });
  };
  try {
    new PerformanceObserver(list => { for (const e of list.getEntries()) {
      B.longtasks.push({start: e.startTime, dur: e.duration}); } })
      .observe({type: 'longtask', buffered: true});
  } catch (e) {}
  B.hook = () => {
    const label = document.getElementById('STEP_LABEL');
    const cy = window.cy;
    if (!label || !cy) { return false; }
    if (B.hookedLabel === label && B.hookedCy === cy) { return true; }
    B.hookedLabel = label; B.hookedCy = cy;
    new MutationObserver(() => {
      const rec = {t: performance.now(), text: label.textContent, cyN: B.win.cyN,
                   cyFirst: B.win.cyFirst, cyLast: B.win.cyLast};
      B.win = {cyN: 0, cyFirst: null, cyLast: null};
      B.labels.push(rec);
      B.pending = rec;
      requestAnimationFrame(() => { rec.raf1 = performance.now();
        requestAnimationFrame(() => { rec.raf2 = performance.now(); }); });
    }).observe(label, {childList: true, characterData: true, subtree: true});
    cy.on('render', () => {
      const rec = B.pending;
      if (rec && rec.render === undefined) {
        rec.render = performance.now();
        requestAnimationFrame(() => { rec.renderPaint = performance.now(); });
      }
    });
    cy.on('add remove data position', () => {
      const t = performance.now();
      B.win.cyN += 1; if (B.win.cyFirst === null) { B.win.cyFirst = t; } B.win.cyLast = t;
    });
    return true;
  };
})();
""".replace("STEP_LABEL", STEP_LABEL)

#: The player is usable: play enabled, slider thumb there, network drawn, tour text rendered.
USABLE_JS = f"""() => {{
  const play = document.getElementById('{PLAY}');
  const tour = document.getElementById('{TOUR_TEXT}');
  const ok = !!(play && !play.disabled && document.querySelector('{THUMB}') && window.cy
                && window.cy.nodes().length > 0 && tour && tour.innerText.trim().length > 0);
  if (ok && window.__usableAt === undefined) {{ window.__usableAt = performance.now(); }}
  return ok;
}}"""

#: (name, start mark, end mark) of the slider phases: consecutive, so they add up to the total;
#: (name, None, key) is a part of the phase above it
PHASES = [
    ("input -> request sent (Dash renderer: slider event, store, callback dispatch)", "t0", "req"),
    ("request -> first byte (server + loopback)", "req", "ttfb"),
    ("  of which the server (Flask request, callback, JSON; Server-Timing)", None, "server"),
    ("  of which compression (flask-compress; Server-Timing)", None, "compression"),
    ("response download (first byte -> last byte)", "ttfb", "resp_end"),
    ("JSON.parse of the response (last byte -> parsed)", "resp_end", "json"),
    ("Dash renderer + React commit, incl. cytoscape's element diff (parsed -> label in DOM)",
     "json", "label"),
    ("  of which cytoscape patching elements (first -> last element event)", None, "cytoscape"),
    ("wait for the frame + cytoscape draws (label in DOM -> cy 'render')", "label", "render"),
    ("to the next frame (cy 'render' -> rAF)", "render", "t1"),
]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min, {os.cpu_count()} CPUs)"


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def fmt_bytes(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.2f} MB"
    if n >= 1e3:
        return f"{n / 1e3:.0f} KB"
    return f"{n:.0f} B"


# ------------------------------------------------------------------------------- serving
def build_app(traders: int | None) -> Any:
    """The dashboard as ``contagion dashboard`` builds it, on the default scenario, with
    ``traders`` traders (None: the scenario's own number)."""
    import dashboard.app as dapp
    from models import get_scenario

    if traders is None:
        return dapp.create_app("default")
    with mock.patch.object(dapp, "get_scenario",
                           lambda name, **kw: get_scenario(name, n_traders=traders, **kw)):
        return dapp.create_app("default")


def add_server_timing(app: Any) -> None:
    """Add ``Server-Timing: app;dur=..., total;dur=...`` to callback responses: ``app`` is
    Flask's handling of the request (the callback and its JSON), ``total`` also counts the
    after-request hooks that run later (flask-compress's compression)."""
    from flask import g, request

    server = app.server

    @server.before_request
    def _start() -> None:
        g.bench_t0 = time.perf_counter()

    def _app_done(resp: Any) -> Any:
        g.bench_app = time.perf_counter()
        return resp

    def _all_done(resp: Any) -> Any:
        t0 = getattr(g, "bench_t0", None)
        if t0 is not None and request.path.endswith("_dash-update-component"):
            now = time.perf_counter()
            resp.headers["Server-Timing"] = (f"app;dur={(g.bench_app - t0) * 1e3:.2f}, "
                                             f"total;dur={(now - t0) * 1e3:.2f}")
        return resp

    funcs = server.after_request_funcs.setdefault(None, [])
    funcs.append(_app_done)  # after-request hooks run last-registered first
    funcs.insert(0, _all_done)


def compression_on(app: Any) -> bool:
    return any(type(getattr(f, "__self__", None)).__name__ == "Compress"
               for f in app.server.after_request_funcs.get(None, []))


@contextmanager
def without_compression(app: Any) -> Iterator[None]:
    """The app without flask-compress's after-request hook (as served with compression off)."""
    funcs = app.server.after_request_funcs.get(None, [])
    saved = list(funcs)
    funcs[:] = [f for f in funcs if type(getattr(f, "__self__", None)).__name__ != "Compress"]
    try:
        yield
    finally:
        funcs[:] = saved


@contextmanager
def serving(app: Any) -> Iterator[str]:
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}/"
    finally:
        srv.shutdown()
        srv.server_close()


def new_page(browser: Any) -> Any:
    """A page in a fresh context (empty cache) with the probe installed; requests leaving
    127.0.0.1 are aborted."""
    ctx = browser.new_context(viewport=VIEWPORT)

    def guard(route: Any) -> None:
        if route.request.url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            route.abort()

    ctx.route("**/*", guard)
    ctx.add_init_script(PROBE_JS)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    return page


def open_app(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function(USABLE_JS, polling="raf")
    page.wait_for_function("() => window.__bench.hook()")


# ------------------------------------------------------------------------------- 1. slider
def slider_moves(page: Any, steps: int | None,
                 before: Callable[[int], str] | None = None) -> list[dict[str, Any]]:
    """Press ArrowRight from the current step to the last step (or ``steps`` times), then
    ArrowLeft back; one record of marks per move. ``before(i)`` runs before move ``i`` and
    its answer is kept as the record's ``tag``."""
    page.focus(THUMB)
    last = int(page.get_attribute(THUMB, "aria-valuemax") or 0)
    now = int(page.get_attribute(THUMB, "aria-valuenow") or 0)
    n = last - now if steps is None else min(steps, last - now)
    plan = [("ArrowRight", now + i + 1) for i in range(n)]
    plan += [("ArrowLeft", now + n - i - 1) for i in range(n)]
    out = []
    for i, (key, want) in enumerate(plan):
        tag = before(i) if before is not None else ""
        rec = one_move(page, key, want)
        rec["tag"] = tag
        out.append(rec)
    return out


def one_move(page: Any, key: str, want: int) -> dict[str, Any]:
    page.evaluate("() => { const B = window.__bench; B.hook(); B.pending = null;"
                  " B.mark = {labels: B.labels.length, fetches: B.fetches.length,"
                  " keys: B.keys.length}; B.win = {cyN: 0, cyFirst: null, cyLast: null};"
                  " performance.clearResourceTimings(); }")
    if page.evaluate(f"() => !document.activeElement.matches('{THUMB}')"):
        page.focus(THUMB)
    page.keyboard.press(key)
    page.wait_for_function(
        """(want) => { const B = window.__bench;
            const r = B.labels.slice(B.mark.labels).find(
                r => parseInt((r.text.match(/\\d+/) || ['-1'])[0]) === want);
            return !!(r && r.raf2 !== undefined && (r.cyN === 0 || r.renderPaint !== undefined));
        }""", arg=want, polling=20, timeout=30_000)
    return page.evaluate(
        """(want) => { const B = window.__bench;
          const label = B.labels.slice(B.mark.labels).find(
                r => parseInt((r.text.match(/\\d+/) || ['-1'])[0]) === want);
          const key = B.keys[B.mark.keys];
          const f = B.fetches.slice(B.mark.fetches).find(f => f.output.includes('STEP_LABEL'));
          const rt = performance.getEntriesByType('resource').filter(
                e => e.name.includes('_dash-update-component'))
              .sort((a, b) => Math.abs(a.startTime - f.t) - Math.abs(b.startTime - f.t))[0];
          const st = {};
          for (const s of (rt ? rt.serverTiming : [])) { st[s.name] = s.duration; }
          const changed = label.cyN > 0;
          return {step: want, t0: key.t, req: f.t, ttfb: rt.responseStart, resp_end: rt.responseEnd,
                  json: f.jsonEnd, label: label.t,
                  render: changed ? label.render : label.raf1,
                  t1: changed ? label.renderPaint : label.raf2,
                  server: st.app, total_server: st.total, cy_changes: label.cyN,
                  cy_patch: changed ? label.cyLast - label.cyFirst : 0,
                  bytes: rt.transferSize, encoded: rt.encodedBodySize,
                  decoded: rt.decodedBodySize, requests: B.fetches.length - B.mark.fetches};
        }""".replace("STEP_LABEL", STEP_LABEL), want)


def slider_report(moves: list[dict[str, Any]], nodes: int, edges: int, traders: int,
                  compressed: bool) -> None:
    total = [m["t1"] - m["t0"] for m in moves]
    med, p90, worst = statistics.median(total), pct(total, 0.9), max(total)
    print(f"\n## 1. Slider move, input to pixels ({traders:,} traders: {nodes:,} nodes, "
          f"{edges:,} edges drawn; compression {'on' if compressed else 'off'})\n")
    print(f"{len(moves)} moves (every step forward, then back); {load()}\n")
    print("| statistic | measured ms | target ms | ratio measured/target |")
    print("|---|---:|---:|---:|")
    print(f"| median | {med:.0f} | {SLIDER_MEDIAN_MS:.0f} | {med / SLIDER_MEDIAN_MS:.2f} |")
    print(f"| p90 | {p90:.0f} | {SLIDER_P90_MS:.0f} | {p90 / SLIDER_P90_MS:.2f} |")
    print(f"| worst | {worst:.0f} | - | - |")
    print(f"| fastest | {min(total):.0f} | - | - |")
    print("\n### Where a move's time goes (consecutive phases; they add up to the total)\n")
    print("| phase | median ms | p90 ms | share of the median total |")
    print("|---|---:|---:|---:|")
    sub: dict[str, list[float]] = {
        "server": [m["server"] for m in moves if m.get("server") is not None],
        "compression": [m["total_server"] - m["server"] for m in moves
                        if m.get("server") is not None and m.get("total_server") is not None],
        "cytoscape": [m["cy_patch"] for m in moves],
    }
    med_sum = 0.0
    for name, a, b in PHASES:
        if a is None:
            vals = sub[b]
        else:
            vals = [m[b] - m[a] for m in moves if m.get(a) is not None and m.get(b) is not None]
            med_sum += statistics.median(vals) if vals else 0.0
        if not vals:
            print(f"| {name} | - | - | - |")
            continue
        m_ = statistics.median(vals)
        print(f"| {name} | {m_:.1f} | {pct(vals, 0.9):.1f} | {100 * m_ / med:.0f}% |")
    print(f"| **total (t0 -> t1)** | **{med:.1f}** | **{p90:.1f}** | 100% "
          f"(sum of phase medians {med_sum:.0f}) |")
    dec = [m["decoded"] for m in moves]
    enc = [m["encoded"] for m in moves]
    changed = sum(1 for m in moves if m["cy_changes"] > 0)
    print(f"\nCallback response per move: median {fmt_bytes(statistics.median(dec))} of JSON "
          f"({fmt_bytes(statistics.median(enc))} on the wire); {changed} of {len(moves)} moves "
          f"changed network elements (median {statistics.median(m['cy_changes'] for m in moves):.0f}"
          f" element events); requests per move: "
          f"{statistics.median(m['requests'] for m in moves):.0f}.")


def cpu_profile(page: Any, moves: int) -> list[tuple[str, float]]:
    """Main-thread time by script bundle over ``moves`` slider moves (forward then back),
    from the V8 sampling profiler. Native code is counted to its caller's bundle."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 250})
    cdp.send("Profiler.start")
    t = time.perf_counter()
    slider_moves(page, moves)
    wall = time.perf_counter() - t
    prof = cdp.send("Profiler.stop")["profile"]
    cdp.detach()
    nodes = {n["id"]: n for n in prof["nodes"]}
    parent: dict[int, int] = {}
    for n in prof["nodes"]:
        for c in n.get("children", []):
            parent[c] = n["id"]

    def bucket(nid: int) -> str:
        n = nodes[nid]
        name = n["callFrame"]["functionName"]
        if name in ("(idle)", "(program)", "(garbage collector)", "(root)"):
            return {"(idle)": "idle (waiting: server, network, frames)",
                    "(program)": "browser engine outside JS (style, layout, paint, parsing)",
                    "(garbage collector)": "garbage collector",
                    "(root)": "other"}[name]
        cur: int | None = nid
        while cur is not None:
            url = nodes[cur]["callFrame"]["url"]
            if url:
                return bundle_name(url)
            cur = parent.get(cur)
        return "other (native code without a script caller)"

    times: dict[str, float] = {}
    for nid, dt in zip(prof["samples"], prof["timeDeltas"], strict=True):
        b = bucket(nid)
        times[b] = times.get(b, 0.0) + dt / 1000.0
    total = sum(times.values())
    rows = sorted(times.items(), key=lambda kv: -kv[1])
    log(f"profile: {moves} moves forward and back in {wall:.1f} s, {total / 1e3:.1f} s sampled")
    return [(k, v / (2 * moves)) for k, v in rows] + [("__total__", total / (2 * moves))]


def bundle_name(url: str) -> str:
    path = url.split("?")[0].rsplit("/", 1)[-1]
    for key, name in (("dash_renderer", "Dash renderer (dash_renderer.js)"),
                      ("react-dom", "React DOM"),
                      ("dash_cytoscape", "dash-cytoscape + cytoscape.js"),
                      ("plotly", "plotly.js (the time-series figure's cursor)"),
                      ("async-graph", "dcc Graph (async-graph.js)"),
                      ("async-slider", "dcc Slider (async-slider.js)"),
                      ("dash_core_components", "dcc (other)"),
                      ("async-", "dcc (other)"),
                      ("dash_html_components", "dash html components"),
                      ("polyfill", "polyfills")):
        if key in path:
            return name
    if path in ("", "pptr:evaluate"):
        return "this bench's probes"
    return "other: " + path


def profile_report(rows: list[tuple[str, float]], moves: int) -> None:
    total = dict(rows).pop("__total__")
    print(f"\n### Main thread by script bundle (V8 sampling profiler, {2 * moves} moves; "
          f"{load()})\n")
    print("| where | ms per move | share |")
    print("|---|---:|---:|")
    for name, ms in rows:
        if name != "__total__":
            print(f"| {name} | {ms:.1f} | {100 * ms / total:.0f}% |")
    print(f"| **sampled wall time per move** | **{total:.1f}** | 100% |")
    print("\n(The profiler adds overhead, so these moves are slower than in the table above; "
          "read the shares. 'idle' is the main thread waiting: for the server's answer and "
          "for animation frames.)")


TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "toplevel",
                    "v8.execute", "v8"]
#: Chromium trace event names -> what they are (self time on the page's main thread)
TRACE_KINDS = {
    "JavaScript": ("FunctionCall", "EvaluateScript", "v8.callFunction", "V8.Execute",
                   "RunMicrotasks", "TimerFire", "FireAnimationFrame", "EventDispatch",
                   "v8.compile", "v8.compileModule", "v8.run", "V8.ScriptCompiler",
                   "FireIdleCallback", "XHRReadyStateChange", "v8.produceCache"),
    "style recalculation": ("UpdateLayoutTree", "RecalculateStyles", "ParseAuthorStyleSheet"),
    "layout": ("Layout", "UpdateLayout", "IntersectionObserverController::computeIntersections"),
    "paint, layers, commit to the compositor": (
        "Paint", "PrePaint", "PaintImage", "Layerize", "UpdateLayer", "UpdateLayerTree",
        "CompositeLayers", "Commit", "PaintSetup", "Decode Image", "Draw LazyPixelRef",
        "ProxyMain::BeginMainFrame::commit", "BeginMainThreadFrame", "ScrollLayer"),
    "garbage collection": ("MinorGC", "MajorGC", "V8.GCScavenger", "V8.GCFinalizeMC",
                           "V8.GC_MC_BACKGROUND_EVACUATE_COPY", "BlinkGC.AtomicPhase",
                           "ThreadState::performIdleLazySweep", "CppGC.AtomicPhase"),
    "HTML parsing": ("ParseHTML",),
}


def trace_breakdown(browser: Any, page: Any, moves: int) -> dict[str, float]:
    """Milliseconds per move of the page's main thread by kind of work, from a Chromium
    performance trace (the DevTools timeline) over ``moves`` moves each way."""
    import json

    browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
    t = time.perf_counter()
    slider_moves(page, moves)
    wall_ms = (time.perf_counter() - t) * 1e3
    events = json.loads(browser.stop_tracing())
    events = events.get("traceEvents", events) if isinstance(events, dict) else events
    mains = {(e["pid"], e["tid"]) for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"
             and e.get("args", {}).get("name") == "CrRendererMain"}
    per_thread: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for e in events:
        if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) in mains and "dur" in e:
            per_thread.setdefault((e["pid"], e["tid"]), []).append(e)
    if not per_thread:
        return {}
    main = max(per_thread.values(), key=lambda evs: sum(x["dur"] for x in evs))
    kind_of = {name: kind for kind, names in TRACE_KINDS.items() for name in names}
    self_ms: dict[str, float] = {}
    busy = 0.0
    stack: list[list[Any]] = []  # [end_ts, kind, child_us]

    def close(item: list[Any]) -> None:
        end, kind, start, child = item
        self_ms[kind] = self_ms.get(kind, 0.0) + max(0.0, (end - start) - child) / 1e3

    for e in sorted(main, key=lambda x: (x["ts"], -x["dur"])):
        while stack and stack[-1][0] <= e["ts"]:
            close(stack.pop())
        name = e["name"]
        parent_kind = stack[-1][1] if stack else None
        kind = kind_of.get(name) or (parent_kind if parent_kind else "other browser work")
        if stack:
            stack[-1][3] += e["dur"]
        else:
            busy += e["dur"] / 1e3
        stack.append([e["ts"] + e["dur"], kind, e["ts"], 0.0])
    while stack:
        close(stack.pop())
    n = 2 * moves
    out = {k: v / n for k, v in self_ms.items()}
    out["idle (waiting for the server and for frames)"] = max(0.0, wall_ms - busy) / n
    out["__wall__"] = wall_ms / n
    return out


def trace_report(rows: dict[str, float], moves: int) -> None:
    if not rows:
        print("\n(No main-thread events in the trace.)")
        return
    wall = rows.pop("__wall__")
    print(f"\n### Main thread by kind of work (Chromium performance trace, {2 * moves} moves; "
          f"{load()})\n")
    print("| kind of work | ms per move | share of the wall time |")
    print("|---|---:|---:|")
    for name, ms in sorted(rows.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {ms:.1f} | {100 * ms / wall:.0f}% |")
    print(f"| **wall time per move (includes the bench's waits)** | **{wall:.1f}** | 100% |")


#: What-if variants: the callback's response with some outputs taken out in the browser
#: (by Playwright, before the page sees it), so their client-side cost shows by difference.
VARIANTS = [
    ("as served (through the same interception)", ()),
    ("without the time-series cursor patch", ("timeseries",)),
    ("without the network elements", ("network",)),
    ("without both", ("timeseries", "network")),
]


def what_if(page: Any, moves: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """Slider moves with outputs dropped from the callback's response (see VARIANTS); the
    variants take turns move by move, so a change in the machine's load hits them alike."""
    import json

    def handler_for(drop: tuple[str, ...]) -> Callable[[Any], None]:
        def handler(route: Any) -> None:
            resp = route.fetch()
            body = resp.body()
            try:
                data = json.loads(body)
                for key in drop:
                    data.get("response", {}).pop(key, None)
                body = json.dumps(data, separators=(",", ":")).encode()
            except ValueError:
                pass
            headers = {k: v for k, v in resp.headers.items()
                       if k.lower() not in ("content-encoding", "content-length")}
            route.fulfill(status=resp.status, headers=headers, body=body)
        return handler

    handlers = [handler_for(drop) for _, drop in VARIANTS]
    current: list[Callable[[Any], None]] = []

    def is_update(url: str) -> bool:
        return "_dash-update-component" in url

    def before(i: int) -> str:
        if current:
            page.unroute(is_update, current.pop())
        v = i % len(VARIANTS)
        page.route(is_update, handlers[v])
        current.append(handlers[v])
        return VARIANTS[v][0]

    log(f"what-if: {len(VARIANTS)} variants taking turns, {moves} moves each way each...")
    recs = slider_moves(page, moves * len(VARIANTS), before)
    if current:
        page.unroute(is_update, current.pop())
    return [(name, [r for r in recs if r["tag"] == name]) for name, _ in VARIANTS]


def what_if_report(results: list[tuple[str, list[dict[str, Any]]]]) -> None:
    print(f"\n### What if a move sent less? (median ms per move; {load()})\n")
    print("The callback's response is intercepted in the browser and outputs are taken out "
          "before the page sees them; the interception itself adds to 'request -> parsed', "
          "so compare the browser's own phases.\n")
    print("| variant | moves | total | input -> request | request -> parsed | parsed -> label in "
          "DOM | label -> cytoscape drew | drew -> next frame | JSON the page got |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, moves in results:
        def med(a: str, b: str, ms: list[dict[str, Any]] = moves) -> float:
            vals = [m[b] - m[a] for m in ms if m.get(a) is not None and m.get(b) is not None]
            return statistics.median(vals) if vals else float("nan")

        size = statistics.median(m["decoded"] for m in moves)
        print(f"| {name} | {len(moves)} | {med('t0', 't1'):.0f} | {med('t0', 'req'):.0f} | "
              f"{med('req', 'json'):.0f} | {med('json', 'label'):.0f} | "
              f"{med('label', 'render'):.0f} | {med('render', 't1'):.0f} | {fmt_bytes(size)} |")
    print("\n(Without network elements, 'cytoscape drew' is the label's first frame.)")


# ------------------------------------------------------------------------------ 2. first load
def first_load(browser: Any, url: str) -> dict[str, Any]:
    page = new_page(browser)
    encodings: dict[str, str] = {}
    page.on("response", lambda r: encodings.__setitem__(
        r.url, r.headers.get("content-encoding", "")))
    page.goto(url)
    page.wait_for_function(USABLE_JS, polling="raf")
    usable = page.evaluate("() => window.__usableAt")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)  # let late chunks and their parsing finish
    data = page.evaluate(
        """() => { const nav = performance.getEntriesByType('navigation')[0];
          const res = performance.getEntriesByType('resource');
          const one = e => ({name: e.name, transfer: e.transferSize, encoded: e.encodedBodySize,
              decoded: e.decodedBodySize, end: e.responseEnd, start: e.startTime});
          return {nav: one(nav), res: res.map(one), longtasks: window.__bench.longtasks,
                  domContentLoaded: nav.domContentLoadedEventEnd}; }""")
    page.context.close()
    data["usable"] = usable
    for e in [data["nav"], *data["res"]]:
        e["encoding"] = encodings.get(e["name"], "") or "none"
    # quiet: the first moment at/after "usable" followed by 500 ms with no long task
    quiet = usable
    for lt in sorted(data["longtasks"], key=lambda x: x["start"]):
        if lt["start"] + lt["dur"] <= quiet:
            continue
        if lt["start"] - quiet >= 500:
            break
        quiet = lt["start"] + lt["dur"]
    data["quiet"] = quiet
    return data


def load_stats(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def entries(r: dict[str, Any]) -> list[dict[str, Any]]:
        return [r["nav"], *r["res"]]

    transfer = [sum(e["transfer"] for e in entries(r)) for r in runs]
    decoded = [sum(e["decoded"] for e in entries(r)) for r in runs]
    by_usable = [sum(e["transfer"] for e in entries(r) if e["end"] <= r["usable"]) for r in runs]
    return {
        "usable": statistics.median(r["usable"] for r in runs) / 1e3,
        "usable_all": [r["usable"] / 1e3 for r in runs],
        "quiet": statistics.median(r["quiet"] for r in runs) / 1e3,
        "transfer": statistics.median(transfer), "decoded": statistics.median(decoded),
        "by_usable": statistics.median(by_usable),
        "largest": sorted(entries(runs[0]), key=lambda e: -e["transfer"])[:5],
        "layout": next((e for e in runs[0]["res"] if e["name"].endswith("_dash-layout")), None),
        "longtask_ms": statistics.median(sum(lt["dur"] for lt in r["longtasks"]) for r in runs),
    }


def load_report(results: list[tuple[str, bool, dict[str, Any]]], repeats: int) -> None:
    print(f"\n## 2. First load (fresh context, empty cache; median of {repeats}; {load()})\n")
    print("| app | compression | usable s | ratio to 2.5 s | main thread quiet s | "
          "transferred | ratio to 2 MB | of which before usable | decoded | long tasks ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, comp, s in results:
        print(f"| {name} | {'on' if comp else 'off'} | {s['usable']:.2f} | "
              f"{s['usable'] / LOAD_S:.2f} | {s['quiet']:.2f} | {fmt_bytes(s['transfer'])} | "
              f"{s['transfer'] / (LOAD_MB * 1e6):.2f} | {fmt_bytes(s['by_usable'])} | "
              f"{fmt_bytes(s['decoded'])} | {s['longtask_ms']:.0f} |")
    print("\n'usable': navigation start -> play button enabled, slider thumb, network nodes and "
          "tour text all present (seen in an animation frame). 'quiet': the first moment "
          "after that followed by 500 ms without a long task (a click would be handled at "
          "once). Each run's usable s: " + "; ".join(
              f"{n} ({'on' if c else 'off'}): " + ", ".join(f"{x:.2f}" for x in s["usable_all"])
              for n, c, s in results) + ".")
    for name, comp, s in results:
        print(f"\nFive largest resources, {name}, compression {'on' if comp else 'off'}:\n")
        print("| resource | transferred | decoded | content-encoding | finished at s |")
        print("|---|---:|---:|---|---:|")
        for e in s["largest"]:
            short = e["name"].split("?")[0].split("127.0.0.1:", 1)[-1].split("/", 1)[-1]
            short = re.sub(r"\.v[0-9_]+m\d+", "", short)
            print(f"| {short or '(page)'} | {fmt_bytes(e['transfer'])} | "
                  f"{fmt_bytes(e['decoded'])} | {e['encoding']} | {e['end'] / 1e3:.2f} |")


# ------------------------------------------------------------------------------------ 3. play
def set_speed(page: Any, label: str) -> None:
    page.click(f"#{SPEED}")
    page.get_by_role("option", name=label, exact=True).click()
    page.wait_for_function(f"(l) => document.getElementById('{SPEED}').innerText.includes(l)",
                           arg=label)
    page.wait_for_timeout(500)  # the interval's new period comes back from the server


def label_steps(page: Any, since: int) -> list[tuple[float, int]]:
    recs = page.evaluate("(i) => window.__bench.labels.slice(i).map(r => [r.t, r.text])", since)
    out = []
    for t, text in recs:
        m = re.search(r"\d+", text)
        if m:
            out.append((t, int(m.group())))
    return out


def play(page: Any, *, quick: bool) -> dict[str, Any]:
    set_speed(page, "4x")
    page.wait_for_function("() => window.__bench.hook()")
    last = int(page.get_attribute(THUMB, "aria-valuemax") or 0)
    start = int(page.get_attribute(THUMB, "aria-valuenow") or 0)
    if start >= last:
        start = 0
    mark = page.evaluate("() => window.__bench.labels.length")
    clicks = page.evaluate("() => window.__bench.clicks.length")
    page.click(f"#{PLAY}")
    t_click = page.evaluate("(i) => window.__bench.clicks[i].t", clicks)
    budget = 3_000 if quick else int(4 * 1000 * (last - start + 1) / PLAY_RATE + 10_000)
    try:
        page.wait_for_function(
            "([i, last]) => window.__bench.labels.slice(i).some("
            "r => parseInt((r.text.match(/\\d+/) || ['-1'])[0]) === last)",
            arg=[mark, last], timeout=budget)
        reached = True
    except Exception:
        reached = False
    shown = label_steps(page, mark)
    if not reached:  # quick mode, or too slow: stop the player before the pause test
        stop_player(page)
    # pause: play again (from the start when at the end) until two new steps are shown,
    # press pause, watch the label for PAUSE_WATCH_MS
    mark2 = page.evaluate("() => window.__bench.labels.length")
    page.click(f"#{PLAY}")
    page.wait_for_function("(i) => window.__bench.labels.length >= i + 2", arg=mark2,
                           timeout=30_000)
    clicks = page.evaluate("() => window.__bench.clicks.length")
    page.click(f"#{PLAY}")
    t_pause = page.evaluate("(i) => window.__bench.clicks[i].t", clicks)
    page.wait_for_timeout(PAUSE_WATCH_MS)
    after = [(t, s) for t, s in label_steps(page, mark2) if t > t_pause]
    before = [(t, s) for t, s in label_steps(page, mark2) if t <= t_pause]
    extra = stop_player(page) if after and after[-1][0] > t_pause + PAUSE_WATCH_MS - 1000 else 0
    return {"last": last, "start": start, "reached": reached, "shown": shown,
            "t_click": t_click, "t_pause": t_pause, "after_pause": after,
            "before_pause": before, "quick": quick, "extra_clicks": extra}


def stop_player(page: Any) -> int:
    """Press play/pause until the step label stays still for a second; the presses needed."""
    for tries in range(1, 6):
        page.click(f"#{PLAY}")
        page.wait_for_timeout(1000)
        n = page.evaluate("() => window.__bench.labels.length")
        page.wait_for_timeout(1000)
        if page.evaluate("() => window.__bench.labels.length") == n:
            return tries
    return 0


def play_report(name: str, r: dict[str, Any]) -> None:
    shown = [(t, s) for t, s in r["shown"] if t > r["t_click"]]
    print(f"\n## 3. Play at 4x, nominal {PLAY_RATE:g} steps/s ({name}; {load()})\n")
    if len(shown) < 2:
        print(f"Fewer than two steps were shown after pressing play ({len(shown)}).")
        return
    steps = [s for _, s in shown]
    t_last = shown[-1][0]
    span = (t_last - r["t_click"]) / 1e3
    seen = set(steps)
    lo, hi = r["start"], max(steps)
    skipped = [s for s in range(lo + 1, hi + 1) if s not in seen]
    advanced = hi - lo
    gaps = [(b[0] - a[0]) for a, b in itertools.pairwise([(r["t_click"], lo), *shown])]
    print("| measure | value |")
    print("|---|---:|")
    print(f"| steps played (from the step shown at the press) | {lo} -> {hi}"
          f"{'' if r['reached'] else ' (stopped before the end)'} |")
    print(f"| press play -> first new step shown | {shown[0][0] - r['t_click']:.0f} ms |")
    print(f"| steps shown per second | {len(shown) / span:.2f} "
          f"(ratio to {PLAY_RATE:g}: {len(shown) / span / PLAY_RATE:.2f}) |")
    print(f"| steps advanced per second (skips count) | {advanced / span:.2f} |")
    print(f"| interval between shown steps (first: from the press), median / p90 / worst | "
          f"{statistics.median(gaps):.0f} / {pct(gaps, 0.9):.0f} / {max(gaps):.0f} ms |")
    print(f"| whole run (press play -> last step shown) | {span:.1f} s (nominal "
          f"{advanced / PLAY_RATE:.1f} s) |")
    print(f"| steps skipped (never shown) | {len(skipped)} |")
    after = r["after_pause"]
    if after:
        still = r["extra_clicks"]
        note = (f" (still playing {PAUSE_WATCH_MS} ms later; stopped after {still} more "
                "presses)" if still else "")
        print(f"| after pressing pause: label changes, last one at | {len(after)}, "
              f"+{after[-1][0] - r['t_pause']:.0f} ms{note} |")
    else:
        print("| after pressing pause: label changes | 0 (took effect at once) |")
    if skipped:
        print(f"\nSkipped steps: {', '.join(map(str, skipped))}")


# ------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traders", type=int, default=2000,
                    help="traders of the app the slider is measured on (default 2000)")
    ap.add_argument("--repeats", type=int, default=3,
                    help="first loads per app and compression setting; slider passes (default 3)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke mode: 3 slider moves each way, 1 first load, 3 s of play, all "
                         "on the --traders app")
    ap.add_argument("--no-compress", action="store_true",
                    help="serve without HTTP compression for the slider and play sections")
    ap.add_argument("--moves", type=int, default=None,
                    help="slider moves each way per pass (default: every step of the run)")
    ap.add_argument("--profile-moves", type=int, default=10,
                    help="slider moves each way under the CPU profiler, under the trace and "
                         "in each what-if variant (0: none of these)")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    repeats = 1 if args.quick else max(1, args.repeats)
    print("# Dashboard in Chromium: input to pixels\n")
    print(f"Started {time.strftime('%Y-%m-%d %H:%M:%S')}; {load()}; Chromium {CHROMIUM}.")
    log(f"building the {args.traders:,}-trader app...")
    big = build_app(args.traders)
    add_server_timing(big)
    apps: list[tuple[str, Any]] = [(f"{args.traders:,} traders", big)]
    default = big
    if not args.quick:
        log("building the default scenario's app...")
        default = build_app(None)
        add_server_timing(default)
        apps.insert(0, ("default scenario", default))
    compressed = compression_on(big)
    print(f"The app's HTTP compression: {'on' if compressed else 'off'} "
          f"({'flask-compress' if compressed else 'dash.Dash(compress=False)'}).")

    with sync_playwright() as p, ExitStack() as stack:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        # 2. first load, first (cold server caches are part of a first load)
        loads: list[tuple[str, bool, dict[str, Any]]] = []
        for name, app in apps:
            settings = [True, False] if compression_on(app) else [False]
            runs: dict[bool, list[dict[str, Any]]] = {c: [] for c in settings}
            with serving(app) as url:
                for i in range(repeats):  # the settings take turns: load drifts hit both
                    for comp in settings:
                        log(f"first load {i + 1}/{repeats}: {name}, compression "
                            f"{'on' if comp else 'off'}")
                        with nullcontext() if comp else without_compression(app):
                            runs[comp].append(first_load(browser, url))
            loads += [(name, comp, load_stats(runs[comp])) for comp in settings]
        slider_comp = compressed and not args.no_compress
        if args.no_compress:
            for _, app in apps:
                stack.enter_context(without_compression(app))

        # 1. slider
        with serving(big) as url:
            page = new_page(browser)
            open_app(page, url)
            nodes, edges = page.evaluate("() => [window.cy.nodes().length, window.cy.edges().length]")
            moves: list[dict[str, Any]] = []
            passes = 1 if args.quick else repeats
            for i in range(passes):
                log(f"slider pass {i + 1}/{passes} on {args.traders:,} traders...")
                moves += slider_moves(page, 3 if args.quick else args.moves)
            slider_report(moves, nodes, edges, args.traders, slider_comp)
            if args.profile_moves > 0:
                pm = 1 if args.quick else args.profile_moves
                log(f"profiling {pm} moves each way...")
                profile_report(cpu_profile(page, pm), pm)
                log(f"tracing {pm} moves each way...")
                trace_report(trace_breakdown(browser, page, pm), pm)
                what_if_report(what_if(page, pm))
            page.context.close()
        load_report(loads, repeats)

        # 3. play
        play_app, play_name = (big, f"{args.traders:,} traders") if args.quick else \
            (default, "default scenario")
        with serving(play_app) as url:
            page = new_page(browser)
            open_app(page, url)
            log(f"playing the {play_name}...")
            result = play(page, quick=args.quick)
            page.context.close()
        play_report(play_name + f", compression {'on' if slider_comp else 'off'}", result)
        browser.close()
    print(f"\nFinished {time.strftime('%H:%M:%S')}; {load()}.")


if __name__ == "__main__":
    main()
