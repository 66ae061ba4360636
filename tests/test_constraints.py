"""Bounds declared once, on the parameter fields: the checks and the JSON Schema follow them.

Every case here is generated from the ``Annotated`` constraints of :mod:`contagion.params`,
so a new constrained field is covered without touching this file; a new parameter class
needs a valid instance in ``BASE`` (a test says so).
"""

from __future__ import annotations

import dataclasses
import math
import re
import subprocess
import sys
import typing
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion import params
from contagion.constraints import (
    NAME_PATTERN,
    Bool,
    Constraint,
    Int,
    Name,
    OneOf,
    Real,
    Text,
    check_fields,
    field_constraints,
)
from contagion.errors import ParameterError

CLASSES = [getattr(params, name) for name in params.__all__]

_COLLATERAL = params.CollateralParams(asset="ETH", oracle="O", ltv=0.7, liquidation_threshold=0.8,
                                      liquidation_bonus=0.05)

#: The required fields of a valid instance of every parameter class.
BASE: dict[str, dict[str, Any]] = {
    "AssetParams": {"name": "ETH", "kind": "volatile", "initial_price_usd": 2000.0},
    "BorrowParams": {"asset": "BTC", "oracle": "O"},
    "BridgeParams": {"name": "B", "asset": "wETH", "locked_units": 1e5},
    "ClearingHouseParams": {"name": "CCP", "asset": "ETH", "oracle": "O",
                            "members": (params.ClearingMemberParams(name="M", notional_usd=1e6),)},
    "ClearingMemberParams": {"name": "M", "notional_usd": 1e6},
    "ClearingParams": {},
    "CollateralParams": {"asset": "ETH", "oracle": "O", "ltv": 0.7, "liquidation_threshold": 0.8,
                         "liquidation_bonus": 0.05},
    "CreditLinkParams": {"lender": "A", "borrower": "B", "amount_usd": 1e6},
    "CustodialParams": {"name": "CEX"},
    "EModeParams": {"name": "E", "assets": ("ETH", "USDC"), "ltv": 0.9,
                    "liquidation_threshold": 0.93, "liquidation_bonus": 0.01},
    "ExploitParams": {"venue": "M", "notional_usd": 1e6, "collateral_usd": 1e6},
    "FirmParams": {"name": "F", "lending": "L", "collateral_usd": (("ETH", 1e6),)},
    "InsuranceFundParams": {"name": "Fund", "balance_usd": 1e6},
    "InterestRateParams": {},
    "LendingParams": {"name": "L", "collateral": (_COLLATERAL,)},
    "LiquidatorParams": {"name": "Liq"},
    "LiquidityShockParams": {"assets": ("ETH",), "start_step": 1, "duration_steps": 2},
    "MarketParams": {},
    "OptionSeriesParams": {"asset": "ETH"},
    "OracleParams": {"name": "O", "asset": "ETH"},
    "PegParams": {"name": "Terra", "stable": "UST", "token": "LUNA", "stable_pool": "a",
                  "token_pool": "b", "stable_supply_units": 1e9, "token_supply_units": 1e8},
    "PerpMarketParams": {"asset": "BTC", "oracle": "O2"},
    "PerpParams": {"name": "P", "asset": "ETH", "oracle": "O"},
    "PoolManipulationParams": {"pool": "P", "start_step": 1, "duration_steps": 2,
                               "notional_usd_per_step": 1e5},
    "PoolParams": {"name": "P", "base": "ETH", "reserve_base": 1e3},
    "PriceModelParams": {"assets": ("ETH", "BTC")},
    "PricePathParams": {"asset": "ETH"},
    "SupplierRunParams": {},
    "TraderParams": {},
    "VolSurfaceParams": {"asset": "ETH"},
    "YieldVenueParams": {"name": "Anchor", "asset": "UST", "pool": "a", "deposits_usd": 1e9},
}

