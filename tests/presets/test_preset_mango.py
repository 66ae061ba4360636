"""The Mango Markets preset (11 Oct 2022): what its history shows, and what each cause does.

History (scenario-facts.md section 5): ~$4M of spot buys took MNGO up ~24-fold in 40
minutes; the attacker borrowed $116M against the unrealised PnL of a 483M MNGO-PERP long
and drained the venue; the loss fell on Mango's depositors. Counting unrealised PnL as
collateral is the named cause: without it the attacker cannot take the venue's cash; with
an oracle that reads the external market the pump does not move the mark at all.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from contagion.agents.perp import withdrawable_usd
from contagion.errors import ParameterError
from contagion.events import trace_cause
from contagion.model import ContagionModel
from contagion.params import ExploitParams
from dashboard.forms import fields_for
from models import SCENARIOS, get_scenario, scenario_parameters

N = 300
SEEDS = (1, 2, 3)


def _run(seed: int, **kw: object) -> tuple[ContagionModel, float, float]:
    """The run, the venue's free cash before it started and its lowest free cash."""
    model = ContagionModel(get_scenario("mango", n_traders=N, **kw), seed=seed,
                           check_conservation=True)
    free = lowest = model.perps[0].free_cash_usd()
    for _ in range(model.scenario.market.steps):
        model.run(1)
        lowest = min(lowest, model.perps[0].free_cash_usd())
    return model, free, lowest


@pytest.fixture(scope="module")
def exploit() -> dict[int, tuple[ContagionModel, float, float]]:
    """The preset as calibrated, three seeds."""
    return {s: _run(s) for s in SEEDS}


@pytest.fixture(scope="module")
def no_upnl() -> dict[int, tuple[ContagionModel, float, float]]:
    """The same pump at a venue that does not lend against unrealised profit."""
    return {s: _run(s, upnl_collateral=False) for s in SEEDS}


def _series(m: ContagionModel) -> pd.DataFrame:
    return m.datacollector.get_model_vars_dataframe()


def _attacker_withdrawals(m: ContagionModel) -> pd.DataFrame:
    ev = m.events_frame
    return ev[(ev["kind"] == "withdrawal") & (ev["agent"] == "attacker")]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_pump_inflates_the_oracle_many_fold(exploit: dict, seed: int) -> None:
    m, _, _ = exploit[seed]
    s = _series(m)
    oracle = s["oracle_MNGO-oracle"]
    assert oracle.max() > 15 * oracle.iloc[0]  # history: +2,300% (x24), peak $0.91
    assert 0.5 < oracle.max() < 1.5
    # only the thin pool was pumped: the external market barely moved
    assert s["price_MNGO"].max() < 1.5 * s["price_MNGO"].iloc[0]
    # and once the pump stops the oracle falls back below its peak within the run
    assert oracle.iloc[-1] < 0.2 * oracle.max()


@pytest.mark.parametrize("seed", SEEDS)
def test_the_attacker_drains_the_venue_and_the_loss_is_socialised(exploit: dict,
                                                                   seed: int) -> None:
    m, free, lowest = exploit[seed]
    pv = m.perps[0]
    taken = float(_attacker_withdrawals(m)["value_usd"].sum())
    assert taken == pytest.approx(pv.attacker_withdrawn_usd)
    assert taken > 0.95 * free  # history: $116M borrowed, the venue drained
    assert lowest < 0.01 * free
    lenders = pv.params.lender_deposits_usd
    assert taken > lenders  # more than every lender's deposit
    # the mark falls back, the attacker's account is closed bankrupt: bad debt beyond the
    # fund, socialised to accounts in profit, the lenders first among them
    assert pv.bad_debt_usd > 50e6
    assert m.funds["Mango-Insurance"].balance_usd < 1.0
    assert pv.socialised_usd > 50e6
    assert pv.book.collateral[pv.lender_row] < 0.6 * lenders
    ev = m.events_frame
    assert (ev["kind"] == "fund_exhausted").any() and (ev["kind"] == "socialised_loss").any()


