"""The validation report's leftover-rule line (experiments/validation/leftover_checks.py)
agrees, and would show a miss: the same keeper without the rule fails the contract's test."""

from __future__ import annotations

from experiments.validation import leftover_checks
from experiments.validation.checks import SMALL


def test_every_liquidation_under_the_rule_passes_the_contracts_test() -> None:
    check = leftover_checks._leftover_check(SMALL)
    assert check.passed, check.residual_text
    assert check.verdicts[0].figure == 1.0
    assert "would have reverted MUST_NOT_LEAVE_DUST" in check.observed


def test_without_the_rule_some_liquidations_fail_it() -> None:
    ok, total = leftover_checks._liquidations_passing(False, 0, 1000)
    assert total > 500 and 0 < total - ok < total


def test_the_test_is_the_contracts() -> None:
    # $400 of debt and $600 of ETH left: both under the floor, the contract reverts
    assert not leftover_checks._passes(400.0, 0.3, 2000.0)
    assert leftover_checks._passes(0.0, 0.3, 2000.0)  # debt cleared: allowed
    assert leftover_checks._passes(400.0, 0.0, 2000.0)  # collateral all taken: allowed
    assert leftover_checks._passes(1000.0, 0.5, 2000.0)  # at the floor, both
    assert leftover_checks._passes(1000.0 - 1e-7, 0.5, 2000.0)  # float sizing at the floor
