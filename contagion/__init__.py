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

Importing contagion does not import Dash, Plotly or the presets in ``models``.
"""

from contagion.errors import (
    ContagionError,
    InvariantError,
    NetworkFormatError,
    ParameterError,
    PositionsError,
    UnknownScenarioError,
)
from contagion.events import EventLog, trace_cause
from contagion.metrics import run_summary
from contagion.model import ContagionModel
from contagion.positions import check_positions, read_positions
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