def test_the_bad_debt_and_the_withdrawals_trace_back_to_the_pump(exploit: dict) -> None:
    m, _, _ = exploit[1]
    ev = m.events_frame
    kind = ev.set_index("event_id")["kind"]
    first = int(_attacker_withdrawals(m)["event_id"].iloc[0])
    assert kind[trace_cause(ev, first)[-1]] == "pool_manipulation"
    bankrupt = ev[(ev["kind"] == "bad_debt") & (ev["value_usd"] > 30e6)]
    chain = trace_cause(ev, int(bankrupt["event_id"].iloc[0]))
    assert kind[chain[-1]] == "pool_manipulation"
    assert "oracle_update" in kind[chain].tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_without_upnl_collateral_there_is_no_drain(exploit: dict, no_upnl: dict,
                                                   seed: int) -> None:
    m, free, lowest = no_upnl[seed]
    pv = m.perps[0]
    s = _series(m)
    assert s["oracle_MNGO-oracle"].max() > 15 * s["oracle_MNGO-oracle"].iloc[0]  # same pump
    # it can take back only its own margin beyond the initial requirement, not the venue's
    assert pv.attacker_withdrawn_usd < pv.exploit.collateral_usd
    assert lowest > 0.9 * free
    on = exploit[seed][0].perps[0]
    assert pv.bad_debt_usd < 0.2 * on.bad_debt_usd  # only shorts caught by the pump
    assert pv.socialised_usd < 0.1 * on.socialised_usd


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_an_external_oracle_does_not_move_with_the_pump(seed: int) -> None:
    m, _, _ = _run(seed, oracle_source="external")
    s = _series(m)
    assert s["pool_MNGO/USDC"].max() > 10 * s["pool_MNGO/USDC"].iloc[0]  # the pool was pumped
    assert s["oracle_MNGO-oracle"].max() < 1.2 * s["oracle_MNGO-oracle"].iloc[0]
    pv = m.perps[0]
    assert pv.attacker_withdrawn_usd < pv.exploit.collateral_usd
    assert pv.bad_debt_usd == 0.0 and pv.socialised_usd == 0.0


def test_withdrawable_counts_unrealised_profit_only_when_told() -> None:
    coll = np.array([100.0, 100.0, 100.0])
    size = np.array([10.0, -10.0, 0.0])
    entry = np.array([10.0, 10.0, 10.0])
    on = withdrawable_usd(coll, size, entry, 20.0, 0.1, upnl_collateral=True)
    off = withdrawable_usd(coll, size, entry, 20.0, 0.1, upnl_collateral=False)
    # long in profit: 100 + 100 - 20 = 180 with it, 100 - 20 = 80 without
    np.testing.assert_allclose(on, [180.0, 0.0, 100.0])
    np.testing.assert_allclose(off, [80.0, 0.0, 100.0])  # losses always count


def test_preset_validation_and_form() -> None:
    assert "mango" in SCENARIOS
    params = scenario_parameters("mango")
    keys = {f.key for f, _ in fields_for("mango")}
    assert set(params) - {"steps"} <= keys  # every knob has a form field
    with pytest.raises(ParameterError, match=r"'pump_usd' = -1"):
        get_scenario("mango", pump_usd=-1)
    with pytest.raises(ParameterError, match=r"'upnl_collateral' = 'yes'"):
        get_scenario("mango", upnl_collateral="yes")
    sc = get_scenario("mango", n_traders=50)
    with pytest.raises(ParameterError, match=r"exploits\[Nowhere\]\.venue"):
        dataclasses.replace(sc, exploits=(ExploitParams(venue="Nowhere", notional_usd=1e6,
                                                        collateral_usd=1e6),))
    with pytest.raises(ParameterError, match=r"exploits\[Mango\]\.notional_usd"):
        dataclasses.replace(sc, exploits=(ExploitParams(venue="Mango", notional_usd=1e8,
                                                        collateral_usd=1e6),))
    with pytest.raises(ParameterError, match=r"exploits\[Mango\]\.collateral_usd"):
        ExploitParams(venue="Mango", notional_usd=1e6, collateral_usd=0.0)
    with pytest.raises(ParameterError, match=r"perps\[Mango\]\.lender_deposits_usd"):
        dataclasses.replace(sc.perps[0], lender_deposits_usd=-1.0)
