"""Per-unit price impact (issue 12): the engine's fire sale is exactly Caccioli et al.'s.

With ``AssetParams.impact_model = "per_unit"`` a sale of ``q`` units moves the price by
``exp(-q p0 / depth)`` (``p0`` the initial price), so all the sales of an asset compound to
the paper's ``p = exp(-alpha x)``: on every draw the per-dollar comparison of
``test_fire_sales_preset.py`` uses, the engine's failure rounds are the pure cascade's and
its final prices the pure fixed point's to 1e-12, including the draw where per-dollar impact
delays a round.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from contagion.model import ContagionModel
from contagion.params import AssetParams
from contagion.scenario import Scenario
from models.classic.fire_sales import ALPHA_10PCT, FireSaleResult, fire_sale_cascade
from models.classic.fire_sales_preset import SHOCK_STEP, fire_sale_portfolios, fire_sales_demo

N = 200


def _per_unit(sc: Scenario) -> Scenario:
    return dataclasses.replace(sc, assets=tuple(dataclasses.replace(a, impact_model="per_unit")
                                                for a in sc.assets))


def _pure(mu: int, lam: float, g: int, b: int) -> FireSaleResult:
    failed = np.zeros(20, dtype=bool)
    failed[b] = True
    return fire_sale_cascade(fire_sale_portfolios(20, 20, mu, g), lam, alpha=ALPHA_10PCT,
                             initially_failed=failed)


# the draws of test_fire_sales_preset: the default run, CASES, the never-topples grid, the
# delay case and the below-the-no-spread-leverage cases
DRAWS = sorted({(3, 10.0, 0, 0), (4, 10.0, 2, 2), (2, 8.0, 11, 11), (2, 8.0, 2, 2),
                (2, 5.0, 4, 4), (1, 8.0, 6, 6), (3, 5.0, 1, 1), (5, 10.0, 0, 5),
                (3, 8.0, 7, 7), (2, 10.0, 0, 0)}
               | {(mu, lam, g, g) for g in range(6) for mu in (2, 3, 4) for lam in (6.0, 12.0)}
               | {(mu, 2.4, g, g) for mu, g in ((2, 0), (2, 4), (3, 0), (4, 2), (1, 3))})


def test_draws_are_those_of_the_per_dollar_comparison() -> None:
    assert len(DRAWS) == 51


@pytest.mark.parametrize(("mu", "lam", "g", "b"), DRAWS)
def test_per_unit_engine_is_the_pure_cascade_exactly(mu: int, lam: float, g: int, b: int) -> None:
    sc = _per_unit(fire_sales_demo(n_traders=N, diversification=mu, leverage=lam,
                                   seed_graph=g, shocked_bank=b))
    model = ContagionModel(sc, seed=1)
    model.run()
    pure = _pure(mu, lam, g, b)
    rounds = np.array([ex.default_step - SHOCK_STEP if ex.defaulted else -1
                       for ex in model.custodial])
    np.testing.assert_array_equal(rounds, pure.failure_round)
    # every asset's price is exp(-alpha x), x the share of it the failed banks sold
    np.testing.assert_allclose(model.market.price[1:], pure.prices, rtol=1e-12, atol=0)


def test_per_dollar_delays_a_round_that_per_unit_does_not() -> None:
    sc = fire_sales_demo(n_traders=N, diversification=3, leverage=8.0, seed_graph=7,
                         shocked_bank=7)
    pure = _pure(3, 8.0, 7, 7)
    for s, exact in ((sc, False), (_per_unit(sc), True)):
        model = ContagionModel(s, seed=1)
        model.run()
        rounds = np.array([ex.default_step - SHOCK_STEP if ex.defaulted else -1
                           for ex in model.custodial])
        assert np.array_equal(rounds, pure.failure_round) is exact


def test_two_sales_compound_to_one_and_the_proceeds_integrate_the_price() -> None:
    sc = _per_unit(fire_sales_demo(n_traders=N))
    market = ContagionModel(sc, seed=1).market
    depth, p0 = float(market.depth_usd[1]), float(market.price[1])
    a = p0 / depth
    got = market.sell(1, 1e8) + market.sell(1, 2e8)
    assert market.price[1] == pytest.approx(p0 * math.exp(-a * 3e8), rel=1e-13)
    # proceeds: the integral of p0 exp(-a u) du over the 3e8 units sold
    assert got == pytest.approx(p0 * -math.expm1(-a * 3e8) / a, rel=1e-12)
    assert market.quote_sale(1, np.array([1e8]))[0] == pytest.approx(
        float(market.price[1]) * -math.expm1(-a * 1e8) / a, rel=1e-12)


def test_per_dollar_stays_the_default() -> None:
    assert AssetParams(name="X", kind="volatile", initial_price_usd=1.0).impact_model == "per_dollar"
