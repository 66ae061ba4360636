"""contagion: agent-based simulator of counterparty credit exposure in crypto and DeFi.

The public API::

    from contagion import ContagionModel, simulate
    from models import get_scenario

    model = ContagionModel(get_scenario("default"), seed=0)
    model.run()
    model.datacollector.get_model_vars_dataframe()   # prices, oracles, liquidations, ...
    model.events_frame                               # every event with its cause
    model.network                                    # the exposure graph (NetworkX)
    model.positions_frame()                          # the books it started from

    ContagionModel(get_scenario("default"), seed=0, positions=read_positions("books.csv"))

Importing contagion does not import Dash, Plotly or the presets in ``models``, nor numpy,
pandas or Mesa: the public names load their modules on first use (PEP 562).
"""

from typing import TYPE_CHECKING, Any

from contagion.errors import (
    ContagionError,
    InvariantError,
    NetworkFormatError,
    OutputError,
    ParameterError,
    PositionsError,
    UnknownScenarioError,
)

if TYPE_CHECKING:  # what mypy sees; at run time they load on first use (PEP 562)
    from contagion.events import EventLog, trace_cause
    from contagion.metrics import run_summary
    from contagion.model import ContagionModel
    from contagion.positions import check_positions, read_positions
    from contagion.runner import RunResult, simulate
    from contagion.scenario import Scenario, override

#: public name -> the module that defines it. ``import contagion`` loads none of them, so
#: the command line answers ``--help`` or a bad option without loading numpy, pandas or
#: Mesa; ``from contagion import simulate`` loads what ``simulate`` needs, on first use.
_LAZY = {
    "EventLog": "contagion.events",
    "trace_cause": "contagion.events",
    "run_summary": "contagion.metrics",
    "ContagionModel": "contagion.model",
    "check_positions": "contagion.positions",
    "read_positions": "contagion.positions",
    "RunResult": "contagion.runner",
    "simulate": "contagion.runner",
    "Scenario": "contagion.scenario",
    "override": "contagion.scenario",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'contagion' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__version__ = "0.1.0"

__all__ = [
    "ContagionError",
    "ContagionModel",
    "EventLog",
    "InvariantError",
    "NetworkFormatError",
    "OutputError",
    "ParameterError",
    "PositionsError",
    "RunResult",
    "Scenario",
    "UnknownScenarioError",
    "check_positions",
    "override",
    "read_positions",
    "run_summary",
    "simulate",
    "trace_cause",
]
