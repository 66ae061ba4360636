"""Shared fixtures: small seeded runs of the default scenario, computed once per session;
a headless Chromium (Debian's, driven by Playwright) and a Dash server on a free port."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from contagion.runner import RunResult, simulate
from models import get_scenario

SMALL = {"n_traders": 400}


@pytest.fixture(scope="session")
def shocked_run() -> RunResult:
    """The default scenario (400 traders), seed 1."""
    return simulate(get_scenario("default", **SMALL), seed=1, check_conservation=True)


@pytest.fixture(scope="session")
def calm_run() -> RunResult:
    """The default scenario without the shock."""
    return simulate(get_scenario("default", shock_frac=0.0, **SMALL), seed=1,
                    check_conservation=True)


@pytest.fixture(scope="session")
def isolated_run() -> RunResult:
    """The default scenario with cross-margining off."""
    return simulate(get_scenario("default", cross_margin=False, **SMALL), seed=1,
                    check_conservation=True)


# ---------------------------------------------------------------- browser tests
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROME_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-default-apps", "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    "--window-size=1400,1000",
    # pages the test is not looking at keep their timers (dcc.Interval polls): thirty open
    # sessions would otherwise be throttled to a tick a second or slower
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


@pytest.fixture(scope="session")
def pw_browser() -> Iterator[Any]:
    """One headless Chromium for the session (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM) and shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is not installed: run the tests with scripts/test.sh, "
                    "which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def pw_page(pw_browser: Any) -> Iterator[Any]:
    """A fresh page that fails the test on any request leaving 127.0.0.1 or any JS error."""
    ctx = pw_browser.new_context(viewport={"width": 1400, "height": 1000})
    external: list[str] = []
    errors: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            external.append(url)
            route.abort()

    ctx.route("**/*", guard)
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    yield page
    ctx.close()
    assert not external, f"requests left the machine: {external}"
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def serve_dash() -> Iterator[Callable[[Any], str]]:
    """Serve a Dash app on 127.0.0.1 at a free port; return its URL."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    servers: list[Any] = []

    def _serve(app: Any) -> str:
        srv = make_server("127.0.0.1", 0, app.server, threaded=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_port}/"

    yield _serve
    for srv in servers:
        srv.shutdown()
        srv.server_close()


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    """One dashboard server per browser-test module (the default scenario precomputed once)."""
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app("default")
    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}/"
    srv.shutdown()
    srv.server_close()
