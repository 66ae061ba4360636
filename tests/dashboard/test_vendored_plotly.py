"""The page loads plotly.js's cartesian bundle from assets/, the version plotly.py expects,
and not Dash's full bundle (dashboard/vendor/README.md says how to update it)."""

from __future__ import annotations

import re
from pathlib import Path

from plotly.offline import get_plotlyjs_version

import dashboard

BUNDLE = Path(dashboard.__file__).parent / "assets" / "plotly-cartesian.min.js"


def test_the_vendored_bundle_is_plotly_pys_plotly_js_version() -> None:
    head = BUNDLE.read_text(encoding="utf-8")[:300]
    found = re.search(r"plotly\.js \(cartesian - minified\) v(\S+)", head)
    assert found, "not plotly.js's cartesian bundle"
    assert found.group(1) == get_plotlyjs_version(), (
        "plotly was upgraded: update dashboard/assets/plotly-cartesian.min.js "
        "(dashboard/vendor/README.md)")


def test_the_page_asks_for_the_cartesian_bundle() -> None:
    """(That the full bundle is never fetched is checked in the browser, where Dash's
    renderer would load it: tests/browser/test_one_screen.py.)"""
    from dashboard.app import create_app

    app = create_app("classic_eisenberg_noe")
    page = app.server.test_client().get("/").get_data(as_text=True)
    assert "plotly-cartesian.min.js" in page
