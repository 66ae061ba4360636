"""The calibration loop on a tiny budget: deterministic, bounded, recorded (not full fits)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from experiments.calibrate import PROBLEMS, Param, Target, calibrate, evaluate, main
from experiments.validation.checks import Band

TINY = replace(PROBLEMS["mango"], n_traders=100)


def test_params_map_the_unit_box_to_their_bounds() -> None:
    lin, lg, i = Param("a", 2.0, 4.0), Param("b", 1e3, 1e5, log=True), Param("c", 2, 8, integer=True)
    assert (lin.value(0), lin.value(1), lin.value(0.5)) == (2.0, 4.0, 3.0)
    assert lg.value(0.5) == pytest.approx(1e4)
    assert i.value(0.5) == 5 and isinstance(i.value(0.5), int)
    assert lin.value(-1) == 2.0 and lin.value(2) == 4.0
    for p, x in ((lin, 3.3), (lg, 2.5e4)):
        assert p.value(p.unit(x)) == pytest.approx(x)


def test_loss_is_zero_inside_the_bands_and_grows_outside() -> None:
    values = TINY.current()
    inside = replace(TINY, targets=(Target("peak", Band(1.0, 1e3, "wide"),
                                           TINY.targets[0].measure),))
    outside = replace(TINY, targets=(Target("peak", Band(100.0, 200.0, "far"),
                                            TINY.targets[0].measure),))
    assert evaluate(inside, values, (1,)).loss == 0.0
    ev = evaluate(outside, values, (1,))
    peak = ev.figures["peak"][0]
    assert ev.loss == pytest.approx(((peak - 100.0) / 100.0) ** 2)


def test_a_tiny_fit_is_deterministic_within_bounds_and_written(tmp_path: Path) -> None:
    a = calibrate(TINY, budget=5, seeds=(1,), seed=3)
    b = calibrate(TINY, budget=5, seeds=(1,), seed=3)
    assert a.after.values == b.after.values and a.after.loss == b.after.loss
    assert a.evaluations <= 5
    assert a.after.loss <= a.before.loss
    doc = a.to_json()
    for p, spec in zip(TINY.params, doc["params"], strict=True):
        assert spec["low"] <= spec["fitted"] <= spec["high"]
        assert spec["current"] == TINY.current()[p.name]
    assert {t["target"] for t in doc["before"]["targets"]} == {t.name for t in TINY.targets}


def test_command_line_writes_the_preset_json(tmp_path: Path) -> None:
    assert main(["mango", "--budget", "3", "--seeds", "1", "--n-traders", "100", "--quiet",
                 "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "mango.json").read_text())
    assert doc["preset"] == "mango" and doc["settings"]["budget"] == 3
    assert "residual" in doc["after"]["targets"][0]
    assert {r["claim"] for r in doc["checks"]} >= {"$116M was borrowed against unrealised PnL"}
    assert main(["mango", "--budget", "0", "--out", str(tmp_path)]) == 2


def test_the_report_shows_each_fit_with_its_residuals(tmp_path: Path) -> None:
    from experiments.validation.report import render_calibration

    assert render_calibration(tmp_path) == ""
    assert main(["mango", "--budget", "2", "--seeds", "1", "--n-traders", "100", "--quiet",
                 "--out", str(tmp_path)]) == 0
    text = render_calibration(tmp_path)
    assert "## Calibration" in text and "### mango" in text
    assert "| `pump_usd` | 3e+06 to 5e+06 | 4e+06 |" in text
    assert "| oracle peak / start | x19.2 to x28.8 |" in text
    assert "residual after" in text
    assert "validation checks at the fitted values" in text


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_every_corner_of_every_box_is_a_valid_scenario(name: str) -> None:
    problem = PROBLEMS[name]
    for corner in (0.0, 1.0):
        problem.scenario({p.name: p.value(corner) for p in problem.params}, n_traders=20)
