"""The default waterfall, Cover 2 and initial margin (contagion/mechanics/waterfall.py).

Published numbers: Nasdaq Clearing's 2018 default of Einar Aas. Its statement of 13
September 2018 (https://rss.globenewswire.com/news-release/2018/09/13/1570629/0/en/Statement-from-Nasdaq-Clearing.html)
says the close-out loss beyond the defaulter's collateral and default-fund contribution hit
"the default fund ... by an amount of EUR 107 million in addition to the EUR 7 million that
was Nasdaq's junior capital". The layer order (margin, the defaulter's contribution, skin in
the game, survivors' contributions, assessments) is the standard one
(https://www.vurtrix.com/published/511, Table 1); the other vectors are derived by hand from
it and say so.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.mechanics.waterfall import (
    WATERFALL_LAYERS,
    allocate_fund,
    cover2_fund_usd,
    default_waterfall,
    initial_margin_usd,
)


def test_aas_2018_house_takes_its_junior_capital_and_survivors_the_rest():
    # EUR millions. Aas's own collateral and contribution are not published: any X works,
    # the loss is X + 114 (it exceeded them by the 7 + 107 the statement reports).
    own_margin, own_fund = 30.0, 2.0
    loss = own_margin + own_fund + 7.0 + 107.0
    # survivors' contributions: a fund larger than the hit (it was not exhausted: "a portion
    # of the Commodity Member Default fund will be utilized", default notice of 12 Sept.)
    survivors = np.array([60.0, 50.0, 40.0, 16.0])
    r = default_waterfall(loss, margin_usd=own_margin, fund_usd=own_fund, sitg_usd=7.0,
                          survivor_fund_usd=survivors, assessment_multiple=1.0)
    assert r.defaulter_margin_usd == 30.0 and r.defaulter_fund_usd == 2.0
    assert r.skin_in_the_game_usd == 7.0
    assert r.survivors_fund_usd.sum() == pytest.approx(107.0, abs=1e-12)
    assert r.assessments_usd.sum() == 0.0 and r.residual_usd == 0.0
    # pro rata to contributions
    np.testing.assert_allclose(r.survivors_fund_usd, 107.0 * survivors / survivors.sum())


def test_layers_in_order_each_exhausted_before_the_next():
    # derived by hand from the layer order: 100 = 40 + 10 + 5 + 30 + 15, then nothing left
    r = default_waterfall(100.0, margin_usd=40.0, fund_usd=10.0, sitg_usd=5.0,
                          survivor_fund_usd=[20.0, 10.0], assessment_multiple=1.0)
    assert [name for name, _ in r.layers()] == list(WATERFALL_LAYERS)
    assert [x for _, x in r.layers()] == pytest.approx([40.0, 10.0, 5.0, 30.0, 15.0])
    np.testing.assert_allclose(r.survivor_loss_usd, [30.0, 15.0])
    # a small loss stays in the defaulter's margin
    small = default_waterfall(25.0, margin_usd=40.0, fund_usd=10.0, sitg_usd=5.0,
                              survivor_fund_usd=[20.0, 10.0], assessment_multiple=1.0)
    assert [x for _, x in small.layers()] == [25.0, 0.0, 0.0, 0.0, 0.0]


def test_assessments_capped_at_multiple_of_contribution_then_residual():
    # by hand: 200 - 40 - 10 - 5 - 30 = 115 to assess; cap 2 x 30 = 60; residual 55
    r = default_waterfall(200.0, margin_usd=40.0, fund_usd=10.0, sitg_usd=5.0,
                          survivor_fund_usd=[20.0, 10.0], assessment_multiple=2.0)
    np.testing.assert_allclose(r.assessments_usd, [40.0, 20.0])
    assert r.residual_usd == pytest.approx(55.0)
    no_calls = default_waterfall(200.0, margin_usd=40.0, fund_usd=10.0, sitg_usd=5.0,
                                 survivor_fund_usd=[20.0, 10.0], assessment_multiple=0.0)
    assert no_calls.assessments_usd.sum() == 0.0 and no_calls.residual_usd == pytest.approx(115.0)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.floats(0, 1e9), st.floats(0, 1e8), st.floats(0, 1e8), st.floats(0, 1e8),
       st.lists(st.floats(0, 1e8), max_size=6), st.floats(0, 5))
def test_waterfall_pays_the_loss_exactly_and_never_beyond_a_layer(loss, im, df, sitg, c, mult):
    r = default_waterfall(loss, margin_usd=im, fund_usd=df, sitg_usd=sitg,
                          survivor_fund_usd=c, assessment_multiple=mult)
    paid = sum(x for _, x in r.layers()) + r.residual_usd
    assert paid == pytest.approx(loss, rel=1e-12, abs=1e-6)
    c_arr = np.asarray(c, dtype=float)
    assert r.defaulter_margin_usd <= im and r.defaulter_fund_usd <= df
    assert r.skin_in_the_game_usd <= sitg
    assert (r.survivors_fund_usd <= c_arr * (1 + 1e-12) + 1e-9).all()
    assert (r.assessments_usd <= mult * c_arr * (1 + 1e-12) + 1e-9).all()
    if r.residual_usd > 1e-6:  # something left over only once every layer is spent
        assert r.assessments_usd.sum() == pytest.approx(mult * c_arr.sum())


def test_cover2_is_the_two_largest_uncovered_stress_losses():
    # by hand: uncovered 60, 30, 50, 0 -> 60 + 50
    assert cover2_fund_usd([100.0, 50.0, 80.0, 10.0], [40.0, 20.0, 30.0, 20.0]) == 110.0
    assert cover2_fund_usd([5.0], [10.0]) == 0.0
    with pytest.raises(ParameterError, match="margin_usd"):
        cover2_fund_usd([1.0, 2.0], [1.0])


def test_fund_allocation_and_initial_margin():
    np.testing.assert_allclose(allocate_fund(90.0, [2.0, 1.0, 0.0]), [60.0, 30.0, 0.0])
    np.testing.assert_allclose(allocate_fund(90.0, [0.0, 0.0]), [45.0, 45.0])
    # 99% one-day VaR of $1M at 2% daily vol: 2.326 x 0.02 x $1M = $46,520
    np.testing.assert_allclose(
        initial_margin_usd([1e6], vol_per_step=0.02, margin_period_steps=1, z_score=2.326),
        [46_520.0])


@pytest.mark.parametrize("kw,name", [({"margin_usd": -1.0}, "margin_usd"),
                                     ({"sitg_usd": float("nan")}, "sitg_usd"),
                                     ({"survivor_fund_usd": [1.0, -2.0]}, "survivor_fund_usd"),
                                     ({"assessment_multiple": -0.5}, "assessment_multiple")])
def test_bad_inputs_refused_naming_them(kw, name):
    args = {"margin_usd": 1.0, "fund_usd": 1.0, "sitg_usd": 1.0, "survivor_fund_usd": [1.0],
            "assessment_multiple": 1.0, **kw}
    with pytest.raises(ParameterError, match=name):
        default_waterfall(10.0, **args)
