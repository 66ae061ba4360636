"""Issue 10, "a player that obeys": Pause stops at once at every speed, no step is skipped at
any speed, and the keyboard map works (headless Chromium, Debian's, through Playwright).

The player runs in the browser (dashboard/player.py): every step label it shows is recorded
by a MutationObserver installed in the page.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

pytestmark = pytest.mark.browser

SPEEDS = (0.5, 1, 2, 4)

#: Records every text the step label takes, with the time, in ``window.seen``; and the
#: time and label of every click on the Play button in ``window.clicks``; every text the speed
#: note takes in ``window.notes``.
WATCH = """() => {
    window.seen = [];
    window.clicks = [];
    const label = document.querySelector('#step-label');
    new MutationObserver(() => window.seen.push([performance.now(), label.innerText]))
        .observe(label, {childList: true, characterData: true, subtree: true});
    const play = document.querySelector('#play-button');
    window.playText = [];
    new MutationObserver(() => window.playText.push([performance.now(), play.innerText]))
        .observe(play, {childList: true, characterData: true, subtree: true});
    const rate = document.querySelector('#player-rate');
    window.notes = [];
    new MutationObserver(() => window.notes.push(rate.innerText))
        .observe(rate, {childList: true, characterData: true, subtree: true});
    document.addEventListener('click', e => {
        if (e.target.closest('#play-button')) {
            window.clicks.push([performance.now(), label.innerText]);
        }
    }, true);
}"""


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.cy && window.cy.nodes().length > 10")
    page.wait_for_function("() => document.querySelectorAll('#narrative li').length > 0")
    page.evaluate(WATCH)


def _step(page: Any) -> int:
    match = re.match(r"Step (\d+)", page.inner_text("#step-label"))
    assert match, page.inner_text("#step-label")
    return int(match.group(1))


def _wait_step(page: Any, step: int) -> None:
    page.wait_for_function(
        "(s) => document.querySelector('#step-label').innerText.startsWith(`Step ${s} `)",
        arg=step)


def _playing(page: Any) -> bool:
    return "Pause" in page.inner_text("#play-button")


def _last_step(page: Any) -> int:
    return int(page.get_attribute("#step-slider [role=slider]", "aria-valuemax"))


def _set_speed(page: Any, speed: float) -> None:
    page.click(f"#speed label:has-text('{speed:g}x')")
    page.wait_for_function("(v) => document.querySelector(`#speed input[value='${v}']`)"
                           ".checked", arg=f"{speed:g}")


@pytest.mark.parametrize("speed", SPEEDS)
def test_pause_stops_at_once_at_every_speed(pw_page: Any, app_url: str, speed: float) -> None:
    """Play, let 3 steps pass, Pause with one click: the step on screen stays for 1.5 s."""
    page = pw_page
    _open(page, app_url)
    _set_speed(page, speed)
    page.click("#play-button")
    page.wait_for_function("() => window.seen.length >= 3", timeout=30_000)
    page.click("#play-button")  # the first click must pause
    clicked_at, label_at_click = page.evaluate("window.clicks[window.clicks.length - 1]")
    page.wait_for_timeout(1500)
    after = page.evaluate("(t) => window.seen.filter(s => s[0] > t).map(s => s[1])", clicked_at)
    assert not _playing(page)
    assert after == [] or set(after) == {label_at_click}, (
        f"{speed}x: the step changed after Pause: {label_at_click!r} -> {after}")
    assert page.inner_text("#step-label") == label_at_click
    latency = page.evaluate("(t) => window.playText.filter(p => p[0] > t && "
                            "p[1].includes('Play')).map(p => p[0] - t)[0]", clicked_at)
    print(f"\n{speed:g}x: paused on {label_at_click!r}; the button read Play after "
          f"{latency:.0f} ms; load {os.getloadavg()[0]:.1f}")


def test_4x_draws_every_step_of_the_run(pw_page: Any, app_url: str) -> None:
    """At 4x (8 steps/s nominal) the whole run plays without a missing step; the achieved
    speed is printed (this machine is shared: it is not asserted)."""
    page = pw_page
    _open(page, app_url)
    last = _last_step(page)
    _set_speed(page, 4)
    page.click("#play-button")
    page.wait_for_function(
        "(s) => document.querySelector('#play-button').innerText.includes('Play') && "
        "document.querySelector('#step-label').innerText.startsWith(`Step ${s} `)",
        arg=last, timeout=240_000)
    seen = page.evaluate("window.seen")
    steps = [int(re.match(r"Step (\d+)", text).group(1)) for _, text in seen]
    assert steps == list(range(1, last + 1)), f"steps missing or out of order: {steps}"
    rate = (len(steps) - 1) / ((seen[-1][0] - seen[0][0]) / 1000)
    notes = [n for n in page.evaluate("window.notes") if n]
    print(f"\n4x: {len(steps)} steps drawn, none skipped, {rate:.1f} steps/s of 8 "
          f"(notes shown: {notes}); load {os.getloadavg()}")
    # The note is live: it reports the last 8 steps, so it may be blank at the end of a run
    # that was slow earlier. A run slower on average than the note's threshold (0.9 of the
    # nominal speed; 0.8 here, for the gap between advancing and drawing a step) said so.
    if rate < 0.8 * 8:
        assert any("drawing" in n for n in notes), "a slower page says so while it plays"


def test_the_keyboard_drives_the_player(pw_page: Any, app_url: str) -> None:
    page = pw_page
    _open(page, app_url)
    last = _last_step(page)
    kb = page.keyboard
    kb.press("Space")
    page.wait_for_function("() => window.seen.length >= 2")
    assert _playing(page)
    kb.press("Space")
    page.wait_for_function("() => document.querySelector('#play-button').innerText"
                           ".includes('Play')")
    kb.press("Home")
    _wait_step(page, 0)
    kb.press("ArrowRight")
    _wait_step(page, 1)
    kb.press("ArrowRight")
    _wait_step(page, 2)
    kb.press("ArrowLeft")
    _wait_step(page, 1)
    kb.press("End")
    _wait_step(page, last)
    kb.press("Home")
    _wait_step(page, 0)
    presenter = "() => document.querySelector('#app-root').classList.contains('presenter')"
    kb.press("p")
    page.wait_for_function(presenter)
    kb.press("p")
    page.wait_for_function(f"() => !({presenter})()")

    # Space on the focused Play button (after a mouse click) toggles once, not twice
    page.click("#play-button")
    page.wait_for_function("() => document.querySelector('#play-button').innerText"
                           ".includes('Pause')")
    kb.press("Space")
    page.wait_for_function("() => document.querySelector('#play-button').innerText"
                           ".includes('Play')")
    page.wait_for_timeout(300)
    assert not _playing(page)

    # keys typed into a field do not move the player
    kb.press("Home")
    _wait_step(page, 0)
    page.click("#seed")
    for key in ("ArrowRight", "ArrowRight", "End", "Home", "ArrowLeft", "Space", "p", "P"):
        kb.press(key)
    page.wait_for_timeout(800)
    assert _step(page) == 0 and not _playing(page)
    assert not page.evaluate(presenter)
    # nor in the node list's search box
    page.click("#node-pick")
    kb.type("p")
    kb.press("End")
    kb.press("Space")
    page.wait_for_timeout(500)
    assert _step(page) == 0 and not _playing(page)
    assert not page.evaluate(presenter)
    kb.press("Escape")
