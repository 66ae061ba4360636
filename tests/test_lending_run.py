"""A run on a lending pool (``LendingParams.supplier_run``): bad debt sends the most nervous
outside suppliers out, their withdrawals raise utilisation, which sends the next cohorts
out, until the cash is all lent (100% utilisation): withdrawals freeze, the demand waits and
the borrow rate climbs slope2; they resume only when borrowers repay."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.model import ContagionModel
from contagion.params import (
    AssetParams,
    InterestRateParams,
    OracleParams,
    PricePathParams,
    SupplierRunParams,
)
from contagion.scenario import Scenario
from models import get_scenario

RATES = InterestRateParams(optimal_utilisation=0.8, base_rate=0.01, slope1=0.04, slope2=0.6,
                           reserve_factor=0.1)
RUN = SupplierRunParams(cohorts=10, min_utilisation=0.75, max_utilisation=0.99,
                        min_bad_debt_frac=0.0005, max_bad_debt_frac=0.005,
                        withdraw_frac_per_step=0.25)
STEPS = 62
Run = tuple[ContagionModel, dict[int, float]]


def _scenario(run: SupplierRunParams = RUN) -> Scenario:
    """The default market, small; LendB (whose only supplier is the outside) starts 70% lent
    out, with Aave's curve and a run-prone supply. The crash leaves it ~$250k of bad debt
    (0.16% of its claims) at step 49 on seed 1."""
    sc = get_scenario("default", n_traders=200)
    debt = float(ContagionModel(sc, seed=1).lending[1].book.debt.sum())
    v = dataclasses.replace(sc.lending[1], retail_supply_usd=debt / 0.7 - sc.lending[1].reserve_usd,
                            rates=RATES, supplier_run=run)
    return dataclasses.replace(sc, lending=(sc.lending[0], v))


def _run(sc: Scenario, steps: int = STEPS, seed: int = 1
         ) -> tuple[ContagionModel, dict[int, float]]:
    """Step the model, recording LendB's cash at the end of every step."""
    m = ContagionModel(sc, seed=seed, check_conservation=True)
    cash = {0: m.lending[1].cash_usd}
    for _ in range(steps):
        m.step()
        cash[int(m.steps)] = m.lending[1].cash_usd
    return m, cash


@pytest.fixture(scope="module")
def run() -> Run:
    return _run(_scenario())


def _of(m: ContagionModel, kind: str) -> pd.DataFrame:
    ev = m.events_frame
    return ev[(ev["kind"] == kind) & (ev["venue"] == "LendB")]


def test_bad_debt_starts_a_run_that_builds_up_to_full_utilisation(run: Run) -> None:
    m, cash = run
    out = _of(m, "withdrawal")
    bad = _of(m, "bad_debt")
    assert not bad.empty and not out.empty
    assert (out["reason"] == "lender_run").all() and (out["agent"] == "suppliers").all()
    first = out.iloc[0]
    assert first["step"] > bad["step"].min()  # nobody left before the loss
    assert first["trigger"] == "bad_debt"
    assert first["cause_id"] in set(bad["event_id"])
    # it builds up: more cohorts leave step after step, utilisation climbs to 100%
    leaving = out["leaving_frac"].to_numpy()
    assert np.all(np.diff(leaving) >= 0) and leaving[0] < 0.5 and leaving[-1] > 0.5
    assert len(set(np.round(leaving, 9))) >= 3
    assert m.lending[1].leaving.all()  # in the end every cohort wants out
    u = out["utilisation"].to_numpy()
    assert np.all(np.diff(u) > 0) and u[-1] == 1.0
    assert "utilisation" in set(out["trigger"])  # later cohorts left over utilisation
    # every withdrawal is paid out of the cash the venue had: never more
    for step, paid in zip(out["step"], out["value_usd"], strict=True):
        assert paid <= cash[int(step) - 1] * (1 + 1e-12) + 1e-6