#: Other fields a value needs to pass the checks that involve several fields.
CONTEXT: dict[tuple[str, str, Any], dict[str, Any]] = {
    ("AssetParams", "kind", "stable"): {"initial_price_usd": 1.0},
    ("AssetParams", "kind", "algo_stable"): {"initial_price_usd": 1.0},
    ("AssetParams", "kind", "venue_token"): {"issuer": "CEX"},
    ("PricePathParams", "kind", "replay"): {"file": "prices.csv", "column": "ETH"},
    ("OracleParams", "source", "pool_spot"): {"pool": "P"},
    ("OracleParams", "source", "pool_twap"): {"pool": "P"},
    ("CollateralParams", "ltv", 0): {"liquidation_threshold": 0.8},
    ("CollateralParams", "liquidation_bonus", 0.5): {"liquidation_threshold": 0.6, "ltv": 0.5},
    ("EModeParams", "liquidation_bonus", 0.5): {"liquidation_threshold": 0.6, "ltv": 0.5},
    ("CollateralParams", "debt_ceiling_usd", 0): {"isolated": True},
    ("CollateralParams", "debt_ceiling_usd", 1e15): {"isolated": True},
    ("PerpParams", "initial_margin_frac", 1): {"mean_leverage": 1.0},
    ("PerpParams", "maintenance_margin_frac", 1): {"initial_margin_frac": 1.0, "mean_leverage": 1.0},
    ("CustodialParams", "liquid_reserve_frac", 1): {"supply_to_lending_frac": 0.0},
    ("CustodialParams", "supply_to_lending_frac", 1): {"liquid_reserve_frac": 0.0},
    ("LendingParams", "leftover_rule", True): {"close_factor_rule": "v3.3"},
    # a cadence, a lag or borrowed reserves need a proof kind other than the exact ratio
    ("CustodialParams", "proof_every_steps", 1_000_000): {"proof_kind": "reserves"},
    ("CustodialParams", "proof_lag_steps", 1_000_000): {"proof_kind": "reserves"},
    ("CustodialParams", "borrowed_reserves_usd", 1e15): {"proof_kind": "reserves"},
}

#: For a field that a check across fields also bounds (a narrowed range, ``ltv <=
#: liquidation_threshold``...): the other fields' values that bound it least.
LOOSEST: dict[tuple[str, str], dict[str, Any]] = {
    ("CollateralParams", "ltv"): {"liquidation_threshold": 1 - 1e-12, "liquidation_bonus": 0.0},
    ("CollateralParams", "liquidation_bonus"): {"liquidation_threshold": 0.6, "ltv": 0.5},
    ("CollateralParams", "debt_ceiling_usd"): {"isolated": True},
    ("EModeParams", "ltv"): {"liquidation_threshold": 1 - 1e-12, "liquidation_bonus": 0.0},
    ("EModeParams", "liquidation_bonus"): {"liquidation_threshold": 0.6, "ltv": 0.5},
    ("CustodialParams", "liquid_reserve_frac"): {"supply_to_lending_frac": 0.0},
    ("CustodialParams", "supply_to_lending_frac"): {"liquid_reserve_frac": 0.0},
    ("PerpParams", "maintenance_margin_frac"): {"initial_margin_frac": 1.0, "mean_leverage": 1.0},
    ("PerpParams", "mean_leverage"): {"initial_margin_frac": 1e-12, "maintenance_margin_frac": 1e-12},
    ("YieldVenueParams", "max_exit_depeg_frac"): {"min_exit_depeg_frac": 1e-12},
    ("CustodialParams", "proof_every_steps"): {"proof_kind": "reserves"},
    ("CustodialParams", "proof_lag_steps"): {"proof_kind": "reserves"},
    ("CustodialParams", "hidden_liabilities_frac"): {"proof_kind": "reserves"},
    ("CustodialParams", "borrowed_reserves_usd"): {"proof_kind": "reserves"},
}

#: Number, flag and name fields that carry no constraint, on purpose (their values are
#: free, or checked against the rest of the scenario in contagion.scenario).
UNCONSTRAINED = {
    ("MarketParams", "numeraire"),
}


def _cases() -> list[tuple[type, str, Constraint]]:
    return [(cls, name, rule) for cls in CLASSES for name, rule in field_constraints(cls)]


CASES = _cases()
IDS = [f"{cls.__name__}.{name}" for cls, name, _ in CASES]


def build(cls: type, **values: Any) -> Any:
    return cls(**{**BASE[cls.__name__], **values})


def rejection(cls: type, field: str, value: Any, context: dict[str, Any] | None = None
              ) -> ParameterError | None:
    """The error naming ``field`` that ``value`` raises, or None if the field's checks pass."""
    kwargs = {**(context or {}), field: value}
    try:
        build(cls, **kwargs)
    except ParameterError as exc:
        if exc.name.rsplit(".", 1)[-1] == field:
            return exc
    return None


