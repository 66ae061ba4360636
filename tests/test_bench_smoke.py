"""The engine benchmark still runs end to end (its figures are not asserted: machines are noisy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "experiments" / "bench" / "bench_engine.py"


def test_benchmark_quick_mode_prints_both_sides_and_the_ratio(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# X\n\n<!-- bench_engine: begin (written by experiments/bench/"
                      "bench_engine.py --readme) -->\nold figures\n<!-- bench_engine: end -->"
                      "\n\nkept\n")
    out = subprocess.run([sys.executable, str(BENCH), "--quick", "--no-tracemalloc",
                          "--readme", str(readme)],
                         capture_output=True, text=True, timeout=300, check=True)
    text = out.stdout
    assert "Vectorised engine" in text and "Per-agent Mesa baseline" in text
    assert "## Comparison" in text and "x |" in text
    assert "10,000" in text
    assert "numpy bound ms/step" in text  # the bare numpy margin check, in the same run
    written = readme.read_text()  # the README's figures are the run's, the rest kept
    assert "old figures" not in written and written.endswith("\n\nkept\n")
    table = [line for line in text.splitlines() if line.startswith("| 10,000 |")]
    assert table and table[-1] in written  # the comparison row


def test_post_run_benchmark_times_every_piece_and_both_totals() -> None:
    bench = BENCH.parent / "bench_postrun.py"
    out = subprocess.run([sys.executable, str(bench), "--traders", "300", "--steps", "20",
                          "--repeat", "1"], capture_output=True, text=True, timeout=300,
                         check=True).stdout
    for piece in ("events frame", "positions table", "events.parquet", "events.csv",
                  "positions.parquet", "world.json"):
        assert f"| {piece} |" in out
    assert "with CSV (before issue 14)" in out and "without CSV (the default)" in out
