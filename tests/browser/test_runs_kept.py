"""Issue 10: runs never vanish silently. Thirty sessions each keep their own run (runs that
leave memory spill to disk and come back), and a run the cache had to drop says so and
offers to re-run it. Headless Chromium (Debian's, Playwright)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser

SESSIONS = 30


def _run(page: Any, seed: int, traders: int | None = 100) -> None:
    page.wait_for_function("() => window.cy && window.cy.nodes().length > 3")
    if traders is not None:
        box = page.locator('input[id*="n_traders"]').first
        box.fill(str(traders))
        box.press("Enter")
    seed_box = page.locator("#seed")
    seed_box.fill(str(seed))
    seed_box.press("Enter")
    page.wait_for_function("() => !document.querySelector('#run-button').disabled")
    page.click("#run-button")


def _shows(page: Any, seed: int) -> None:
    page.wait_for_function("(s) => document.querySelector('#run-summary').innerText"
                           ".includes('seed ' + s + ',')", arg=seed, timeout=120_000)


def test_thirty_sessions_each_keep_their_run(pw_browser: Any,
                                             serve_dash: Callable[[Any], str]) -> None:
    from dashboard.app import create_app

    # the textbook Eisenberg-Noe network runs in milliseconds: the test is about the store
    app = create_app("classic_eisenberg_noe", max_runs=4, workers=2)
    url = serve_dash(app)
    ctx = pw_browser.new_context(viewport={"width": 1400, "height": 1000})
    pages = []
    for i in range(SESSIONS):
        page = ctx.new_page()
        page.set_default_timeout(120_000)
        page.goto(url)
        _run(page, seed=100 + i, traders=None)
        pages.append(page)
    for i, page in enumerate(pages):
        _shows(page, 100 + i)
    store = app.server.config["CONTAGION_STORE"]
    assert sum(store.status(r) == "disk" for r in store.issued()) >= SESSIONS - 4 - 1
    # every session, in turn, still steps through its own run: nothing blank, nothing stale
    for i, page in enumerate(pages):
        page.bring_to_front()
        page.click("#forward-button")
        page.wait_for_function("() => document.querySelector('#step-label').innerText"
                               ".startsWith('Step 1')")
        assert "no longer" not in page.inner_text("#narrative")
        assert page.evaluate("() => window.cy.nodes().length") > 3
        assert f"seed {100 + i}," in page.inner_text("#run-summary")
        with page.expect_download() as info:
            page.click("#export-events")
        assert info.value.suggested_filename.endswith(f"seed{100 + i}-events.csv")
    ctx.close()


def test_an_expired_run_says_so_and_re_runs(pw_browser: Any,
                                            serve_dash: Callable[[Any], str]) -> None:
    from dashboard.app import create_app

    app = create_app("default", max_runs=1, workers=1, max_disk_bytes=1)
    url = serve_dash(app)
    ctx = pw_browser.new_context(viewport={"width": 1400, "height": 1000})
    a, b = ctx.new_page(), ctx.new_page()
    for page in (a, b):
        page.set_default_timeout(60_000)
        page.goto(url)
    _run(a, seed=7)
    _shows(a, 7)
    _run(b, seed=8)  # pushes a's run out of memory, and a 1-byte disk budget cannot keep it
    _shows(b, 8)
    store = app.server.config["CONTAGION_STORE"]
    a.click("#forward-button")
    a.wait_for_selector("#run-expired.shown")
    assert "cleared from the server's cache" in a.inner_text("#run-expired")
    a.click("#rerun-button")
    a.wait_for_function("() => !document.querySelector('#run-expired').classList.contains('shown')")
    _shows(a, 7)
    a.click("#forward-button")
    a.wait_for_function("() => document.querySelector('#step-label').innerText"
                        ".startsWith('Step 1')")
    assert any(s in ("memory", "disk") for s in map(store.status, store.issued()))
    ctx.close()