def _below(x: float) -> float:
    return math.nextafter(x, -math.inf)


def _above(x: float) -> float:
    return math.nextafter(x, math.inf)


def outside(rule: Constraint) -> list[Any]:
    """Values just outside each declared bound, and values of the wrong kind."""
    if isinstance(rule, Real):
        bad: list[Any] = ["1", True, None, math.nan]
        if rule.low is not None:
            bad.append(rule.low if rule.low_open else _below(rule.low))
            bad.append(-math.inf)
        if rule.high is not None:
            bad.append(rule.high if rule.high_open else _above(rule.high))
            if not rule.allow_inf:  # where inf is allowed it means unlimited, above any bound
                bad.append(math.inf)
        if not rule.allow_inf:
            bad += [math.inf, -math.inf]
        return bad
    if isinstance(rule, Int):
        bad = [2.5, 3.0, True, "3", None]
        if rule.low is not None:
            bad.append(rule.low - 1)
        if rule.high is not None:
            bad.append(rule.high + 1)
        return bad
    if isinstance(rule, OneOf):
        return ["not-a-choice", None, 0]
    if isinstance(rule, Bool):
        return [0, 1, "true", None]
    if isinstance(rule, Name):
        return ["", "a b", "a.b", "a,b", 7, None]
    if isinstance(rule, Text):
        return ["", "  \t", None, 7]
    raise AssertionError(f"no test values for {rule!r}")


def at_bounds(rule: Constraint) -> list[Any]:
    """Values at each closed bound (and every choice, both flags...): all allowed."""
    if isinstance(rule, Real):
        good: list[Any] = [b for b, is_open in ((rule.low, rule.low_open), (rule.high, rule.high_open))
                           if b is not None and not is_open]
        if rule.allow_inf and rule.high is None:
            good.append(math.inf)
        return good
    if isinstance(rule, Int):
        return [b for b in (rule.low, rule.high) if b is not None]
    if isinstance(rule, OneOf):
        return list(rule.choices)
    if isinstance(rule, Bool):
        return [True, False]
    if isinstance(rule, Name):
        return ["Ab-9_x/y", "Ω"]
    if isinstance(rule, Text):
        return ["x", " panic sellers "]
    raise AssertionError(f"no test values for {rule!r}")


# ----------------------------------------------------------------------------- the classes
def test_every_parameter_class_has_a_valid_base_instance() -> None:
    assert sorted(BASE) == sorted(params.__all__), "add the new class to BASE"
    for cls in CLASSES:
        build(cls)


def test_every_number_flag_and_name_field_is_constrained() -> None:
    """A new float/int/bool field, or a name, needs a constraint (or a reason, above)."""
    missing = []
    for cls in CLASSES:
        hints = typing.get_type_hints(cls)
        constrained = dict(field_constraints(cls))
        for f in dataclasses.fields(cls):
            scalar = hints[f.name] in (float, int, bool) or f.name == "name"
            if scalar and f.name not in constrained and (cls.__name__, f.name) not in UNCONSTRAINED:
                missing.append(f"{cls.__name__}.{f.name}")
    assert not missing


def test_names_are_checked_by_the_name_rule() -> None:
    for cls in CLASSES:
        rule = dict(field_constraints(cls)).get("name")
        if "name" in {f.name for f in dataclasses.fields(cls)}:
            assert isinstance(rule, Name), cls.__name__


def test_a_narrowed_field_comes_after_the_field_that_narrows_it() -> None:
    """check_fields validates the narrowing field before __post_init__ uses it."""
    for cls, name, rule in CASES:
        if rule.narrowed_by is not None:
            order = [f.name for f in dataclasses.fields(cls)]
            assert order.index(rule.narrowed_by) < order.index(name), f"{cls.__name__}.{name}"
            assert (cls.__name__, name) in LOOSEST


def test_fields_are_checked_in_field_order() -> None:
    with pytest.raises(ParameterError, match=r"'pools\[P\].reserve_base' = -1"):
        build(params.PoolParams, reserve_base=-1, fee_frac=0.5)
    with pytest.raises(ParameterError, match=r"'traders.wealth_sigma'"):
        build(params.TraderParams, wealth_sigma=6, agent_limit=0)


