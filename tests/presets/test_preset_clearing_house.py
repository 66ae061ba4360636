"""A clearing member's default runs through the waterfall into the survivors (issue 13).

What the preset must show (models/clearing_house.py): in a two-step ETH crash Aas misses a
variation-margin call and is closed out; the waterfall uses every layer in order, ending in
the survivors' contributions and assessments; BetaFund, thinner for it, fails at its own
books the next step and CEX's loan to it is impaired. With $60M of skin in the game the
survivors lose nothing and only Aas defaults; without assessments the house covers the rest
by haircutting the variation-margin gains it owes. Seeds 0 and 1 alike.
"""

from __future__ import annotations

import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.mechanics.waterfall import WATERFALL_LAYERS
from contagion.runner import RunResult, simulate
from models import PRESET_INFO, SCENARIOS, get_scenario
from models.clearing_house import clearing_house

N = 1000  # the preset's own size: the tour and lesson quote it (at 300 LendB also fails)


def _run(seed: int = 0, **kw: float) -> RunResult:
    return simulate(get_scenario("clearing_house", n_traders=N, **kw), seed=seed,
                    check_conservation=True)


def _of(r: RunResult, kind: str) -> pd.DataFrame:
    return r.events[r.events["kind"] == kind]


@pytest.mark.parametrize("seed", [0, 1])
def test_aas_default_eats_into_the_survivors_and_betafund_fails(seed: int) -> None:
    r = _run(seed)
    wf = _of(r, "waterfall")
    assert list(wf[wf["agent"] == "Aas"]["layer"]) == list(WATERFALL_LAYERS)
    d = _of(r, "default")
    assert list(zip(d["venue"], d["reason"], d["step"], strict=True)) == [
        ("Aas", "missed_margin_call", 13), ("BetaFund", "assets_below_loans", 14)]
    loans = _of(r, "loan_loss")
    assert ((loans["venue"] == "CEX") & (loans["agent"] == "BetaFund")).any()
    assert sorted(r.summary["defaulted"]) == ["Aas", "BetaFund"]


def test_skin_in_the_game_spares_the_survivors() -> None:
    r = _run(skin_in_the_game_usd=6e7)
    assert _of(r, "default_fund_loss").empty
    assert r.summary["defaulted"] == ["Aas"]


def test_without_assessments_the_house_haircuts_the_gains_it_owes() -> None:
    r = _run(assessment_multiple=0.0)
    wf = _of(r, "waterfall")
    cut = wf[wf["layer"] == "gains_haircut"]
    assert len(cut) == 1
    before = wf[(wf["step"] == 13) & (wf["layer"] == "survivors_fund")]
    assert float(cut["value_usd"].iloc[0]) == pytest.approx(float(before["residual_usd"].iloc[0]))
    assert 0 < float(cut["haircut_frac"].iloc[0]) < 1
    assert _of(r, "default_fund_loss")["assessment_usd"].sum() == 0.0
    assert sorted(r.summary["defaulted"]) == ["Aas", "BetaFund"]  # the house itself survives


def test_registered_and_parameters_checked() -> None:
    assert SCENARIOS["clearing_house"] is clearing_house
    assert PRESET_INFO["clearing_house"].date == "11 September 2018"
    with pytest.raises(ParameterError, match="skin_in_the_game_usd"):
        clearing_house(skin_in_the_game_usd=-1.0)
    with pytest.raises(ParameterError, match="steps"):
        clearing_house(steps=10)
