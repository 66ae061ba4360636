"""The browser benchmark of the dashboard still runs end to end in Chromium and prints every
section of its report (its figures are not asserted: machines are noisy)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

BENCH = (Path(__file__).resolve().parents[1] / "experiments" / "bench"
         / "bench_dashboard_browser.py")
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")


def test_quick_mode_prints_every_section_of_the_report() -> None:
    if not os.path.exists(CHROMIUM) and shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is not installed: run the tests with scripts/test.sh, "
                    "which installs it")
    out = subprocess.run([sys.executable, str(BENCH), "--quick", "--traders", "300"],
                         capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    for heading in ("## 1. Slider move, input to pixels (300 traders",
                    "### Where a move's time goes",
                    "### Main thread by script bundle",
                    "### Main thread by kind of work",
                    "### What if a move sent less?",
                    "## 2. First load",
                    "Five largest resources",
                    "## 3. Play at 4x"):
        assert heading in text, f"missing {heading!r} in:\n{text}"
    for row in ("| median |", "| p90 |", "ratio measured/target", "JSON.parse",
                "steps shown per second", "steps skipped (never shown)", "after pressing pause"):
        assert row in text, f"missing {row!r}"
    assert "load average" in text