def test_check_fields_reads_a_class_once() -> None:
    assert field_constraints(params.PoolParams) is field_constraints(params.PoolParams)
    check_fields(build(params.PoolParams), "pools[P]")


def test_constraints_module_does_not_need_pydantic() -> None:
    code = ("import sys, contagion.constraints, contagion.params, contagion.scenario; "
            "assert 'pydantic' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- the checks
@pytest.mark.parametrize(("cls", "field", "rule"), CASES, ids=IDS)
def test_a_value_outside_the_declared_bounds_is_rejected_naming_the_field(cls, field, rule) -> None:
    context = LOOSEST.get((cls.__name__, field), {})
    for value in outside(rule):
        err = rejection(cls, field, value, context)
        assert err is not None, f"{cls.__name__}.{field} = {value!r} passed"
        assert err.value is value or err.value == value or value != value


@pytest.mark.parametrize(("cls", "field", "rule"), CASES, ids=IDS)
def test_a_value_at_a_closed_bound_is_allowed(cls, field, rule) -> None:
    for value in at_bounds(rule):
        obj = build(cls, **CONTEXT.get((cls.__name__, field, value), {}), **{field: value})
        assert getattr(obj, field) == value


def test_the_messages_state_the_declared_range() -> None:
    cases = [
        (params.PoolParams, "fee_frac", 0.5, "0 <= x <= 0.1"),
        (params.AssetParams, "external_depth_usd", 0,  # issue 11: was 0 < x
         "1e-06 <= x <= 1e+15, or inf (unlimited)"),
        (params.AssetParams, "external_depth_usd", 1e-310, "1e-06 <= x <= 1e+15, or inf (unlimited)"),
        (params.AssetParams, "initial_price_usd", 5e-324, "1e-12 <= x <= 1,000,000,000,000"),
        (params.PoolParams, "reserve_base", 1e-310, "1e-09 <= x <= 1e+18"),
        (params.TraderParams, "mean_wealth_usd", 1e-310, "1e-06 <= x <= 1e+15"),
        (params.TraderParams, "mean_wealth_usd", 1e308, "1e-06 <= x <= 1e+15"),
        (params.LiquidatorParams, "capital_usd", 1e308, "0 <= x <= 1e+15, or inf (unlimited)"),
        (params.TraderParams, "n_traders", 0, "1 <= x <= 50,000,000"),
        (params.TraderParams, "n_traders", 2.5, "an integer, 1 <= x <= 50,000,000"),
        (params.PerpParams, "shortfall_policy", "pray", "one of 'adl', 'socialise'"),
        (params.PerpParams, "maintenance_margin_frac", 0.2, "0 < x <= 0.1"),
        (params.PerpParams, "mean_leverage", 50, "1 <= x <= 10"),
        (params.YieldVenueParams, "max_exit_depeg_frac", 0.001, "0.005 <= x <= 1"),
        (params.CustodialParams, "freeze_when_insolvent", 1, "true or false"),
        (params.OracleParams, "name", "a b", "a non-empty name of letters, digits, '-', '_' or '/'"),
        (params.PoolManipulationParams, "actor", " ",
         "a non-empty description of who trades, e.g. 'panic sellers'"),
    ]
    for cls, field, value, allowed in cases:
        err = rejection(cls, field, value)
        assert err is not None and err.allowed == allowed, (cls.__name__, field, err)


# ----------------------------------------------------------------------------- the schema
@pytest.fixture(scope="module")
def schema_defs() -> dict[str, Any]:
    pydantic = pytest.importorskip("pydantic")
    from contagion.scenario import Scenario

    schema: dict[str, Any] = pydantic.TypeAdapter(Scenario).json_schema()
    return schema["$defs"]


def _expected_keywords(rule: Constraint) -> dict[str, Any]:
    """What the JSON Schema should say, written out independently of the hooks."""
    if isinstance(rule, Real):
        out: dict[str, Any] = {"type": "number"}
        if rule.low is not None:
            out["exclusiveMinimum" if rule.low_open else "minimum"] = rule.low
        if rule.high is not None and not rule.allow_inf:  # TOML's inf (unlimited) passes
            out["exclusiveMaximum" if rule.high_open else "maximum"] = rule.high
        return out
    if isinstance(rule, Int):
        out = {"type": "integer"}
        if rule.low is not None:
            out["minimum"] = rule.low
        if rule.high is not None:
            out["maximum"] = rule.high
        return out
    if isinstance(rule, OneOf):
        return {"type": "string", "enum": list(rule.choices)}
    if isinstance(rule, Bool):
        return {"type": "boolean"}
    if isinstance(rule, Name):
        return {"type": "string", "minLength": 1, "pattern": NAME_PATTERN}
    if isinstance(rule, Text):
        return {"type": "string", "minLength": 1, "pattern": "\\S"}
    raise AssertionError(rule)


BOUND_KEYWORDS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum", "pattern",
                  "minLength", "type"}


