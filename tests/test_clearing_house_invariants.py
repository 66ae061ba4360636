"""Invariants of the clearing house over random settings (hypothesis, derandomised): every
asset unit conserved each step, each member's loss paid exactly by the waterfall's layers
(plus a haircut of the gains owed, plus what is left), and the members' claims on the house
equal to what it holds for them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contagion.model import ContagionModel
from models import get_scenario


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(shock=st.floats(0.0, 0.6), aas=st.floats(1e7, 2.4e8), sitg=st.floats(0.0, 5e7),
       mult=st.floats(0.0, 3.0), fund=st.floats(0.0, 2.5e7))
def test_conservation_and_the_waterfall_hold_at_any_setting(shock, aas, sitg, mult, fund):
    sc = get_scenario("clearing_house", n_traders=200, shock_frac=shock, aas_notional_usd=aas,
                      skin_in_the_game_usd=sitg, assessment_multiple=mult,
                      default_fund_usd=fund)
    m = ContagionModel(sc, seed=0, check_conservation=True)  # raises if a unit is lost
    m.run(18)
    house = m.clearing_houses[0]
    wf = m.events_frame
    wf = wf[wf["kind"] == "waterfall"]
    for rec in house.waterfalls:
        r = rec["result"]
        paid = sum(x for _, x in r.layers())
        assert paid + r.residual_usd == pytest.approx(rec["loss_usd"], rel=1e-12, abs=1e-6)
        logged = wf[(wf["agent"] == rec["member"]) & (wf["step"] == rec["step"])
                    & (wf["layer"] != "gains_haircut")]
        assert logged["value_usd"].sum() == pytest.approx(paid, rel=1e-12, abs=1e-6)
    held = house.margin_usd[house.open].sum() + house.fund_usd.sum()
    claims = sum(member.house_claims_usd for member in house.members)
    assert claims == pytest.approx(held, rel=1e-9, abs=1e-3)
    assert (house.fund_usd >= -1e-6).all() and house.sitg_usd >= -1e-6
    # what the house holds in cash covers its members' claims and its own capital, unless it
    # defaulted (then it owes more than it has)
    if not house.defaulted:
        assert house.cash_usd == pytest.approx(held + house.sitg_usd, rel=1e-9, abs=1e-3)
    assert np.isfinite(house.cash_usd)
