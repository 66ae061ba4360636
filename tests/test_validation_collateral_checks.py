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


def test_emode_accounts_are_valued_and_liquidated_at_the_categorys_terms() -> None:
    check = collateral_checks._emode_check(SMALL)
    assert check.passed, check.residual_text
    assert check.verdicts[1].figure == 1.0 and "liquidations over seeds" in check.observed


def test_an_engine_that_forgets_emode_in_the_health_factor_is_a_miss(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from contagion.agents.collateral_quality import CollateralRules

    def plain(self, rows=None):  # type: ignore[no-untyped-def]
        coll = self.book.collateral if rows is None else self.book.collateral[rows]
        return coll @ (np.asarray(self.prices()) * self.lt)

    monkeypatch.setattr(CollateralRules, "weighted_collateral", plain)
    check = collateral_checks._emode_check(SMALL)
    assert not check.passed
    assert check.verdicts[0].figure > 0.1  # 93% against 80%: off by 16%