@pytest.mark.parametrize(("cls", "field", "rule"), CASES, ids=IDS)
def test_the_json_schema_carries_the_declared_bounds(schema_defs, cls, field, rule) -> None:
    prop = schema_defs[cls.__name__]["properties"][field]
    said = {k: v for k, v in prop.items() if k in BOUND_KEYWORDS}
    assert said == _expected_keywords(rule)


@pytest.mark.parametrize(("cls", "field", "rule"), CASES, ids=IDS)
def test_the_json_schema_accepts_what_the_checks_accept(schema_defs, cls, field, rule) -> None:
    """Probe the field's schema and its checks with the same values (JSON ones: finite
    numbers, ASCII strings, flags; ``2.0`` is an integer to JSON Schema, not to TOML)."""
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(schema_defs[cls.__name__]["properties"][field])
    context = LOOSEST.get((cls.__name__, field), {})
    probes: list[Any] = ["x", "", "a b", True, False, None, 0, 1, -1, 0.5, 2.5, 1e9, -1e9]
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in validator.schema:
            b = validator.schema[key]
            eps = 1e-9 * max(1.0, abs(b))
            probes += [b, b - eps, b + eps] + ([b - 1, b + 1] if isinstance(b, int) else [])
    probes += list(validator.schema.get("enum", ())) + [chr(c) for c in range(32, 127)]
    for value in probes:
        if isinstance(rule, Int) and isinstance(value, float) and value.is_integer():
            continue
        checked = rejection(cls, field, value, {**context,
                                                **CONTEXT.get((cls.__name__, field, value), {})})
        assert validator.is_valid(value) == (checked is None), (
            f"{cls.__name__}.{field} = {value!r}: schema says {validator.is_valid(value)}")


def test_the_name_pattern_is_the_name_rule_on_ascii() -> None:
    rule = Name()
    for c in map(chr, range(128)):
        for text in (c, f"a{c}b"):
            try:
                rule.check("name", text)
                ok = True
            except ParameterError:
                ok = False
            assert bool(re.fullmatch(NAME_PATTERN, text)) == ok, repr(text)


# ----------------------------------------------------------------------------- hypothesis
def strategy(rule: Constraint) -> st.SearchStrategy[Any]:
    """Any allowed value of a field."""
    if isinstance(rule, Real):
        return st.floats(min_value=rule.low, max_value=rule.high, exclude_min=rule.low_open,
                         exclude_max=rule.high_open, allow_nan=False,
                         allow_infinity=rule.allow_inf and rule.high is None)
    if isinstance(rule, Int):
        return st.integers(min_value=rule.low, max_value=rule.high)
    if isinstance(rule, OneOf):
        return st.sampled_from(rule.choices)
    if isinstance(rule, Bool):
        return st.booleans()
    if isinstance(rule, Name):
        return st.from_regex(r"[A-Za-z0-9_/-]{1,12}", fullmatch=True)
    if isinstance(rule, Text):
        return st.text(min_size=1).filter(str.strip)
    raise AssertionError(rule)


# Classes whose fields have no checks across fields (OracleParams reads a pool when its
# source is one, so the pool is given).
FREE = [(params.TraderParams, {}), (params.LiquidatorParams, {}),
        (params.PricePathParams, {"file": "prices.csv", "column": "ETH"}),
        (params.PoolParams, {}), (params.OracleParams, {"pool": "P"}),
        (params.MarketParams, {}), (params.ClearingParams, {})]


@pytest.mark.parametrize(("cls", "extra"), FREE, ids=[c.__name__ for c, _ in FREE])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_allowed_values_construct(cls, extra, data) -> None:
    values = {name: data.draw(strategy(rule), label=name) for name, rule in field_constraints(cls)}
    obj = build(cls, **extra, **values)
    for name, value in values.items():
        assert getattr(obj, name) == value
