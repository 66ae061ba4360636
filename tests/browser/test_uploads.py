"""Issue 10: a user's own world. A scenario file and a positions file uploaded in the page
are checked with the CLI's messages (file, key path, row and column) before anything runs;
good ones run. Headless Chromium (Debian's, Playwright); screenshots in test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contagion.runner import simulate
from contagion.scenario_file import dumps
from models import get_scenario

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.cy && window.cy.nodes().length > 3")


def _upload(page: Any, which: str, name: str, data: bytes) -> None:
    page.set_input_files(f"#{which} input[type=file]",
                         files=[{"name": name, "mimeType": "application/octet-stream",
                                 "buffer": data}])


def _message(page: Any, which: str, text: str) -> str:
    page.wait_for_function("([i, t]) => document.getElementById(i).innerText.includes(t)",
                           arg=[which, text])
    return str(page.inner_text(f"#{which}"))


def test_a_bad_scenario_file_is_refused_with_its_key_path(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    bad = dumps(get_scenario("default")).replace("shock_frac = 0.35", "shock_frac = 1.7")
    _upload(pw_page, "upload-scenario", "crash.toml", bad.encode())
    msg = _message(pw_page, "upload-scenario-message", "Not accepted")
    assert "crash.toml" in msg and "paths[ETH].shock_frac" in msg and "0 <= x < 1" in msg
    _upload(pw_page, "upload-scenario", "evil.py", b"import os\n")
    msg = _message(pw_page, "upload-scenario-message", "evil.py")
    assert "a .toml or .json file is needed" in msg
    _upload(pw_page, "upload-scenario", "huge.toml", b"#" * (300 * 1024))
    msg = _message(pw_page, "upload-scenario-message", "huge.toml")
    assert "at most 262,144 bytes" in msg
    # nothing ran: the shown run is still the default one
    assert "seed 0" in pw_page.inner_text("#run-summary")
    pw_page.screenshot(path=str(ARTIFACTS / "dashboard-upload-refused.png"))


def test_a_good_scenario_file_joins_the_menu_and_runs(pw_page: Any, app_url: str) -> None:
    _open(pw_page, app_url)
    mine = dumps(get_scenario("default", n_traders=150, steps=30))
    _upload(pw_page, "upload-scenario", "my world.toml", mine.encode())
    _message(pw_page, "upload-scenario-message", "read and checked")
    pw_page.wait_for_function("() => document.querySelector('#run-status').innerText"
                              ".includes('Done')", timeout=60_000)
    pw_page.wait_for_function("() => document.querySelector('#run-summary').innerText"
                              ".includes('150 traders, 30 steps')")
    assert "my_world.toml" in pw_page.inner_text(".scenario-menu")


def test_a_positions_file_is_checked_row_by_row_then_runs(pw_page: Any, app_url: str,
                                                         tmp_path: Path) -> None:
    _open(pw_page, app_url)
    bad = b"account,venue,kind,asset,amount\n0,LendA,collateral,ETH,-5\n1,Nope,debt,USDC,10\n"
    _upload(pw_page, "upload-positions", "books.csv", bad)
    msg = _message(pw_page, "upload-positions-message", "Not accepted")
    assert "row 1, column amount" in msg and "row 2, column venue" in msg
    assert "/tmp" not in msg  # the user's file name, not the server's path
    # a run's own books, as a file: accepted and used by the next Run
    run = simulate(get_scenario("default"), seed=4)
    path = tmp_path / "books.parquet"
    run.positions.to_parquet(path, index=False)
    _upload(pw_page, "upload-positions", "books.parquet", path.read_bytes())
    _message(pw_page, "upload-positions-message", "rows checked against default")
    pw_page.click("#run-button")
    _message(pw_page, "run-status", "from the uploaded positions")
    pw_page.wait_for_function("() => document.querySelector('#run-status').innerText"
                              ".includes('Done')", timeout=60_000)
    pw_page.click("#clear-positions")
    _message(pw_page, "upload-positions-message", "forgotten")
