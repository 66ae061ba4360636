"""The run form: which preset parameters a user can edit, and their validation.

Allowed ranges are not repeated here: each value is checked by building the preset with it,
so the message next to a field is the preset's own :class:`ParameterError` (parameter name,
value, allowed range), the same one the CLI prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contagion.errors import ParameterError
from contagion.scenario import Scenario
from models import get_scenario, scenario_parameters

__all__ = ["FIELDS", "Field", "build", "coerce", "fields_for", "validate"]


@dataclass(frozen=True)
class Field:
    """One editable parameter of a preset."""

    key: str
    label: str
    kind: str  # number | int | bool | choice
    choices: tuple[str, ...] = ()
    step: float | None = None
    help: str = ""


FIELDS: tuple[Field, ...] = (
    Field("n_traders", "Traders", "int", step=100, help="number of trader accounts"),
    Field("shock_frac", "Shock size", "number", step=0.05, help="fraction ETH falls"),
    Field("shock_duration_steps", "Shock duration (steps)", "int", step=1,
          help="steps the fall takes (5 minutes each)"),
    Field("mean_leverage", "Perp leverage (mean)", "number", step=0.5),
    Field("oracle_delay_steps", "Oracle delay (steps)", "int", step=1),
    Field("oracle_heartbeat_steps", "Oracle heartbeat (steps)", "int", step=1),
    Field("twap_window_steps", "TWAP window (steps)", "int", step=1),
    Field("liquidator_capital_usd", "Liquidator capital per step ($)", "number", step=1e6),
    Field("liquidator_max_per_step", "Liquidations per step (max)", "int", step=10),
    Field("insurance_fund_scale", "Insurance funds (x)", "number", step=0.5),
    Field("amm_depth_scale", "AMM depth (x)", "number", step=0.25),
    Field("cross_margin", "Cross-margin", "bool"),
    Field("cross_margin_settlement_steps", "Cross-margin settlement (steps)", "int", step=1),
    Field("shortfall_policy", "After the fund: ", "choice", choices=("adl", "socialise")),
    Field("solvency_proofs", "Exchange publishes solvency proofs", "bool"),
    Field("dynamic_margin", "Dynamic perp margin", "bool"),
)


def fields_for(scenario: str) -> list[tuple[Field, Any]]:
    """The form fields the preset has, each with its default value."""
    params = scenario_parameters(scenario)
    return [(f, params[f.key]) for f in FIELDS if f.key in params]


def coerce(field: Field, value: Any) -> Any:
    """A form value as the preset expects it (numbers arrive as int/float or None)."""
    if field.kind == "bool":
        return bool(value)  # a checklist's value is a list: non-empty means on
    if value is None or value == "":
        raise ParameterError(field.key, value, "a value", "the field is empty")
    if field.kind == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    return value


def validate(scenario: str, values: dict[str, Any]) -> dict[str, str]:
    """Per field, the error message ('' when valid) for these form values."""
    errors: dict[str, str] = {}
    by_key = {f.key: f for f, _ in fields_for(scenario)}
    for key, raw in values.items():
        field = by_key.get(key)
        if field is None:
            continue
        try:
            get_scenario(scenario, **{key: coerce(field, raw)})
            errors[key] = ""
        except ParameterError as exc:
            errors[key] = f"{exc.value!r} is not allowed: {exc.allowed}" + (
                f" ({exc.hint})" if exc.hint else "")
    return errors


def build(scenario: str, values: dict[str, Any]) -> Scenario:
    """The scenario for these form values (raises ParameterError naming a bad one)."""
    by_key = {f.key: f for f, _ in fields_for(scenario)}
    kwargs = {k: coerce(by_key[k], v) for k, v in values.items() if k in by_key}
    return get_scenario(scenario, **kwargs)
