"""E-mode and a depeg (issue 13): what e-mode's better terms do to loops when a member of the
category loses its peg.

What the preset must show (models/emode_depeg.py): borrowers loop USDx up to the LTV. In e-mode
(LTV 90%, threshold 93%, bonus 2%) they borrow far more and stand nearer their threshold than on
the plain listing (LTV 75%, threshold 80%); a 5% depeg liquidates the e-mode loops and none of
the plain ones, with the category's bonus; no loop ever borrows past its LTV.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from contagion.errors import ParameterError
from contagion.model import ContagionModel
from contagion.runner import RunResult, simulate
from models import PRESET_INFO, SCENARIOS, get_scenario
from models.emode_depeg import EMODE


@cache
def _run(emode: bool) -> RunResult:
    return simulate(get_scenario("emode_depeg", emode=emode), seed=0, check_conservation=True)


def test_the_depeg_liquidates_the_emode_loops_and_not_the_plain_ones() -> None:
    on, off = _run(True), _run(False)
    assert on.summary["accounts_liquidated"] == 998
    assert on.summary["liquidation_volume_usd"] == pytest.approx(65.48e6, rel=1e-3)
    assert off.summary["liquidations"] == 0
    assert on.summary["bad_debt_usd"] == off.summary["bad_debt_usd"] == 0
    assert on.series["borrowed_LendE"].iloc[-1] > 2.5 * off.series["borrowed_LendE"].iloc[-1]
    liq = on.events[on.events["kind"] == "liquidation"]
    assert (liq["bonus_frac"] == EMODE.liquidation_bonus).all()


def test_a_smaller_depeg_liquidates_neither_and_a_larger_one_both() -> None:
    small = simulate(get_scenario("emode_depeg", depeg_frac=0.03, steps=48), seed=0)
    assert small.summary["liquidations"] == 0
    big = simulate(get_scenario("emode_depeg", depeg_frac=0.08, emode=False, steps=48), seed=0)
    assert big.summary["liquidations"] > 0
    liq = big.events[big.events["kind"] == "liquidation"]
    assert (liq["bonus_frac"] == 0.05).all()  # the plain listing's bonus


@pytest.mark.parametrize("emode", [True, False])
def test_loops_stop_at_the_ltv_that_applies(emode: bool) -> None:
    model = ContagionModel(get_scenario("emode_depeg", emode=emode, steps=23), seed=0)
    model.run()
    v = model.lending[0]
    owes = v.debt_usd() > 0
    ltv = EMODE.ltv if emode else 0.75
    value = v.book.collateral[:, 0] * v.prices()[0]
    assert (v.debt_usd()[owes] <= ltv * value[owes] * (1 + 1e-9)).all()
    assert np.median(v.debt_usd()[owes] / value[owes]) > ltv - 0.04  # they use the room
    assert bool(v.in_emode[owes].all()) == emode


def test_the_preset_is_listed_and_refuses_bad_parameters() -> None:
    assert "emode_depeg" in SCENARIOS and PRESET_INFO["emode_depeg"].date == "stylised"
    with pytest.raises(ParameterError, match="depeg_frac"):
        get_scenario("emode_depeg", depeg_frac=1.0)
    with pytest.raises(ParameterError, match="loop_above_hf"):
        get_scenario("emode_depeg", loop_above_hf=1.0)
