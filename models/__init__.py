"""Ready scenario models: functions that return a validated :class:`contagion.Scenario`.

Use :func:`get_scenario` with a name from :data:`SCENARIOS` and keyword overrides of the
preset's own parameters, e.g. ``get_scenario("default", n_traders=1_000_000)``.

Wherever a preset name is taken (here, the CLI, sweep specs, the dashboard), a scenario
file's path (``mine.toml`` or ``mine.json``, see :mod:`contagion.scenario_file`) is taken
too; its parameters are :data:`FILE_PARAMETERS` (``n_traders``, ``steps``), and any other
field is reached by a dotted path (:func:`contagion.scenario.override`). Every preset also
ships as a file in ``models/scenarios/`` (written from the preset with its defaults).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from contagion.errors import ParameterError, UnknownScenarioError
from contagion.scenario import Scenario, override
from models.black_thursday import black_thursday
from models.bridge import bridge_exploit
from models.catalog import PRESET_INFO, PresetInfo
from models.classic.fire_sales_preset import fire_sales_demo
from models.classic.interbank import debtrank_demo, eisenberg_noe_demo, gai_kapadia_demo
from models.clearing_house import clearing_house
from models.collateral_quality import collateral_quality
from models.crowded_longs import crowded_longs
from models.default import default_market
from models.emode_depeg import emode_depeg
from models.ftx import ftx_collapse
from models.lender_run import lender_run
from models.liquidation_dust import liquidation_dust
from models.lp_flight import lp_flight
from models.mango import mango_markets
from models.october_2025 import october_2025
from models.options_desk import options_desk
from models.regimes import broad_downturn, broken_correlation
from models.settlement_window import settlement_window
from models.solvency_proofs import solvency_proofs
from models.steth_celsius import steth_celsius
from models.terra import terra_ust

__all__ = [
    "FILE_PARAMETERS",
    "PRESET_INFO",
    "SCENARIOS",
    "SCENARIO_FILES",
    "PresetInfo",
    "get_scenario",
    "is_scenario_file",
    "scenario_parameters",
]

SCENARIOS: dict[str, Callable[..., Scenario]] = {
    "default": default_market,
    "ftx": ftx_collapse,
    "mango": mango_markets,
    "black_thursday": black_thursday,
    "october_2025": october_2025,
    "steth_celsius": steth_celsius,
    "terra": terra_ust,
    "broad_downturn": broad_downturn,
    "broken_correlation": broken_correlation,
    "lender_run": lender_run,
    "crowded_longs": crowded_longs,
    "lp_flight": lp_flight,
    "options_desk": options_desk,
    "settlement_window": settlement_window,
    "classic_eisenberg_noe": eisenberg_noe_demo,
    "classic_gai_kapadia": gai_kapadia_demo,
    "classic_debtrank": debtrank_demo,
    "classic_fire_sales": fire_sales_demo,
    "collateral_quality": collateral_quality,
    "clearing_house": clearing_house,
    "bridge_exploit": bridge_exploit,
    "liquidation_dust": liquidation_dust,
    "emode_depeg": emode_depeg,
    "solvency_proofs": solvency_proofs,
}


#: Where the presets ship as scenario files (``<name>.toml``, each the preset's defaults).
SCENARIO_FILES = Path(__file__).parent / "scenarios"

#: The parameters every scenario file has, and the field each one sets. As in the presets,
#: ``n_traders`` resizes the population at the same market size in dollars: it also scales
#: ``traders.mean_wealth_usd`` by old / new count (a dotted ``traders.n_traders`` does not).
FILE_PARAMETERS = {"n_traders": "traders.n_traders", "steps": "market.steps"}


def is_scenario_file(ref: str) -> bool:
    """Whether ``ref`` names a scenario file (a ``.toml`` or ``.json`` path), not a preset."""
    return isinstance(ref, str) and ref.lower().endswith((".toml", ".json"))


@lru_cache(maxsize=32)
def _load_file(path: str, mtime_ns: int, size: int, shown_as: str) -> Scenario:
    """The scenario file at ``path``, read again when it changes on disk (the cache key has
    its modification time and size); errors name it ``shown_as``, as the user wrote it."""
    from contagion.scenario_file import load

    return load(path, shown_as=shown_as)


def _file_scenario(ref: str) -> Scenario:
    path = os.path.abspath(ref)
    try:
        st = os.stat(path)
    except OSError:
        from contagion.errors import ScenarioFileError

        raise ScenarioFileError(f"{ref}: no such scenario file") from None
    return _load_file(path, st.st_mtime_ns, st.st_size, ref)


def scenario_parameters(name: str) -> dict[str, Any]:
    """The preset's keyword parameters and their defaults (for a scenario file: its
    :data:`FILE_PARAMETERS` and their values in the file)."""
    if is_scenario_file(name):
        sc = _file_scenario(name)
        return {"n_traders": sc.traders.n_traders, "steps": sc.market.steps}
    if name not in SCENARIOS:
        raise UnknownScenarioError(name, sorted(SCENARIOS))
    sig = inspect.signature(SCENARIOS[name])
    return {k: p.default for k, p in sig.parameters.items()}


def get_scenario(name: str = "default", **overrides: Any) -> Scenario:
    """Build the preset ``name`` with ``overrides`` of its keyword parameters (or read the
    scenario file ``name`` and set its :data:`FILE_PARAMETERS`).

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
    if is_scenario_file(name):
        scenario = _file_scenario(name)
        for key, value in overrides.items():
            if key == "n_traders" and isinstance(value, int) and not isinstance(value, bool) \
                    and value > 0:
                old = scenario.traders
                scenario = override(scenario, "traders.mean_wealth_usd",
                                    old.mean_wealth_usd * (old.n_traders / value))
            scenario = override(scenario, FILE_PARAMETERS[key], value)
        return scenario
    return SCENARIOS[name](**overrides)
