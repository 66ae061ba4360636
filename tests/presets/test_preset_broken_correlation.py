"""The broken-correlation regime (issue 12): a collateral stablecoin depegs, the majors hold.

A stylised regime, not a history (models/regimes.py): USDe, lent against as near-cash, loses
its peg while ETH, BTC and SOL move together and do not crash; the loans backed by USDe are
liquidated first, and without the depeg none are.
"""

from __future__ import annotations

import numpy as np
import pytest

from contagion.errors import ParameterError
from contagion.model import ContagionModel
from contagion.runner import simulate
from models import PRESET_INFO, SCENARIOS, get_scenario
from models.regimes import MAJORS, broken_correlation

N = 300


@pytest.fixture(scope="module")
def run() -> object:
    return simulate(get_scenario("broken_correlation", n_traders=N), seed=1,
                    check_conservation=True)


def test_registered_with_its_menu_entry() -> None:
    assert SCENARIOS["broken_correlation"] is broken_correlation
    assert PRESET_INFO["broken_correlation"].date == "11 March 2023"
    sc = get_scenario("broken_correlation")
    assert sc.price_model is not None and sc.price_model.assets == MAJORS  # USDe is not in it


def test_the_peg_breaks_while_the_majors_hold(run: object) -> None:
    s = run.series  # type: ignore[attr-defined]
    assert s["price_USDe"].iloc[-1] == pytest.approx(0.85, abs=0.02)
    for asset in MAJORS:
        assert abs(s[f"price_{asset}"].iloc[-1] / s[f"price_{asset}"].iloc[0] - 1) < 0.12


def test_usde_loans_are_the_first_liquidated_after_the_depeg_starts(run: object) -> None:
    ev = run.events  # type: ignore[attr-defined]
    liq = ev[(ev["kind"] == "liquidation") & (ev["step"] >= 24)]
    assert liq.iloc[0]["asset"] == "USDe"
    assert (liq["asset"] == "USDe").sum() >= 10


def test_without_the_depeg_no_usde_loan_is_liquidated() -> None:
    calm = simulate(get_scenario("broken_correlation", n_traders=N, depeg_frac=0.0), seed=1)
    ev = calm.events
    assert not ((ev["kind"] == "liquidation") & (ev["asset"] == "USDe")).any()


def test_the_majors_move_together_and_usde_apart() -> None:
    sc = get_scenario("broken_correlation", n_traders=N, steps=1500)
    path = ContagionModel(sc, seed=2).market.path
    r = np.corrcoef(np.diff(np.log(path[1:5]), axis=1))  # ETH, BTC, SOL, USDe
    assert r[0, 1] > 0.8 and r[0, 2] > 0.7
    assert np.abs(r[3, :3]).max() < 0.1


@pytest.mark.parametrize(("kw", "match"), [
    ({"depeg_frac": 1.0}, r"'depeg_frac' = 1.0"),
    ({"correlation": -0.9}, r"'correlation' = -0.9"),
    ({"depeg_duration_steps": 0}, r"'depeg_duration_steps' = 0"),
])
def test_bad_knobs_are_named(kw: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        broken_correlation(**kw)
