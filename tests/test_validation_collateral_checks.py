"""The validation report's collateral-quality line (experiments/validation/collateral_checks.py)
agrees, and would show a miss: an engine that rounded thresholds to the nearest basis point
instead of down fails it."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.validation import collateral_checks
from experiments.validation.checks import SMALL


def test_the_engines_thresholds_are_the_formulas() -> None:
    check = collateral_checks._threshold_check(SMALL)
    assert check.passed, check.residual_text
    assert check.verdicts[0].figure == 1.0
    assert "updates" in check.observed and "19.46%" in check.observed


def test_thresholds_rounded_up_are_a_miss(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("contagion.agents.collateral_quality._floor_bps",
                        lambda x: np.ceil(x * 1e4) / 1e4)
    check = collateral_checks._threshold_check(SMALL)
    assert not check.passed
    assert check.verdicts[0].figure < 1.0
