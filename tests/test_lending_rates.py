"""Interest at lending venues (``LendingParams.rates``, ``BorrowParams.rates``): the engine's
indices against the pure formulas (:mod:`contagion.mechanics.lending`) and Aave's integers
(:mod:`contagion.mechanics.aave`, pinned to aave-dao/aave-v3-origin @fd1fbd9's own tests in
tests/mechanics/test_interest.py), the kink, the reserve factor, health factors, and
nothing changed when it is off."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from contagion.agents.lending import LendingProtocol
from contagion.mechanics.aave import RAY, aave_update_indexes
from contagion.mechanics.lending import (
    compounded_interest,
    health_factor,
    interest_rates,
    linear_interest,
)
from contagion.model import ContagionModel
from contagion.params import (
    AssetParams,
    BorrowParams,
    InterestRateParams,
    OracleParams,
    PricePathParams,
)
from contagion.scenario import Scenario
from models import get_scenario

N = 200
RATES = InterestRateParams(optimal_utilisation=0.8, base_rate=0.01, slope1=0.04, slope2=0.6,
                           reserve_factor=0.1)


def _at_utilisation(u0: float, rates: InterestRateParams | None = RATES) -> Scenario:
    """The default market (small) with LendB's outside supply (its only supplier) sized for
    utilisation ``u0``."""
    sc = get_scenario("default", n_traders=N)
    probe = ContagionModel(sc, seed=1).lending[1]
    assert list(probe.supply_nominal) == ["outside"]
    v = sc.lending[1]
    v = dataclasses.replace(v, retail_supply_usd=float(probe.book.debt.sum()) / u0 - v.reserve_usd,
                            rates=rates)
    return dataclasses.replace(sc, lending=(sc.lending[0], v, *sc.lending[2:]))


def test_engine_indices_follow_the_pure_formulas_step_by_step() -> None:
    """Each step the venue's rates come from its utilisation at the start of the step, and
    its indices, debts and claims grow by the pure linear/compounded factors."""
    m = ContagionModel(_at_utilisation(0.7), seed=1, check_conservation=True)
    lend = m.lending[1]
    dt = m.scenario.market.step_minutes * 60
    li = bi = 1.0
    debt0 = lend.book.debt.copy()
    for _ in range(40):  # through the crash: liquidations and top-ups move utilisation
        u = float(lend.utilisation()[0])
        supply, borrow = interest_rates(u, 0.8, 0.01, 0.04, 0.6, 0.1)
        li *= float(linear_interest(supply, dt))
        bi *= float(compounded_interest(borrow, dt))
        index_before = lend.supply_index
        m.step()
        assert lend.liquidity_index[0] == pytest.approx(li, rel=1e-13)
        assert lend.borrow_index[0] == pytest.approx(bi, rel=1e-13)
        assert lend.supply_index == pytest.approx(index_before * float(
            linear_interest(supply, dt)), rel=1e-13)  # no socialised loss here
    # accounts nobody touched (no repayment, no liquidation) owe their debt times the
    # index; the others owe less (repayments only ever lower a debt)
    untouched = np.isclose(lend.book.debt, debt0 * bi, rtol=1e-12) & (debt0 > 0)
    assert untouched.sum() >= 10
    assert np.all(lend.book.debt <= debt0 * bi * (1 + 1e-12))
    assert lend.borrow_index[0] > 1.0 + 40 * dt * 0.01 / (365 * 86400)  # the base rate at least


def test_engine_matches_aave_integers_at_constant_utilisation() -> None:
    """Before the crash nothing but interest moves LendB's books: 12 five-minute steps of
    the engine equal ReserveLogic._updateIndexes in ray integers to float precision."""
    m = ContagionModel(_at_utilisation(0.8), seed=1)
    lend = m.lending[1]
    li, bi = RAY, RAY
    for _ in range(12):
        u = float(lend.utilisation()[0])
        supply, borrow = interest_rates(u, 0.8, 0.01, 0.04, 0.6, 0.1)
        li, bi = aave_update_indexes(li, bi, round(float(supply) * RAY), round(float(borrow) * RAY),
                                     300)
        m.step()
    assert m.events_frame.query("kind == 'liquidation'").empty
    assert lend.liquidity_index[0] == pytest.approx(li / RAY, rel=1e-14)
    assert lend.borrow_index[0] == pytest.approx(bi / RAY, rel=1e-14)


def test_the_kink_at_optimal_utilisation() -> None:
    """Across the optimal ratio the engine's borrow rate keeps its level but its slope jumps
    from slope1 / U* to slope2 / (1 - U*) (here 0.05 to 3 a year per unit of U)."""
    rate = {}
    for u0 in (0.78, 0.8, 0.82):
        m = ContagionModel(_at_utilisation(u0), seed=1)
        m.step()
        rate[u0] = float(m.lending[1].borrow_rate[0])
    assert rate[0.8] == pytest.approx(0.05, rel=1e-9)
    below = (rate[0.8] - rate[0.78]) / 0.02
    above = (rate[0.82] - rate[0.8]) / 0.02
    assert below == pytest.approx(0.04 / 0.8, rel=1e-6)
    assert above == pytest.approx(0.6 / 0.2, rel=1e-6)


def test_reserve_factor_goes_to_equity_and_health_sees_the_debt() -> None:
    """Without other flows the borrowers' interest is split: suppliers get U * (1 - RF) of
    the rate on their claims, the rest is the venue's equity; the health factors read the
    accrued debt (the cache is invalidated)."""
    sc = _at_utilisation(0.9)
    sc = dataclasses.replace(sc, traders=dataclasses.replace(sc.traders, topup_share=0.0))
    m = ContagionModel(sc, seed=1)
    lend = m.lending[1]
    eq0, loans0, claims0 = lend.equity_usd(), lend.loans_usd(), lend.claims_usd()
    for _ in range(10):
        m.step()
    assert m.events_frame.query("venue == 'LendB'").empty  # no repayment, no liquidation
    interest = lend.loans_usd() - loans0
    paid = lend.claims_usd() - claims0
    assert interest == pytest.approx(lend.interest_usd, rel=1e-9)
    assert lend.equity_usd() - eq0 == pytest.approx(interest - paid, rel=1e-6)
    assert interest - paid >= 0.1 * interest  # at least the reserve factor
    weighted = lend.book.collateral @ (lend.prices() * lend.lt)
    fresh = np.asarray(health_factor(weighted, 1.0, lend.book.debt, validate=False))
    assert np.array_equal(lend.health(), fresh)


def test_a_borrowed_asset_accrues_on_its_own_curve() -> None:
    """A reserve of ``borrow`` with its own rates: its debt units grow by its borrow index,
    its suppliers' units by its liquidity index; the numeraire's claims are unaffected."""
    sc = get_scenario("default", n_traders=N)
    btc = AssetParams(name="BTC", kind="volatile", initial_price_usd=60_000.0,
                      external_depth_usd=2e9)
    path = PricePathParams(asset="BTC", kind="flat", vol_per_step=0.0)
    feed = OracleParams(name="BTC-feed", asset="BTC", heartbeat_steps=1,
                        deviation_threshold_frac=0.0)
    steep = InterestRateParams(optimal_utilisation=0.45, slope1=0.07, slope2=3.0)
    lending = tuple(dataclasses.replace(v, borrow=(BorrowParams(
        asset="BTC", oracle="BTC-feed", debt_share=0.5, retail_supply_usd=2e7, rates=steep),))
        if v.name == "LendB" else v for v in sc.lending)
    sc = dataclasses.replace(sc, assets=(*sc.assets, btc), paths=(*sc.paths, path),
                             oracles=(*sc.oracles, feed), lending=lending)
    m = ContagionModel(sc, seed=1, check_conservation=True)
    lend = next(v for v in m.lending if v.name == "LendB")
    units0, supplied0 = lend.book.debt_units[:, 0].copy(), float(lend.supply_units[0])
    u = float(lend.utilisation()[1])
    assert 0 < u < 1
    supply, borrow = interest_rates(u, 0.45, 0.0, 0.07, 3.0, 0.1)
    m.step()
    grow = float(compounded_interest(borrow, 300))
    assert lend.borrow_index[1] == pytest.approx(grow, rel=1e-14)
    assert lend.borrow_index[0] == 1.0 and lend.liquidity_index[0] == 1.0
    assert np.allclose(lend.book.debt_units[:, 0], units0 * grow, rtol=1e-13)
    assert float(lend.supply_units[0]) == pytest.approx(
        supplied0 * float(linear_interest(supply, 300)), rel=1e-13)


def test_off_by_default_the_new_stage_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without rates or a supplier run, a run is the same event for event and number for
    number as one in which the lending venues' new step is not called at all."""
    sc = get_scenario("default", n_traders=N)
    assert all(v.rates is None and v.supplier_run is None for v in sc.lending)

    def run() -> tuple[pd.DataFrame, pd.DataFrame]:
        m = ContagionModel(sc, seed=3)
        m.run(40)
        return m.events_frame, m.datacollector.get_model_vars_dataframe()

    events, series = run()
    assert not any(c.startswith(("utilisation_", "borrow_rate_", "queued_")) for c in series)
    monkeypatch.setattr(LendingProtocol, "step", lambda self: None)
    events0, series0 = run()
    pd.testing.assert_frame_equal(events, events0)
    pd.testing.assert_frame_equal(series, series0)
