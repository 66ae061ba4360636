"""The dashboard in a real headless Chromium (Debian's, driven by Playwright).

Every page is guarded: a request leaving 127.0.0.1 or a JavaScript error fails the test
(see ``pw_page`` in conftest). Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.cy && window.cy.nodes().length > 10")
    page.wait_for_function(
        "() => document.querySelectorAll('#narrative li').length > 0")


def _state(page: Any, node: str) -> str:
    return page.evaluate(f"() => window.cy.getElementById({node!r}).data('state')")


def _step(page: Any) -> str:
    return page.inner_text("#step-label")


def test_default_scenario_loads_with_network_story_and_series(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    assert _step(pw_page).startswith("Step 0")
    assert _state(pw_page, "CEX") == "healthy"
    kinds = pw_page.evaluate("() => [...new Set(window.cy.nodes().map(n => n.data('kind')))]")
    assert {"lending", "perp", "custodial", "firm", "oracle", "fund"} <= set(kinds)
    pw_page.wait_for_selector("#compact-series .main-svg")
    pw_page.click("text=All series")  # every series, below the fold
    pw_page.wait_for_selector("#timeseries .main-svg")
    summary = pw_page.inner_text("#run-summary")
    assert "Defaults: CEX" in summary or "CEX" in summary
    # every asset came from the app's own server
    urls = pw_page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert urls and all(u.startswith(app_url.rstrip("/")) for u in urls)


def test_moving_the_player_changes_node_states_and_the_story(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    before = pw_page.inner_text("#narrative")
    pw_page.click("#forward-button")
    pw_page.wait_for_function("() => document.querySelector('#step-label').innerText"
                              ".startsWith('Step 1')")
    # the tour jumps the player to the exchange's default (stage 6: stage 5 is the run before it)
    for _ in range(5):
        pw_page.click("#tour-next")
    pw_page.wait_for_function("() => document.querySelector('#tour-title').innerText"
                              ".includes('Cross-margin carries the default to PerpX')")
    pw_page.wait_for_function("() => window.cy.getElementById('CEX').data('state') "
                              "=== 'defaulted'")
    story = pw_page.inner_text("#narrative")
    assert story != before
    assert "CEX" in story and "default" in story.lower()
    assert _state(pw_page, "AlphaFund") == "defaulted"
    # back to the start: the exchange is healthy again
    for _ in range(5):
        pw_page.click("#tour-prev")
    pw_page.wait_for_function("() => window.cy.getElementById('CEX').data('state') "
                              "=== 'healthy'")
    pw_page.wait_for_function("() => document.querySelector('#step-label').innerText"
                              ".startsWith('Step 0')")
    ARTIFACTS.mkdir(exist_ok=True)
    pw_page.screenshot(path=str(ARTIFACTS / "dashboard-step0.png"), full_page=False)


def test_clicking_a_node_opens_its_panel(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    pos = pw_page.evaluate("""() => {
        const n = window.cy.getElementById('CEX');
        const r = document.querySelector('#network').getBoundingClientRect();
        const p = n.renderedPosition();
        return {x: r.left + p.x, y: r.top + p.y};
    }""")
    pw_page.mouse.click(pos["x"], pos["y"])
    pw_page.wait_for_function("() => document.querySelector('#inspector-title').innerText"
                              ".includes('CEX')")
    pw_page.wait_for_selector("#inspector-figure .main-svg")
    assert "How CEX came to default" in pw_page.inner_text("#inspector-trace")
    assert "withdrawal" in pw_page.inner_text("#inspector-events")


def test_a_bad_parameter_shows_its_allowed_range_and_blocks_the_run(pw_page: Any,
                                                                     app_url: str) -> None:
    _open(pw_page, app_url)
    box = pw_page.locator('[id*="shock_frac"] input, input[id*="shock_frac"]').first
    box.fill("1.7")
    box.press("Enter")
    err = pw_page.locator('[id*="param-error"][id*="shock_frac"]')
    err.wait_for()
    pw_page.wait_for_function("() => [...document.querySelectorAll('[id*=param-error]')]"
                              ".some(e => e.innerText.includes('0 <= x < 1'))")
    assert pw_page.is_disabled("#run-button")
    box.fill("0.3")
    box.press("Enter")
    pw_page.wait_for_function("() => !document.querySelector('#run-button').disabled")


def test_numbers_off_the_step_grid_and_a_bad_seed_get_their_message(pw_page: Any,
                                                                     app_url: str) -> None:
    """A browser hands Dash nothing for a number its input's step or min rejects; the form
    must still say what is wrong ('2.5' traders, '-5' steps, seed '-1'), not 'empty'."""
    _open(pw_page, app_url)
    for key, typed, says in (("n_traders", "2.5", "2.5 is not allowed: an integer"),
                             ("shock_duration_steps", "-5", "-5 is not allowed: 1 <= x")):
        box = pw_page.locator(f'[id*="{key}"] input, input[id*="{key}"]').first
        box.fill(typed)
        box.press("Enter")
        pw_page.wait_for_function(
            "([k, s]) => [...document.querySelectorAll('[id*=param-error]')]"
            ".some(e => e.id.includes(k) && e.innerText.includes(s))", arg=[key, says])
    assert pw_page.is_disabled("#run-button")
    seed = pw_page.locator("#seed")
    seed.fill("-1")
    seed.press("Enter")
    pw_page.wait_for_function("() => document.querySelector('#seed-error').innerText"
                              ".includes('-1 is not allowed: a whole number >= 0')")
    pw_page.screenshot(path=str(ARTIFACTS / "dashboard-form-messages.png"))
    assert "empty" not in pw_page.inner_text("#param-fields")
    assert pw_page.is_disabled("#run-button")


def test_run_shows_progress_then_the_new_cascade(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    seed = pw_page.locator("#seed")
    seed.fill("5")
    seed.press("Enter")
    pw_page.click("#run-button")
    pw_page.wait_for_function("() => document.querySelector('#run-status').innerText"
                              ".includes('Done')", timeout=60_000)
    pw_page.wait_for_function("() => document.querySelector('#run-summary').innerText"
                              ".includes('seed 5')")
    assert _step(pw_page).startswith("Step 0")


def test_a_long_run_can_be_cancelled(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    box = pw_page.locator('input[id*="n_traders"]').first
    box.fill("400000")
    box.press("Enter")
    pw_page.wait_for_function("() => !document.querySelector('#run-button').disabled")
    pw_page.click("#run-button")
    pw_page.wait_for_function("() => document.querySelector('#run-status').innerText"
                              ".startsWith('Running')", timeout=60_000)
    pw_page.click("#cancel-button")
    pw_page.wait_for_function("() => document.querySelector('#run-status').innerText"
                              ".includes('Cancelled')", timeout=60_000)
    # the shown run is still the default one
    assert "seed 0" in pw_page.inner_text("#run-summary")


def test_the_event_log_downloads_as_csv(pw_page: Any, app_url: str, tmp_path: Path) -> None:
    _open(pw_page, app_url)
    with pw_page.expect_download() as info:
        pw_page.click("#export-events")
    path = tmp_path / "events.csv"
    info.value.save_as(path)
    head = path.read_text().splitlines()
    assert head[0].startswith("event_id,step,kind,venue")
    assert len(head) > 1000


def test_comparison_shows_both_runs_and_the_difference(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    pw_page.click("#details-tabs >> text=Compare")
    pw_page.fill("#compare-value", "false")
    pw_page.press("#compare-value", "Enter")
    pw_page.click("#compare-run")
    pw_page.wait_for_selector("#compare-table table", timeout=60_000)
    table = pw_page.inner_text("#compare-table")
    assert "cross_margin = True" in table and "cross_margin = False" in table
    assert "difference" in table.lower()
    pw_page.wait_for_selector("#compare-figure .main-svg")
    ARTIFACTS.mkdir(exist_ok=True)
    pw_page.screenshot(path=str(ARTIFACTS / "dashboard-compare.png"))


def test_two_sessions_get_independent_runs(pw_browser: Any, app_url: str) -> None:
    a = pw_browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    b = pw_browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    for page in (a, b):
        _open(page, app_url)
    seed = a.locator("#seed")
    seed.fill("9")
    seed.press("Enter")
    a.click("#run-button")
    a.wait_for_function("() => document.querySelector('#run-summary').innerText"
                        ".includes('seed 9')", timeout=60_000)
    b.reload()
    _open(b, app_url)
    assert "seed 0" in b.inner_text("#run-summary")
    assert "seed 9" not in b.inner_text("#run-summary")
    a.context.close()
    b.context.close()
