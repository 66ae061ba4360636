"""`adl` events name the side deleveraged, as docs/events.md says (issue 11)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from contagion import runner
from contagion.scenario import Scenario
from models import get_scenario


def _rising(sc: Scenario) -> Scenario:
    """ETH jumps up 65% about once in 20 steps: shorts go bankrupt, longs in profit are
    deleveraged."""
    paths = tuple(dataclasses.replace(p, kind="gbm_jump", vol_per_step=0.0, jump_rate_per_step=0.05,
                                      jump_mean=0.5, jump_std=0.0)
                  if p.asset == "ETH" else p for p in sc.paths)
    return dataclasses.replace(sc, paths=paths)


def _adl(sc: Scenario) -> pd.DataFrame:
    events = runner.simulate(sc, seed=0).events
    return events[events["kind"] == "adl"]


@pytest.mark.parametrize(("build", "deleveraged", "bankrupt"), [
    (lambda: get_scenario("default", n_traders=200, steps=60, shock_frac=0.5,
                          insurance_fund_scale=0.0), "short", "long"),
    (lambda: _rising(get_scenario("default", n_traders=200, steps=60, insurance_fund_scale=0.0)),
     "long", "short"),
])
def test_adl_events_record_the_side_deleveraged(build, deleveraged: str, bankrupt: str) -> None:
    adl = _adl(build())
    assert len(adl) > 0
    assert set(adl["side"]) == {deleveraged}
    # `amount` is the trade on the deleveraged account: a short buys back, a long sells
    assert ((adl["amount"] > 0) == (adl["side"] == "short")).all()
