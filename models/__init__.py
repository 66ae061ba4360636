"""Ready scenario models: functions that return a validated :class:`contagion.Scenario`.

Use :func:`get_scenario` with a name from :data:`SCENARIOS` and keyword overrides of the
preset's own parameters, e.g. ``get_scenario("default", n_traders=1_000_000)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from contagion.errors import ParameterError, UnknownScenarioError
from contagion.scenario import Scenario
from models.black_thursday import black_thursday
from models.classic.fire_sales_preset import fire_sales_demo
from models.classic.interbank import debtrank_demo, eisenberg_noe_demo, gai_kapadia_demo
from models.default import default_market
from models.ftx import ftx_collapse
from models.mango import mango_markets
from models.october_2025 import october_2025
from models.steth_celsius import steth_celsius
from models.terra import terra_ust

__all__ = ["SCENARIOS", "get_scenario", "scenario_parameters"]

SCENARIOS: dict[str, Callable[..., Scenario]] = {
    "default": default_market,
    "ftx": ftx_collapse,
    "mango": mango_markets,
    "black_thursday": black_thursday,
    "october_2025": october_2025,
    "steth_celsius": steth_celsius,
    "terra": terra_ust,
    "classic_eisenberg_noe": eisenberg_noe_demo,
    "classic_gai_kapadia": gai_kapadia_demo,
    "classic_debtrank": debtrank_demo,
    "classic_fire_sales": fire_sales_demo,
}


def scenario_parameters(name: str) -> dict[str, Any]:
    """The preset's keyword parameters and their defaults."""
    if name not in SCENARIOS:
        raise UnknownScenarioError(name, sorted(SCENARIOS))
    sig = inspect.signature(SCENARIOS[name])
    return {k: p.default for k, p in sig.parameters.items()}


def get_scenario(name: str = "default", **overrides: Any) -> Scenario:
    """Build the preset ``name`` with ``overrides`` of its keyword parameters.

    Examples
    --------
    >>> get_scenario("default", n_traders=500).traders.n_traders
    500
    >>> get_scenario("nope")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    contagion.errors.UnknownScenarioError: unknown scenario 'nope'; known scenarios: ...default...
    """
    params = scenario_parameters(name)
    for key in overrides:
        if key not in params:
            raise ParameterError(key, overrides[key], "a parameter of scenario "
                                 f"{name!r}: " + ", ".join(params))
    return SCENARIOS[name](**overrides)
