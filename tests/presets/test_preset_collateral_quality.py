"""The collateral-quality preset (issue 13): a threshold that follows depth vs one set by hand.

What the preset must show (models/collateral_quality.py), seed 0: ALT's threshold derived
from its depth (55.17%, the pure formula at set-up) sizes the loans below the hand-set 75%;
loops stay within the LTV; the order book's collapse cuts the threshold at once (a
``risk_parameter_update`` caused by the liquidity shock); the loss (bad debt plus debt under
water) is several times lower than with the threshold set by hand, and nil in isolation mode
with a $2M debt ceiling. Runs are checked for conservation.
"""

from __future__ import annotations

import pytest

from contagion.errors import ParameterError
from contagion.model import ContagionModel
from models import PRESET_INFO, SCENARIOS, get_scenario
from models.collateral_quality import collateral_quality

N = 1000  # the tour's run (the loss depends on the few largest ALT loans)


def _run(**kw: object) -> ContagionModel:
    m = ContagionModel(get_scenario("collateral_quality", n_traders=N, **kw), seed=0,
                       check_conservation=True)
    m.run()
    return m


def _loss(m: ContagionModel) -> float:
    v = m.lending[0]
    return float(v.bad_debt_usd + v.insolvent_debt_usd())


@pytest.fixture(scope="module")
def derived() -> ContagionModel:
    return _run()


@pytest.fixture(scope="module")
def hand() -> ContagionModel:
    return _run(derive_thresholds=False)


def test_registered_with_a_menu_entry() -> None:
    assert SCENARIOS["collateral_quality"] is collateral_quality
    assert PRESET_INFO["collateral_quality"].date == "stylised"


def test_the_derived_threshold_sizes_the_loans(derived: ContagionModel,
                                               hand: ContagionModel) -> None:
    h = hand.lending[0]
    assert h.ceiling_lt[0] == 0.75 and list(h.lt) == [0.75, 0.825]
    start = derived.datacollector.get_model_vars_dataframe()["lt_LendT_ALT"].iloc[0]
    assert 0.45 < start < 0.65
    starting = derived.starting_books.lending[0].debt.sum()
    assert starting < 0.9 * hand.starting_books.lending[0].debt.sum()


def test_the_depth_collapse_cuts_the_threshold(derived: ContagionModel) -> None:
    ev = derived.events_frame
    shock = ev[ev.kind == "liquidity_shock"].iloc[0]
    cut = ev[(ev.kind == "risk_parameter_update") & (ev.step == shock.step)]
    assert len(cut) == 1
    assert cut.threshold_after.iloc[0] < 0.5 * cut.threshold_before.iloc[0]
    assert cut.cause_id.iloc[0] == shock.event_id
    assert ev[ev.kind == "borrow"].accounts.sum() > 0


def test_following_depth_loses_several_times_less(derived: ContagionModel,
                                                  hand: ContagionModel) -> None:
    assert _loss(derived) * 2.5 < _loss(hand)
    assert not derived.lending[0].defaulted


def test_isolation_caps_the_loss(derived: ContagionModel) -> None:
    m = _run(isolate_alt=True)
    v = m.lending[0]
    assert v.isolation_debt_usd()[0] <= 2e6 + 1e-6
    assert _loss(m) < 0.1 * _loss(derived)
    assert v.held_back_usd["debt_ceiling"] > 0


@pytest.mark.parametrize(("key", "value"), [
    ("shock_frac", 1.0), ("depth_drop_frac", -0.1), ("volatility_margin_frac", 1.0),
    ("releverage_above_hf", 1.05), ("debt_ceiling_usd", -1.0), ("isolate_alt", "yes")])
def test_bad_parameters_are_refused_naming_them(key: str, value: object) -> None:
    with pytest.raises(ParameterError, match=key):
        get_scenario("collateral_quality", **{key: value})
