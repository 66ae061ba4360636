"""Every parameter is validated at construction, and errors name it with its range."""

from __future__ import annotations

import dataclasses
import re

import pytest

from contagion.errors import ParameterError, UnknownScenarioError
from contagion.model import ContagionModel
from contagion.params import (
    AssetParams,
    CollateralParams,
    CustodialParams,
    LendingParams,
    OracleParams,
    PerpParams,
    PoolParams,
    TraderParams,
)
from contagion.scenario import override
from models import get_scenario


@pytest.mark.parametrize(("build", "match"), [
    (lambda: TraderParams(n_traders=0), r"'traders.n_traders' = 0 .* 1 <= x"),
    (lambda: TraderParams(cross_margin_share=1.5), r"cross_margin_share' = 1.5 .* 0 <= x <= 1"),
    (lambda: PoolParams(name="P", base="ETH", reserve_base=-1), r"reserve_base' = -1"),
    (lambda: PoolParams(name="P", base="ETH", reserve_base=1, fee_frac=0.5), r"fee_frac"),
    (lambda: OracleParams(name="O", asset="ETH", source="pool_spot"), r"oracles\[O\].pool"),
    (lambda: OracleParams(name="O", asset="ETH", delay_steps=-1), r"delay_steps' = -1"),
    (lambda: OracleParams(name="O", asset="ETH", source="chainlink"), r"one of 'external'"),
    (lambda: CollateralParams(asset="ETH", oracle="O", ltv=0.9, liquidation_threshold=0.8,
                              liquidation_bonus=0.05), r"ltv' = 0.9 .* liquidation_threshold"),
    (lambda: CollateralParams(asset="ETH", oracle="O", ltv=0.8, liquidation_threshold=0.95,
                              liquidation_bonus=0.1), r"liquidation_bonus' = 0.1"),
    (lambda: PerpParams(name="P", asset="ETH", oracle="O", maintenance_margin_frac=0.2,
                        initial_margin_frac=0.1), r"maintenance_margin_frac' = 0.2"),
    (lambda: PerpParams(name="P", asset="ETH", oracle="O", shortfall_policy="pray"),
     r"shortfall_policy' = 'pray' .* 'adl', 'socialise'"),
    (lambda: CustodialParams(name="C", liquid_reserve_frac=0.8, supply_to_lending_frac=0.5),
     r"supply_to_lending_frac' = 0.5 .* <= 1 - liquid_reserve_frac"),
    (lambda: AssetParams(name="USDC", kind="stable", initial_price_usd=0.9), r"exactly 1.0"),
    (lambda: AssetParams(name="X", kind="venue_token", initial_price_usd=1), r"issuer"),
    (lambda: LendingParams(name="L", collateral=()), r"lending\[L\].collateral"),
])
def test_bad_parameter_is_rejected_with_its_name_and_range(build, match) -> None:
    with pytest.raises(ParameterError, match=match):
        build()


@pytest.mark.parametrize(("build", "field"), [
    (lambda: TraderParams(cross_margin=1), "traders.cross_margin"),
    (lambda: PerpParams(name="P", asset="ETH", oracle="O", dynamic_margin=0), "perps[P].dynamic_margin"),
    (lambda: CustodialParams(name="C", solvency_proofs="yes"), "custodial[C].solvency_proofs"),
])
def test_boolean_flags_are_checked_when_built_from_python(build, field) -> None:
    """Not only scenario files: 0/1 and strings are not flags (issue 11)."""
    with pytest.raises(ParameterError, match=rf"'{re.escape(field)}' = .* true or false"):
        build()


def test_parameter_error_is_also_a_value_error() -> None:
    with pytest.raises(ValueError):
        TraderParams(n_traders=-5)


@pytest.mark.parametrize(("key", "value", "match"), [
    ("n_traders", 0, r"'n_traders' = 0 .* 1 <= x"),
    ("shock_frac", 1.0, r"'shock_frac' = 1.0 .* 0 <= x < 1"),
    ("mean_leverage", 50, r"'mean_leverage' = 50"),
    ("shortfall_policy", "none", r"'shortfall_policy'"),
    ("cross_margin", "yes", r"'cross_margin' = 'yes' .* true or false"),
    ("colour", "red", r"'colour' .* a parameter of scenario 'default'"),
])
def test_preset_rejects_bad_keyword(key, value, match) -> None:
    with pytest.raises(ParameterError, match=match):
        get_scenario("default", **{key: value})


def test_unknown_scenario_lists_the_known_ones() -> None:
    with pytest.raises(UnknownScenarioError, match=r"known scenarios: (\w+, )*default\b"):
        get_scenario("black-swan")


def test_scenario_cross_references_are_checked() -> None:
    sc = get_scenario("default")
    bad_perp = dataclasses.replace(sc.perps[0], oracle="EXT-spot")
    with pytest.raises(ParameterError, match=r"perps\[PerpX\].oracle' = 'EXT-spot' .* oracle of 'ETH'"):
        dataclasses.replace(sc, perps=(bad_perp,))
    with pytest.raises(ParameterError, match=r"custodial\[CEX\].supply_to"):
        dataclasses.replace(sc, custodial=(dataclasses.replace(sc.custodial[0], supply_to="Nope"),))


def test_override_by_dotted_path_revalidates() -> None:
    sc = override(get_scenario("default"), "lending.LendB.collateral.EXT.liquidation_threshold", "0.48")
    assert sc.lending[1].collateral[1].liquidation_threshold == 0.48
    with pytest.raises(ParameterError, match=r"ltv' = 0.45 .* liquidation_threshold = 0.3"):
        override(sc, "lending.LendB.collateral.EXT.liquidation_threshold", 0.3)
    with pytest.raises(ParameterError, match=r"'lending.LendC' .* one of LendA, LendB"):
        override(sc, "lending.LendC.reserve_usd", 1)
    with pytest.raises(ParameterError, match=r"'traders.n_trader' .* a field of traders"):
        override(sc, "traders.n_trader", 5)


def test_model_rejects_bad_seed_and_steps() -> None:
    sc = get_scenario("default", n_traders=50, steps=5)
    with pytest.raises(ParameterError, match=r"'seed' = -1"):
        ContagionModel(sc, seed=-1)
    with pytest.raises(ParameterError, match=r"'scenario'"):
        ContagionModel("default")  # type: ignore[arg-type]
    model = ContagionModel(sc, seed=1)
    with pytest.raises(ParameterError, match=r"'steps' = 6 .* 0 <= steps <= 5"):
        model.run(6)


def test_underfunded_lender_is_rejected_before_the_run() -> None:
    sc = override(get_scenario("default", n_traders=100), "lending.LendB.retail_supply_usd", 1e6)
    with pytest.raises(ParameterError, match=r"lending\[LendB\].retail_supply_usd"):
        ContagionModel(sc, seed=0)