def test_withdrawals_freeze_at_full_utilisation_and_the_demand_waits(run: Run) -> None:
    m, cash = run
    lend = m.lending[1]
    freeze = _of(m, "withdrawal_freeze")
    assert len(freeze) == 1
    f = freeze.iloc[0]
    assert f["reason"] == "full_utilisation" and f["utilisation"] == 1.0
    assert f["value_usd"] > 0 and f["queued_usd"] > f["value_usd"]
    assert f["cause_id"] == _of(m, "withdrawal")["event_id"].max()  # the run emptied it
    step = int(f["step"])
    assert step < STEPS - 5
    # frozen since: no cash, no withdrawals, the queue stays (and grows with interest)
    after = _of(m, "withdrawal")["step"] > step
    assert not after.any()
    assert all(cash[s] == 0.0 for s in range(step, STEPS + 1))
    assert lend.frozen and lend.queued_usd >= f["queued_usd"]
    assert float(lend.utilisation()[0]) == 1.0
    # at 100% utilisation the borrow rate is base + slope1 + slope2: Aave's pull on borrowers
    assert float(lend.borrow_rate[0]) == pytest.approx(0.65, rel=1e-12)
    assert float(lend.supply_rate[0]) == pytest.approx(0.65 * 0.9, rel=1e-12)
    # the series and the network show it
    series = m.datacollector.get_model_vars_dataframe()
    assert series["utilisation_LendB"].iloc[-1] == 1.0
    assert series["borrow_rate_LendB"].iloc[-1] == pytest.approx(0.65, rel=1e-12)
    assert series["queued_LendB"].iloc[-1] == lend.queued_usd > 0
    assert series["utilisation_LendB"].iloc[0] == pytest.approx(0.7, rel=1e-12)
    assert lend.network_state() == "at_risk"


def test_withdrawals_resume_when_borrowers_repay() -> None:
    """Once frozen, only repayments bring cash back: make the traders top up (repay) and
    the suppliers take exactly that cash the next step, then freeze again."""
    m, _ = _run(_scenario(), steps=58)
    lend = m.lending[1]
    assert lend.frozen and lend.cash_usd == 0.0
    m.population.topup_below, m.population.topup_to = 3.0, 3.3  # borrowers deleverage
    m.step()
    repaid = _of(m, "margin_topup")
    assert repaid["step"].max() == 59 and lend.cash_usd > 0
    came_in = lend.cash_usd
    m.population.topup_below, m.population.topup_to = 0.0, 0.3  # and stop
    m.step()
    out = _of(m, "withdrawal")
    last = out.iloc[-1]
    assert last["step"] == 60 and last["value_usd"] == pytest.approx(came_in, rel=1e-12)
    assert lend.cash_usd == 0.0 and lend.frozen
    assert len(_of(m, "withdrawal_freeze")) == 1  # still the same freeze


def test_conservation_and_same_seed_same_events(run: Run) -> None:
    """The run is checked for conservation every step (check_conservation=True); a second
    run of the same seed logs the same events, byte for byte."""
    m, _ = run
    again, _ = _run(_scenario())
    pd.testing.assert_frame_equal(m.events_frame, again.events_frame)
    paid = _of(m, "withdrawal")["value_usd"].sum()
    assert m.lending[1].run_withdrawn_usd == pytest.approx(paid, rel=1e-12)


def test_a_depeg_sends_suppliers_out_cohort_by_cohort() -> None:
    """The depeg trigger reads the supplied stablecoin's oracle: as a stablecoin slides
    from $1 to $0.70, cohorts leave one after another, each once 1 - price reaches its
    threshold (2% .. 20%), citing the feed's update."""
    base = _scenario()
    run = dataclasses.replace(RUN, min_bad_debt_frac=1.0, max_bad_debt_frac=1.0,
                              min_utilisation=1.0, max_utilisation=1.0, depeg_oracle="USDX-feed",
                              min_depeg_frac=0.02, max_depeg_frac=0.2)
    # a scenario has one stable asset (the numeraire, fixed at $1 until the base stablecoin
    # may depeg): a $1 "volatile" asset's feed stands in for the supplied coin's oracle
    usdx = AssetParams(name="USDX", kind="volatile", initial_price_usd=1.0,
                       external_depth_usd=1e9)
    path = PricePathParams(asset="USDX", kind="crash", shock_frac=0.3, shock_start_step=2,
                           shock_duration_steps=10, vol_per_step=0.0)
    feed = OracleParams(name="USDX-feed", asset="USDX", heartbeat_steps=1,
                        deviation_threshold_frac=0.0)
    sc = dataclasses.replace(base, assets=(*base.assets, usdx), paths=(*base.paths, path),
                             oracles=(*base.oracles, feed), lending=(
                                 base.lending[0],
                                 dataclasses.replace(base.lending[1], supplier_run=run)))
    m, _ = _run(sc, steps=14)
    lend = m.lending[1]
    out = _of(m, "withdrawal")
    assert not out.empty and (out["trigger"] == "depeg").all()
    updates = m.events_frame.query("kind == 'oracle_update' and agent == 'USDX-feed'")
    assert out["cause_id"].iloc[0] in set(updates["event_id"])
    assert len(set(out["leaving_frac"])) >= 4  # one cohort after another
    depeg = 1.0 - m.oracles["USDX-feed"].price
    thresholds = np.linspace(0.02, 0.2, 10)
    assert lend.leaving.sum() == int((thresholds <= depeg + 1e-12).sum())


