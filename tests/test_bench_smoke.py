"""The engine benchmark still runs end to end (its figures are not asserted: machines are noisy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "experiments" / "bench" / "bench_engine.py"


def test_benchmark_quick_mode_prints_both_sides_and_the_ratio() -> None:
    out = subprocess.run([sys.executable, str(BENCH), "--quick", "--no-tracemalloc"],
                         capture_output=True, text=True, timeout=300, check=True)
    text = out.stdout
    assert "Vectorised engine" in text and "Per-agent Mesa baseline" in text
    assert "## Comparison" in text and "x |" in text
    assert "10,000" in text
