"""The presets in a real headless Chromium: pick one, run it, and the dashboard speaks it.

Each test picks a preset in the scenario menu (which runs it), and checks that the form shows
that preset's own fields, that the guided tour is the preset's own, and that the network at
the last step shows the institutions its run defaulted. Pages are guarded like those of
``test_dashboard.py`` (no request leaves 127.0.0.1, no JavaScript error); screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from models import PRESET_INFO

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _run_preset(page: Any, url: str, preset: str, field: str) -> None:
    """Open the dashboard, pick ``preset``, wait for its form (``field``), run it."""
    page.goto(url)
    page.wait_for_function("() => window.cy && window.cy.nodes().length > 10")
    page.click("#scenario")
    # the menu shows each preset's title, date and line, not its id
    option = page.get_by_role("option").filter(has_text=PRESET_INFO[preset].title)
    assert PRESET_INFO[preset].date in option.inner_text()
    assert PRESET_INFO[preset].line in option.inner_text()
    before = page.inner_text("#run-summary")
    assert before.startswith("default, seed 0")
    # choosing a preset clears the old run at once (no stale summary, cards, network or
    # tour) and runs the new one
    page.evaluate("""() => { window.__shown = [];
        new MutationObserver(() => window.__shown.push(
            document.querySelector('#run-summary').innerText))
        .observe(document.querySelector('#run-summary'),
                 {childList: true, subtree: true, characterData: true}); }""")
    option.click()
    page.wait_for_function(f"() => document.querySelector('#run-summary').innerText"
                           f".startsWith('{preset}, seed 0')", timeout=60_000)
    shown = page.evaluate("() => window.__shown")
    assert any("Computing the chosen scenario" in s for s in shown), shown
    page.wait_for_selector(f'input[id*="{field}"]')
    page.wait_for_function("() => document.querySelector('#run-status').innerText"
                           ".includes('Done')", timeout=60_000)
    page.wait_for_function(f"() => document.querySelector('#run-summary').innerText"
                           f".startsWith('{preset}, seed 0')")


def _tour_title(page: Any, text: str) -> None:
    page.wait_for_function(f"() => document.querySelector('#tour-title').innerText"
                           f".includes({text!r})")


def _go_to_last_step(page: Any, last: int) -> None:
    thumb = page.locator("#step-slider [role=slider]")
    thumb.focus()
    thumb.press("End")
    page.wait_for_function(f"() => document.querySelector('#step-label').innerText"
                           f".startsWith('Step {last} ')")


def _defaulted(page: Any) -> dict[str, str]:
    """Node id -> kind of every node shown as defaulted."""
    pairs = page.evaluate("() => window.cy.nodes().filter(n => n.data('state') === 'defaulted')"
                          ".map(n => [n.id(), n.data('kind')])")
    return dict(pairs)


def test_ftx_runs_with_its_own_form_tour_and_defaults(pw_page: Any, app_url: str) -> None:
    _run_preset(pw_page, app_url, "ftx", "rehypothecation_frac")
    assert pw_page.locator('input[id*="ftt_dump_usd"]').count() == 1
    assert pw_page.locator('input[id*="cross_margin_settlement_steps"]').count() == 0
    _tour_title(pw_page, "1. An exchange that lent out its deposits")
    # the player's label is drawn by a callback after the run: wait for it, then read it
    pw_page.wait_for_function("() => document.querySelector('#step-label').innerText"
                              ".startsWith('Step ')")
    assert pw_page.inner_text("#step-label").startswith("Step 0")
    # the tour moves the player to FTX's default, and the story tells it
    pw_page.click("#tour-next")
    _tour_title(pw_page, "2. A run on FTX")
    pw_page.wait_for_function("() => window.cy.getElementById('FTX').data('state') "
                              "=== 'defaulted'")
    assert "FTX defaulted" in pw_page.inner_text("#narrative")
    _go_to_last_step(pw_page, 144)
    pw_page.wait_for_function("() => window.cy.getElementById('Gemini').data('state') "
                              "=== 'defaulted'")
    down = _defaulted(pw_page)
    assert {"FTX", "BlockFi", "Genesis", "Gemini"} <= set(down)
    assert {down[n] for n in ("FTX", "BlockFi", "Genesis", "Gemini")} == {"custodial"}
    assert down.get("Alameda") == "firm"
    ARTIFACTS.mkdir(exist_ok=True)
    pw_page.screenshot(path=str(ARTIFACTS / "dashboard-ftx-last-step.png"))
    # the Compare tab offers the preset's own parameters
    pw_page.click("#details-tabs >> text=Compare")
    pw_page.wait_for_function("() => document.querySelector('#compare-key').innerText"
                              ".includes('solvency proofs')")


def test_eisenberg_noe_runs_with_its_own_form_tour_and_defaults(pw_page: Any,
                                                                app_url: str) -> None:
    _run_preset(pw_page, app_url, "classic_eisenberg_noe", "writedown_frac")
    assert pw_page.locator('input[id*="rehypothecation_frac"]').count() == 0
    _tour_title(pw_page, "1. The balance sheets")
    _go_to_last_step(pw_page, 10)
    pw_page.wait_for_function("() => window.cy.getElementById('C').data('state') "
                              "=== 'defaulted'")
    down = _defaulted(pw_page)
    assert {"A", "B", "C"} <= set(down) and "D" not in down
    ARTIFACTS.mkdir(exist_ok=True)
    pw_page.screenshot(path=str(ARTIFACTS / "dashboard-eisenberg-noe-last-step.png"))
