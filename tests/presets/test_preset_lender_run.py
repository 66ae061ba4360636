"""A run on a lending pool (issue 12), stylised on Stream Finance's xUSD, November 2025.

What the preset must show (models/lender_run.py): xUSD's fall leaves LendX bad debt; that
sends its outside suppliers out; their withdrawals take the pool to 100% utilisation, where
withdrawals freeze, the queue grows and the borrow rate climbs the kink to the top of the
curve; after the freeze suppliers get out only as far as liquidations and repayments bring
cash back. With ``supplier_run=False`` (seed 0 both) none of that happens, though the bad
debt is the same: the run changes who can leave, not what was lost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.model import ContagionModel
from models import PRESET_INFO, SCENARIOS, get_scenario
from models.lender_run import LENDER_RUN_RATES, lender_run

TOP_RATE = LENDER_RUN_RATES.base_rate + LENDER_RUN_RATES.slope1 + LENDER_RUN_RATES.slope2


def _run(**kw: object) -> ContagionModel:
    m = ContagionModel(get_scenario("lender_run", **kw), seed=0, check_conservation=True)
    m.run()
    return m


@pytest.fixture(scope="module")
def on() -> ContagionModel:
    return _run()


@pytest.fixture(scope="module")
def off() -> ContagionModel:
    return _run(supplier_run=False)


def _of(m: ContagionModel, kind: str) -> pd.DataFrame:
    ev = m.events_frame
    return ev[(ev["kind"] == kind) & (ev["venue"] == "LendX")]


def test_registered_with_its_menu_entry() -> None:
    assert SCENARIOS["lender_run"] is lender_run
    assert PRESET_INFO["lender_run"].date == "3 November 2025"
    sc = get_scenario("lender_run")
    (v,) = sc.lending
    assert v.rates == LENDER_RUN_RATES and v.supplier_run is not None
    assert TOP_RATE == pytest.approx(4 * LENDER_RUN_RATES.slope1)  # Morpho's shape: x4
    assert get_scenario("lender_run", supplier_run=False).lending[0].supplier_run is None


def test_bad_debt_starts_the_run_and_it_ends_frozen_at_full_utilisation(
        on: ContagionModel) -> None:
    lend = on.lending[0]
    s = on.datacollector.get_model_vars_dataframe()
    assert 0.88 < s["utilisation_LendX"].iloc[0] < 0.93  # about 90% lent out at the start
    bad, out, freeze = _of(on, "bad_debt"), _of(on, "withdrawal"), _of(on, "withdrawal_freeze")
    first = out.iloc[0]
    assert first["step"] > bad["step"].min() and first["trigger"] == "bad_debt"
    assert first["cause_id"] in set(bad["event_id"])
    assert (out["reason"] == "lender_run").all()
    assert len(freeze) == 1
    f = freeze.iloc[0]
    assert f["reason"] == "full_utilisation" and f["utilisation"] == 1.0
    assert f["cause_id"] in set(out["event_id"])  # the run emptied the pool
    step = int(f["step"])
    # the queue jumps at the freeze, and stays ~half the suppliers' money to the end
    assert s["queued_LendX"].loc[step] > 2 * s["queued_LendX"].loc[step - 1]
    assert s["queued_LendX"].iloc[-1] > 0.5 * on.scenario.lending[0].retail_supply_usd
    # the borrow rate climbs the kink: ~22% before the freeze, the curve's top after
    assert s["borrow_rate_LendX"].loc[2:step - 1].max() < 0.25  # (step 1: 91% lent, 27%)
    assert s["borrow_rate_LendX"].iloc[-1] == pytest.approx(TOP_RATE, rel=1e-12)
    assert s["utilisation_LendX"].iloc[-1] == 1.0 and lend.frozen
    assert lend.cash_usd == 0.0


def test_after_the_freeze_suppliers_get_only_what_borrowers_repay(on: ContagionModel) -> None:
    """Each withdrawal after the freeze is what the step before brought back: debt repaid by
    the liquidators plus the borrowers' own repayments (top-ups), to the cent."""
    step = int(_of(on, "withdrawal_freeze")["step"].iloc[0])
    after = _of(on, "withdrawal")
    after = after[after["step"] > step]
    assert len(after) >= 10  # withdrawals resume, a step at a time
    back = pd.concat([_of(on, "liquidation"), _of(on, "margin_topup")]).groupby("step")[
        "value_usd"].sum()
    for st, paid in zip(after["step"], after["value_usd"], strict=True):
        assert paid == pytest.approx(back.get(int(st) - 1, 0.0), rel=1e-9)
    # when liquidations stop, so do the withdrawals
    assert after["step"].max() == _of(on, "liquidation")["step"].max() + 1


def test_without_the_run_the_same_loss_freezes_nobody(on: ContagionModel,
                                                      off: ContagionModel) -> None:
    assert _of(off, "withdrawal").empty and _of(off, "withdrawal_freeze").empty
    s_on = on.datacollector.get_model_vars_dataframe()
    s_off = off.datacollector.get_model_vars_dataframe()
    assert s_off["utilisation_LendX"].iloc[-1] < 0.7 < 1.0 == s_on["utilisation_LendX"].iloc[-1]
    assert s_off["borrow_rate_LendX"].iloc[-1] < 0.2 < TOP_RATE
    assert "queued_LendX" not in s_off and s_on["queued_LendX"].iloc[-1] > 0  # no run, no queue
    # the run changes who can leave, not what was lost
    lo, lr = off.lending[0], on.lending[0]
    assert lr.bad_debt_usd == pytest.approx(lo.bad_debt_usd, rel=0.01)
    assert 0.03 < lr.bad_debt_usd / on.scenario.lending[0].retail_supply_usd < 0.12
    assert lr.run_withdrawn_usd > 0.3 * on.scenario.lending[0].retail_supply_usd


def test_a_cash_buffer_delays_the_freeze_but_not_the_queue(on: ContagionModel) -> None:
    """Lesson 14's exercise: $60M of supply (61% lent out) lets more suppliers out and
    freezes later, but the queue left at the end is the same: what is lent stays lent."""
    buffer = _run(supply_usd=6e7)
    s = buffer.datacollector.get_model_vars_dataframe()
    assert s["utilisation_LendX"].iloc[0] == pytest.approx(0.61, abs=0.01)
    assert _of(buffer, "withdrawal_freeze")["step"].iloc[0] > _of(on, "withdrawal_freeze")[
        "step"].iloc[0]
    assert buffer.lending[0].run_withdrawn_usd > 2 * on.lending[0].run_withdrawn_usd
    assert buffer.lending[0].queued_usd == pytest.approx(on.lending[0].queued_usd, rel=0.01)


def test_same_seed_same_run(on: ContagionModel) -> None:
    again = _run()
    pd.testing.assert_frame_equal(on.events_frame, again.events_frame)
    assert np.array_equal(on.lending[0].cohort_nominal, again.lending[0].cohort_nominal)


@pytest.mark.parametrize(("key", "value"), [
    ("depeg_frac", 1.0), ("supply_usd", 1e3), ("withdraw_frac_per_step", 0.0),
    ("liquidations_per_step", 0), ("supplier_run", "yes")])
def test_bad_parameters_are_refused_by_name(key: str, value: object) -> None:
    with pytest.raises(ParameterError, match=key):
        get_scenario("lender_run", **{key: value})
