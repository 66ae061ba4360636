"""Every shipped experiment runs end to end with --smoke, and its report is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from contagion.report import write_report
from contagion.sweep import load_results, sweep_command

EXPERIMENTS = sorted((Path(__file__).resolve().parents[2] / "experiments").glob("*.toml"))


def test_there_are_at_least_three_shipped_experiments() -> None:
    assert len(EXPERIMENTS) >= 3


@pytest.mark.parametrize("spec", EXPERIMENTS, ids=lambda p: p.stem)
def test_shipped_experiment_runs_with_smoke(spec: Path, tmp_path: Path) -> None:
    out = tmp_path / spec.stem
    code = sweep_command(str(spec), workers=None, scheduler=None, out=str(out), resume=False,
                         smoke=True, serial=True)
    assert code == 0
    results = load_results(out)
    assert len(results) >= 4 and (results["status"] == "ok").all()
    report = write_report(out)
    assert (report / "index.html").exists()
    assert (report / "venue_credit_risk.csv").exists()
