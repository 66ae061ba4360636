"""The market-features benchmark runs every feature set end to end (its times are not
asserted: machines are noisy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "experiments" / "bench" / "bench_market_features.py"


def test_every_feature_set_runs_and_gets_a_ratio() -> None:
    out = subprocess.run([sys.executable, str(BENCH), "--traders", "300", "--rounds", "1"],
                         capture_output=True, text=True, timeout=300, check=True)
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ") and "x |" in line]
    assert [r.split("|")[1].strip() for r in rows] == [
        "off", "funding", "rates+run", "price_model", "v3_pools", "all", "options"]
    assert rows[0].rstrip().endswith("| 1.00x |")
