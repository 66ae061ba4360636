"""Issue 10: the cascade fits one screen, the headline reads at a glance, and the page is
usable by keyboard and on a projector. Headless Chromium (Debian's, Playwright); screenshots
in ``test-artifacts/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: What a class must see together without scrolling.
ON_SCREEN = ("run-button", "play-button", "step-slider", "network", "narrative",
             "compact-series", "tour-next", "headline-cards", "step-label")


def _page(browser: Any, width: int, height: int) -> Any:
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(30_000)
    return page


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.cy && window.cy.nodes().length > 3")
    page.wait_for_selector("#compact-series .main-svg")


def _boxes(page: Any) -> dict[str, dict[str, float]]:
    return page.evaluate("""(ids) => Object.fromEntries(ids.map(i => {
        const r = document.getElementById(i).getBoundingClientRect();
        return [i, {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                    width: r.width, height: r.height}];
    }))""", [*ON_SCREEN, "inspector"])


@pytest.mark.parametrize("width,height", [(1440, 900), (1024, 700)])
def test_the_cascade_fits_one_screen(pw_browser: Any, app_url: str, width: int,
                                     height: int) -> None:
    page = _page(pw_browser, width, height)
    _open(page, app_url)
    boxes = _boxes(page)
    for name in ON_SCREEN:
        b = boxes[name]
        assert b["width"] > 0 and b["height"] > 0, f"{name} is not drawn"
        assert b["top"] >= 0 and b["bottom"] <= height + 0.5, f"{name} is below the fold: {b}"
        assert b["left"] >= 0 and b["right"] <= width + 0.5, f"{name} is off the side: {b}"
    assert boxes["network"]["height"] >= 0.6 * height - 120
    assert page.evaluate("() => document.scrollingElement.scrollTop") == 0
    # the tour's Next keeps the player on screen (it used to scroll it off a projector)
    page.click("#tour-next")
    page.wait_for_function("() => document.querySelector('#tour-title').innerText.includes('2.')")
    assert page.evaluate("() => document.scrollingElement.scrollTop") == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-one-screen-{width}x{height}.png"))
    page.context.close()


def test_headline_cards_and_a_sortable_venue_table(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    cards = pw_page.inner_text("#headline-cards")
    for title in ("DEFAULTS", "VENUES HIT", "BAD DEBT", "INSURANCE FUNDS USED",
                  "SOCIALISED LOSS", "AUTO-DELEVERAGING", "LIQUIDATIONS"):
        assert title in cards.upper()
    assert "CEX" in pw_page.inner_text("#card-defaults")
    first_col = "() => [...document.querySelectorAll('table.venues tbody tr')]" \
                ".map(r => r.cells[0].innerText)"
    before = pw_page.evaluate(first_col)
    assert set(before) >= {"LendA", "LendB", "PerpX", "CEX", "AlphaFund"}
    # names sort A-Z first, then Z-A; figures sort largest first
    pw_page.click("table.venues button.sort >> text=Venue")
    pw_page.wait_for_function(f"() => ({first_col})().join() === {','.join(sorted(before))!r}")
    pw_page.click("table.venues button.sort >> text=Venue")
    pw_page.wait_for_function(f"() => ({first_col})().join() === "
                              f"{','.join(sorted(before, reverse=True))!r}")


def test_the_node_panel_opens_beside_the_network(pw_browser: Any, app_url: str) -> None:
    page = _page(pw_browser, 1024, 700)
    _open(page, app_url)
    pos = page.evaluate("""() => {
        const n = window.cy.getElementById('CEX');
        const r = document.querySelector('#network').getBoundingClientRect();
        const p = n.renderedPosition();
        return {x: r.left + p.x, y: r.top + p.y};
    }""")
    page.mouse.click(pos["x"], pos["y"])
    page.wait_for_function("() => document.querySelector('#inspector-title').innerText"
                           ".includes('CEX')")
    boxes = _boxes(page)
    panel, net = boxes["inspector"], boxes["network"]
    assert panel["left"] >= net["right"] - 1 and panel["bottom"] <= 700.5 and panel["top"] < 700
    page.click("#inspector-close")
    page.wait_for_function("() => document.querySelector('#inspector').offsetParent === null")
    page.context.close()


def test_the_keyboard_reaches_every_node_through_the_node_list(pw_page: Any,
                                                                app_url: str) -> None:
    _open(pw_page, app_url)
    pw_page.click("#node-pick")
    pw_page.keyboard.type("AlphaFund")
    pw_page.get_by_role("option").filter(has_text="AlphaFund").wait_for()
    pw_page.keyboard.press("Enter")
    pw_page.wait_for_function("() => document.querySelector('#inspector-title').innerText"
                              ".includes('AlphaFund')")
    assert "How AlphaFund came to default" in pw_page.inner_text("#inspector-trace")


def test_accessibility_basics(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    assert pw_page.evaluate("() => document.documentElement.lang") == "en"
    assert pw_page.get_attribute("#narrative", "aria-live") == "polite"
    assert pw_page.get_attribute("#step-label", "aria-live") == "polite"
    for bid in ("play-button", "back-button", "forward-button"):
        assert pw_page.get_attribute(f"#{bid}", "aria-label")
    assert "Space" in pw_page.inner_text("#keyboard-map")


def test_the_page_loads_plotlys_cartesian_bundle_not_the_full_one(pw_page: Any,
                                                                   app_url: str) -> None:
    _open(pw_page, app_url)
    urls = pw_page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert any(u.endswith("plotly-cartesian.min.js") or "plotly-cartesian.min.js?" in u
               for u in urls)
    assert not any("package_data/plotly.min.js" in u for u in urls)
    assert pw_page.evaluate("() => window.Plotly.version") == \
        __import__("plotly.offline", fromlist=["x"]).get_plotlyjs_version()


def test_presenter_mode_enlarges_the_story_and_hides_the_rest(pw_page: Any,
                                                              app_url: str) -> None:
    _open(pw_page, app_url)
    size = "() => parseFloat(getComputedStyle(document.querySelector('#narrative')).fontSize)"
    normal = pw_page.evaluate(size)
    pw_page.click("#presenter-toggle")
    pw_page.wait_for_function(f"() => ({size})() >= 22")
    assert not pw_page.is_visible("#headline-cards")
    assert not pw_page.is_visible("#run-button")
    assert pw_page.is_visible("#play-button") and pw_page.is_visible("#network")
    pw_page.screenshot(path=str(ARTIFACTS / "dashboard-presenter.png"))
    pw_page.click("#presenter-toggle")
    pw_page.wait_for_function(f"() => ({size})() === {normal}")


def test_a_shock_longer_than_the_run_is_refused_with_the_room_left(pw_page: Any,
                                                                   app_url: str) -> None:
    _open(pw_page, app_url)
    box = pw_page.locator('input[id*="shock_duration_steps"]').first
    box.fill("500")
    box.press("Enter")
    pw_page.wait_for_function(
        "() => [...document.querySelectorAll('[id*=param-error]')]"
        ".some(e => e.innerText.includes('1 <= x <= 132'))")
    assert pw_page.is_disabled("#run-button")
