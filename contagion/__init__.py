"""contagion: agent-based simulator of counterparty credit exposure in crypto and DeFi.

The public API::

    from contagion import ContagionModel, simulate
    from models import get_scenario

    model = ContagionModel(get_scenario("default"), seed=0)
    model.run()
    model.datacollector.get_model_vars_dataframe()   # prices, oracles, liquidations, ...
    model.events_frame                               # every event with its cause
    model.network                                    # the exposure graph (NetworkX)

Importing contagion does not import Dash, Plotly or the presets in ``models``.
"""

from contagion.errors import (
    ContagionError,
    InvariantError,
    NetworkFormatError,
    ParameterError,
    UnknownScenarioError,
)
from contagion.events import EventLog, trace_cause
from contagion.metrics import run_summary
from contagion.model import ContagionModel
from contagion.runner import RunResult, simulate
from contagion.scenario import Scenario, override

__version__ = "0.1.0"

__all__ = [
    "ContagionError",
    "ContagionModel",
    "EventLog",
    "InvariantError",
    "NetworkFormatError",
    "ParameterError",
    "RunResult",
    "Scenario",
    "UnknownScenarioError",
    "override",
    "run_summary",
    "simulate",
    "trace_cause",
]
