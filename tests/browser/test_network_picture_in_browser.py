"""Issue 10: the network picture explains itself, in a real headless Chromium: readable
labels at the default zoom, a legend, tooltips with the node's numbers, cohorts that open
into traders, fit and reset. Screenshots (colour and greyscale) in test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.cy && window.cy.nodes().length > 3")
    page.wait_for_timeout(300)  # the preset layout's fit


@pytest.mark.parametrize("width,height", [(1440, 900), (1024, 700)])
def test_labels_are_at_least_12px_on_screen(pw_browser: Any, app_url: str, width: int,
                                            height: int) -> None:
    page = pw_browser.new_context(viewport={"width": width, "height": height}).new_page()
    _open(page, app_url)
    sizes = page.evaluate("""() => window.cy.nodes().filter(n => n.data('kind') !== 'trader')
        .map(n => [n.id(), parseFloat(n.style('font-size')) * window.cy.zoom(),
                   n.style('label')])""")
    labelled = [(n, px) for n, px, label in sizes if label]
    assert len(labelled) >= 10
    small = [(n, round(px, 1)) for n, px in labelled if px < 12]
    assert not small, f"labels under 12 px on screen: {small}"
    page.context.close()


def test_the_default_picture_is_institutions_and_cohorts(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    kinds = pw_page.evaluate("() => window.cy.nodes().map(n => n.data('kind'))")
    assert "trader" not in kinds and kinds.count("cohort") == 4
    assert len(kinds) < 40
    assert pw_page.evaluate("() => window.cy.edges().length") < 80


def test_the_legend_names_every_state_kind_and_link_drawn(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    keys = set(pw_page.evaluate(
        "() => [...document.querySelectorAll('#network-legend [data-legend]')]"
        ".map(e => e.dataset.legend)"))
    for state in ("healthy", "at_risk", "liquidated", "defaulted", "drained"):
        assert f"state:{state}" in keys
    assert "event" in keys
    drawn = pw_page.evaluate("""() => [
        ...new Set(window.cy.nodes().map(n => 'kind:' + n.data('kind'))),
        ...new Set(window.cy.edges().map(e => 'edge:' + e.data('type')))]""")
    assert set(drawn) <= keys, set(drawn) - keys
    assert pw_page.is_visible("#network-legend")


def test_hovering_a_node_shows_its_numbers(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    pos = pw_page.evaluate("""() => {
        const n = window.cy.getElementById('LendB');
        const r = document.querySelector('#network').getBoundingClientRect();
        const p = n.renderedPosition();
        return {x: r.left + p.x, y: r.top + p.y};
    }""")
    pw_page.mouse.move(pos["x"], pos["y"])
    pw_page.wait_for_selector("#network-tooltip", state="visible")
    text = pw_page.inner_text("#network-tooltip")
    assert "LendB" in text and "$" in text
    pw_page.screenshot(path=str(ARTIFACTS / "dashboard-tooltip.png"))


def test_a_cohort_opens_into_its_traders_and_reset_groups_them(pw_page: Any,
                                                               app_url: str) -> None:
    _open(pw_page, app_url)
    pw_page.click("#node-pick")
    pw_page.keyboard.type("PerpX traders")
    pw_page.get_by_role("option").filter(has_text="PerpX traders").click()
    pw_page.wait_for_function("() => document.querySelector('#inspector-title').innerText"
                              ".includes('PerpX traders')")
    pw_page.click("#expand-cohort")
    pw_page.wait_for_function("() => window.cy.nodes().filter(n => n.data('kind') === "
                              "'trader').length > 50")
    pw_page.click("#inspector-close")
    pw_page.screenshot(path=str(ARTIFACTS / "dashboard-cohort-expanded.png"))
    # the player keeps them drawn from step to step
    pw_page.click("#forward-button")
    pw_page.wait_for_function("() => document.querySelector('#step-label').innerText"
                              ".startsWith('Step 1')")
    assert pw_page.evaluate("() => window.cy.nodes().filter(n => n.data('kind') === "
                            "'trader').length") > 50
    pw_page.click("#network-reset")
    pw_page.wait_for_function("() => window.cy.nodes().filter(n => n.data('kind') === "
                              "'trader').length === 0")


def test_fit_brings_every_node_into_view(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    inside = """() => { const e = window.cy.extent(), b = window.cy.nodes().boundingBox();
        return b.x1 >= e.x1 - 1 && b.x2 <= e.x2 + 1 && b.y1 >= e.y1 - 1 && b.y2 <= e.y2 + 1; }"""
    pw_page.evaluate("() => { window.cy.zoom(3); window.cy.pan({x: -900, y: -900}); }")
    assert not pw_page.evaluate(inside)
    pw_page.click("#network-fit")
    pw_page.wait_for_function(inside)


def test_states_stay_apart_on_a_washed_out_projector(pw_page: Any, app_url: str) -> None:
    """The last step in greyscale: the screenshot is for a person to look at; the test
    checks the states drawn there differ in pattern (the stylesheet's second channel)."""
    _open(pw_page, app_url)
    thumb = pw_page.locator("#step-slider [role=slider]")
    thumb.focus()
    thumb.press("End")
    pw_page.wait_for_function("() => document.querySelector('#step-label').innerText"
                              ".startsWith('Step 144')")
    pw_page.wait_for_function("() => window.cy.getElementById('CEX').data('state') "
                              "=== 'defaulted'")
    images = pw_page.evaluate("""() => Object.fromEntries(window.cy.nodes()
        .filter(n => n.data('kind') !== 'cohort')
        .map(n => [n.data('state'), n.style('background-image')]))""")
    assert len(set(images.values())) == len(images), images
    pw_page.add_style_tag(content="html { filter: grayscale(1) contrast(0.8); }")
    pw_page.screenshot(path=str(ARTIFACTS / "dashboard-last-step-greyscale.png"))