@settings(max_examples=6, deadline=None, derandomize=True)
@given(optimal=st.floats(0.01, 0.99), slope1=st.floats(0, 10), slope2=st.floats(0, 10),
       reserve_factor=st.floats(0, 1), cohorts=st.integers(1, 40),
       u=st.tuples(st.floats(0, 1), st.floats(0, 1)), bad=st.tuples(st.floats(0, 1), st.floats(0, 1)),
       frac=st.floats(0.01, 1))
def test_any_curve_and_thresholds_conserve_and_never_overpay(
        optimal: float, slope1: float, slope2: float, reserve_factor: float, cohorts: int,
        u: tuple[float, float], bad: tuple[float, float], frac: float) -> None:
    """Anywhere in the parameters' ranges: units are conserved every step, suppliers are
    paid only out of cash, the cash never goes negative, and equity stays cash + loans -
    claims (interest adds to both sides)."""
    rates = InterestRateParams(optimal_utilisation=optimal, slope1=slope1, slope2=slope2,
                               reserve_factor=reserve_factor)
    run = SupplierRunParams(cohorts=cohorts, min_utilisation=u[0], max_utilisation=u[1],
                            min_bad_debt_frac=bad[0], max_bad_debt_frac=bad[1],
                            withdraw_frac_per_step=frac)
    sc = _scenario(run)
    sc = dataclasses.replace(sc, lending=(sc.lending[0],
                                          dataclasses.replace(sc.lending[1], rates=rates)))
    m, cash = _run(sc, steps=55)
    lend = m.lending[1]
    out = _of(m, "withdrawal")
    for step, paid in zip(out["step"], out["value_usd"], strict=True):
        assert paid <= cash[int(step) - 1] * (1 + 1e-12) + 1e-6
    assert min(cash.values()) >= 0.0
    assert lend.run_withdrawn_usd == pytest.approx(out["value_usd"].sum(), rel=1e-9, abs=1e-6)
    assert lend.borrow_index[0] >= 1.0 and lend.liquidity_index[0] >= 1.0
    assert np.all(lend.cohort_nominal >= 0)


def test_an_exchange_pulling_its_supply_starts_a_utilisation_run() -> None:
    """LendA's other supplier is the custodial exchange: when its depositors run (step ~47
    on seed 1) it withdraws its $20M supply, utilisation jumps, and LendA's outside suppliers
    run over utilisation, citing the exchange's withdrawals, until LendA freezes."""
    sc = get_scenario("default", n_traders=200)
    probe = ContagionModel(sc, seed=1).lending[0]
    others = sum(x for k, x in probe.supply_nominal.items() if k != "outside")
    assert others > 0
    v = sc.lending[0]
    run = dataclasses.replace(RUN, min_bad_debt_frac=1.0, max_bad_debt_frac=1.0)
    v = dataclasses.replace(v, retail_supply_usd=float(probe.book.debt.sum()) / 0.7
                            - v.reserve_usd - others, rates=RATES, supplier_run=run)
    m = ContagionModel(dataclasses.replace(sc, lending=(v, *sc.lending[1:])), seed=1,
                       check_conservation=True)
    m.run(STEPS)
    ev = m.events_frame
    out = ev[(ev["kind"] == "withdrawal") & (ev["venue"] == "LendA")]
    cex = ev[(ev["kind"] == "withdrawal") & (ev["venue"] == "CEX")]
    assert not out.empty and not cex.empty
    first = out.iloc[0]
    assert first["trigger"] == "utilisation"
    assert first["cause_id"] in set(cex["event_id"]) and first["step"] > cex["step"].min()
    freeze = ev[(ev["kind"] == "withdrawal_freeze") & (ev["venue"] == "LendA")]
    assert list(freeze["reason"]) == ["full_utilisation"]
