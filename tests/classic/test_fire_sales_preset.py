"""The fire-sale teaching preset (Caccioli et al. 2014) on the engine.

With the same portfolios (``fire_sale_portfolios`` = the pure model's ``draw_portfolios``
from ``seed_graph``), the engine's defaulted banks must be the pure
``fire_sale_cascade``'s fixed point, and a bank's default step minus the shock step its
round there (the books mark held assets at the step's opening prices).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.model import ContagionModel
from contagion.params import CustodialParams
from contagion.runner import simulate
from models import SCENARIOS, get_scenario, scenario_parameters
from models.classic.fire_sales import ALPHA_10PCT, FireSaleResult, fire_sale_cascade
from models.classic.fire_sales_preset import (
    SHOCK_STEP,
    fire_sale_portfolios,
    fire_sales_demo,
    no_spread_leverage,
)

N = 200  # traders (depositors) per run


def _run(seed: int = 1, **kwargs) -> ContagionModel:
    model = ContagionModel(fire_sales_demo(n_traders=N, **kwargs), seed=seed,
                           check_conservation=True)
    model.run()
    return model


def _engine_rounds(model: ContagionModel) -> np.ndarray:
    """Per bank: steps from the shock to its default, -1 if it never defaulted."""
    return np.array([ex.default_step - SHOCK_STEP if ex.defaulted else -1
                     for ex in model.custodial])


def _pure(*, n_banks: int = 20, n_assets: int = 20, diversification: int = 2,
          leverage: float = 10.0, alpha: float = ALPHA_10PCT, shocked_bank: int = 0,
          seed_graph: int = 0) -> FireSaleResult:
    Q = fire_sale_portfolios(n_banks, n_assets, diversification, seed_graph)
    failed = np.zeros(n_banks, dtype=bool)
    failed[shocked_bank] = True
    return fire_sale_cascade(Q, leverage, alpha=alpha, initially_failed=failed)


# ---------------------------------------------------------------------- the default run
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_run_topples_17_of_20_banks_in_the_pure_models_rounds(seed: int) -> None:
    model = _run(seed)
    rounds = _engine_rounds(model)
    pure = _pure()
    np.testing.assert_array_equal(rounds, pure.failure_round)
    assert (rounds >= 0).sum() == 17 and rounds.max() == pure.rounds == 4
    assert [ex.name for ex in model.custodial if not ex.defaulted] == ["B07", "B14", "B19"]
    prices = model.market.price[1:]  # every asset's price at the end (USDC first)
    np.testing.assert_allclose(np.sort(prices)[0], math.exp(-ALPHA_10PCT), rtol=1e-12)


# ---------------------------------------------------------------------- engine = pure model
CASES = [  # (diversification, leverage, seed_graph, shocked_bank): pure failures in the comment
    (3, 10.0, 0, 0),  # inside the window: all 20 fail
    (4, 10.0, 2, 2),  # inside: all 20 fail
    (2, 8.0, 11, 11),  # 19 fail
    (2, 8.0, 2, 2),  # 12 fail
    (2, 5.0, 4, 4),  # near the window's edge: 5 fail
    (1, 8.0, 6, 6),  # mu = 1: the co-holders of one asset fail (4 banks), nobody else
    (3, 5.0, 1, 1),  # outside the window (leverage too low): the shocked bank alone
    (5, 10.0, 0, 5),  # outside (too diversified on this draw): the shocked bank alone
]


@pytest.mark.parametrize(("mu", "lam", "seed_graph", "shocked"), CASES)
def test_engine_defaults_are_the_pure_cascades_fixed_point(mu: int, lam: float, seed_graph: int,
                                                           shocked: int) -> None:
    model = _run(diversification=mu, leverage=lam, seed_graph=seed_graph, shocked_bank=shocked)
    pure = _pure(diversification=mu, leverage=lam, seed_graph=seed_graph, shocked_bank=shocked)
    rounds = _engine_rounds(model)
    np.testing.assert_array_equal(rounds >= 0, pure.failed)
    np.testing.assert_array_equal(rounds, pure.failure_round)


def test_the_cases_span_the_window() -> None:
    sizes = {(mu, lam, g): int(_pure(diversification=mu, leverage=lam, seed_graph=g,
                                     shocked_bank=b).failed.sum())
             for mu, lam, g, b in CASES}
    assert sizes == {(3, 10.0, 0): 20, (4, 10.0, 2): 20, (2, 8.0, 11): 19, (2, 8.0, 2): 12,
                     (2, 5.0, 4): 5, (1, 8.0, 6): 4, (3, 5.0, 1): 1, (5, 10.0, 0): 1}


@pytest.mark.parametrize("seed_graph", range(6))
@pytest.mark.parametrize("mu", [2, 3, 4])
def test_engine_never_topples_a_bank_the_pure_cascade_spares(seed_graph: int, mu: int) -> None:
    # the engine's impact is per dollar at the current price, the paper's per share: a second
    # sale of an asset moves its price less on the engine, so its defaults are a subset
    for lam in (6.0, 12.0):
        model = _run(diversification=mu, leverage=lam, seed_graph=seed_graph,
                     shocked_bank=seed_graph)
        pure = _pure(diversification=mu, leverage=lam, seed_graph=seed_graph,
                     shocked_bank=seed_graph)
        rounds = _engine_rounds(model)
        engine = rounds >= 0
        assert not (engine & ~pure.failed).any()
        assert np.all(rounds[engine] >= pure.failure_round[engine])  # never earlier either
        np.testing.assert_array_equal(engine, pure.failed)  # and equal on these draws


def test_a_second_sale_of_an_asset_can_delay_a_round_on_the_engine() -> None:
    # mu = 3, leverage 8, seed_graph 7: the same 20 failures, but the engine's weaker impact
    # of repeated sales of one asset lets some banks fail a round later than in the pure model
    model = _run(diversification=3, leverage=8.0, seed_graph=7, shocked_bank=7)
    pure = _pure(diversification=3, leverage=8.0, seed_graph=7, shocked_bank=7)
    rounds = _engine_rounds(model)
    np.testing.assert_array_equal(rounds >= 0, pure.failed)
    assert np.all(rounds >= pure.failure_round) and np.any(rounds > pure.failure_round)


# ---------------------------------------------------------------------- switches
def test_without_price_impact_only_the_shocked_bank_fails() -> None:
    model = _run(alpha=0.0)
    assert [ex.name for ex in model.custodial if ex.defaulted] == ["B00"]
    assert np.all(model.market.price == 1.0)  # it sold at par
    assert model.custodial[0].recovery_rate == pytest.approx(1e9 / 2.7e9)


@pytest.mark.parametrize(("mu", "seed_graph"), [(2, 0), (2, 4), (3, 0), (4, 2), (1, 3)])
def test_below_the_no_spread_leverage_only_the_shocked_bank_fails(mu: int, seed_graph: int
                                                                  ) -> None:
    lam = 2.4
    assert lam < no_spread_leverage() == pytest.approx(1 / (1 - math.exp(-ALPHA_10PCT / 2)))
    model = _run(diversification=mu, leverage=lam, seed_graph=seed_graph, shocked_bank=seed_graph)
    assert [i for i, ex in enumerate(model.custodial) if ex.defaulted] == [seed_graph]
    assert _pure(diversification=mu, leverage=lam, seed_graph=seed_graph,
                 shocked_bank=seed_graph).failed.sum() == 1


def test_liquidate_on_default_is_off_by_default_and_the_cascade_needs_it() -> None:
    assert CustodialParams(name="X").liquidate_on_default is False
    with pytest.raises(ParameterError, match=r"'custodial\[X\].liquidate_on_default' = 1"):
        CustodialParams(name="X", liquidate_on_default=1)  # type: ignore[arg-type]
    sc = fire_sales_demo(n_traders=N)
    keep = dataclasses.replace(sc, custodial=tuple(
        dataclasses.replace(c, liquidate_on_default=False) for c in sc.custodial))
    run = simulate(keep, seed=1, check_conservation=True)
    assert run.summary["defaulted"] == ["B00"]
    assert "asset_sale" not in set(run.events["kind"])


# ---------------------------------------------------------------------- mechanics
def test_a_first_sale_moves_the_price_as_the_paper_and_pays_the_depositors() -> None:
    run = simulate(fire_sales_demo(n_traders=N), seed=1, check_conservation=True)
    ev = run.events
    Q = fire_sale_portfolios(20, 20, 2, 0).toarray()
    first = ev[(ev["kind"] == "asset_sale") & (ev["step"] == SHOCK_STEP)]
    assert first["venue"].tolist() == ["B00", "B00"] and first["asset"].tolist() == ["A12", "A17"]
    for asset, proceeds in zip(first["asset"], first["value_usd"], strict=True):
        j = int(asset[1:])
        x = Q[0, j] / Q[:, j].sum()  # B00's share of the asset's shares
        assert run.series.loc[SHOCK_STEP, f"price_{asset}"] == pytest.approx(
            math.exp(-ALPHA_10PCT * x), rel=1e-12)
        assert proceeds == pytest.approx(5e8 * -math.expm1(-ALPHA_10PCT * x) / (ALPHA_10PCT * x))
    assert run.summary["recovery_by_venue"]["B00"] == pytest.approx(
        first["value_usd"].sum() / 2.7e9)


def test_each_default_is_caused_by_a_sale_the_round_before() -> None:
    run = simulate(fire_sales_demo(n_traders=N), seed=1)
    ev = run.events.set_index("event_id")
    for eid, row in ev[ev["kind"] == "withdrawal_freeze"].iterrows():
        cause = ev.loc[row["cause_id"]]
        if row["venue"] == "B00":
            assert cause["kind"] == "asset_writedown"
            continue
        assert cause["kind"] == "asset_sale" and cause["step"] == row["step"] - 1
        held = {a for a, _ in next(c for c in run.scenario.custodial
                                   if c.name == row["venue"]).asset_holdings_usd}
        assert cause["asset"] in held, eid
    for _, row in ev[ev["kind"] == "asset_sale"].iterrows():
        default = ev.loc[row["cause_id"]]
        assert default["kind"] == "default" and default["venue"] == row["venue"]


def test_preset_is_registered_reproducible_and_quiet() -> None:
    assert get_scenario("classic_fire_sales").name == "classic_fire_sales"
    assert SCENARIOS["classic_fire_sales"] is fire_sales_demo
    a = simulate(get_scenario("classic_fire_sales", n_traders=N), seed=5, check_conservation=True)
    b = simulate(get_scenario("classic_fire_sales", n_traders=N), seed=5)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert set(a.events["kind"]) == {"asset_writedown", "withdrawal_freeze", "default",
                                     "collateral_loss", "asset_sale"}
    assert a.summary["liquidations"] == 0


def test_dashboard_form_has_a_field_for_every_knob() -> None:
    from dashboard.forms import FIELDS

    knobs = set(scenario_parameters("classic_fire_sales")) - {"steps"}
    assert knobs <= {f.key for f in FIELDS}


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"leverage": 1.5}, r"'leverage' = 1.5 .* 2"),
    ({"diversification": 21}, r"'diversification' = 21 .* x <= 20"),
    ({"alpha": -1}, r"'alpha' = -1"),
    ({"shocked_bank": 20}, r"'shocked_bank' = 20 .* x <= 19"),
    ({"steps": 1}, r"'steps' = 1"),
    ({"n_banks": 1}, r"'n_banks' = 1"),
    ({"n_assets": 0}, r"'n_assets' = 0"),
    ({"seed_graph": -1}, r"'seed_graph' = -1"),
    ({"n_traders": 5000}, r"'n_traders' = 5000"),
])
def test_bad_knobs_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        fire_sales_demo(**kwargs)
