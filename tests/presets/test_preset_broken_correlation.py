"""The broken-correlation regime (issue 12): the USDC day, 11 March 2023.

A stylised regime, not a history (models/regimes.py): USDC, the unit every venue keeps its
books in, loses 12% of its peg and DAI (largely backed by USDC) follows it, while ETH, BTC
and SOL move together and do not crash. The venues value USDC at their oracle of it: the
lender's borrowers owe less in dollars (none is liquidated), the perp venue's USDC margin is
worth less (more accounts are liquidated than without the depeg).
"""

from __future__ import annotations

import numpy as np
import pytest

from contagion.errors import ParameterError
from contagion.model import ContagionModel
from contagion.runner import simulate
from models import PRESET_INFO, SCENARIOS, get_scenario
from models.regimes import DAI_FOLLOWS, MAJORS, broken_correlation

N = 300


@pytest.fixture(scope="module")
def run() -> object:
    return simulate(get_scenario("broken_correlation", n_traders=N), seed=1,
                    check_conservation=True)


def test_registered_with_its_menu_entry() -> None:
    assert SCENARIOS["broken_correlation"] is broken_correlation
    assert PRESET_INFO["broken_correlation"].date == "11 March 2023"
    sc = get_scenario("broken_correlation")
    assert sc.price_model is not None and sc.price_model.assets == MAJORS  # not the stables
    assert sc.market.numeraire == "USDC" and sc.market.numeraire_oracle == "USDC-feed"


def test_usdc_and_dai_depeg_while_the_majors_hold(run: object) -> None:
    s = run.series  # type: ignore[attr-defined]
    assert s["price_USDC"].iloc[-1] == pytest.approx(0.88)  # The Block: "as low as $0.88"
    assert s["price_DAI"].iloc[-1] == pytest.approx(1 - 0.12 * DAI_FOLLOWS, abs=0.01)
    for asset in MAJORS:
        assert abs(s[f"price_{asset}"].iloc[-1] / s[f"price_{asset}"].iloc[0] - 1) < 0.12


def test_the_depeg_is_told_and_lendm_liquidates_no_one(run: object) -> None:
    ev = run.events  # type: ignore[attr-defined]
    told = ev[ev["kind"] == "numeraire_depeg"]
    assert len(told) == 1 and told["step"].item() == 25
    assert not ((ev["kind"] == "liquidation") & (ev["step"] > 24)).any()


def test_the_depeg_liquidates_perp_accounts_and_spares_borrowers() -> None:
    def counts(frac: float) -> tuple[int, int]:
        ev = simulate(get_scenario("broken_correlation", n_traders=N, depeg_frac=frac),
                      seed=0).events
        return (int((ev["kind"] == "perp_liquidation").sum()),
                int((ev["kind"] == "liquidation").sum()))
    (perp, lend), (perp_calm, lend_calm) = counts(0.12), counts(0.0)
    assert perp > perp_calm  # USDC margin is worth less
    assert lend < lend_calm  # USDC debt is worth less


def test_the_majors_move_together_and_the_stables_apart() -> None:
    sc = get_scenario("broken_correlation", n_traders=N, steps=1500)
    path = ContagionModel(sc, seed=2).market.path
    r = np.corrcoef(np.diff(np.log(path[1:5]), axis=1))  # ETH, BTC, SOL, DAI
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
