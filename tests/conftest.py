"""Shared fixtures: small seeded runs of the default scenario, computed once per session."""

from __future__ import annotations

import pytest

from contagion.runner import RunResult, simulate
from models import get_scenario

SMALL = {"n_traders": 400}


@pytest.fixture(scope="session")
def shocked_run() -> RunResult:
    """The default scenario (400 traders), seed 1."""
    return simulate(get_scenario("default", **SMALL), seed=1, check_conservation=True)


@pytest.fixture(scope="session")
def calm_run() -> RunResult:
    """The default scenario without the shock."""
    return simulate(get_scenario("default", shock_frac=0.0, **SMALL), seed=1,
                    check_conservation=True)


@pytest.fixture(scope="session")
def isolated_run() -> RunResult:
    """The default scenario with cross-margining off."""
    return simulate(get_scenario("default", cross_margin=False, **SMALL), seed=1,
                    check_conservation=True)
