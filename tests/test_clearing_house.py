"""The clearing house in the engine (contagion/agents/clearing_house.py): variation margin,
the default waterfall against the pure function, survivors' losses on their books, the
world graph's clears / default_fund edges, and bad parameters."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.mechanics.waterfall import WATERFALL_LAYERS, default_waterfall
from contagion.model import ContagionModel
from contagion.params import ClearingHouseParams, ClearingMemberParams
from contagion.world import build_world
from models import get_scenario

STEPS = 16  # the crash is at steps 12-13; BetaFund fails at 14


@pytest.fixture(scope="module")
def scenario():
    return get_scenario("clearing_house", n_traders=200)


@pytest.fixture(scope="module")
def model(scenario):
    m = ContagionModel(scenario, seed=0, check_conservation=True)  # checked every step
    m.run(STEPS)
    return m


def _events(m: ContagionModel, kind: str) -> pd.DataFrame:
    ev = m.events_frame
    return ev[ev["kind"] == kind]


def test_members_post_margin_and_fund_from_cash_and_keep_a_claim(scenario):
    m = ContagionModel(scenario, seed=0)
    house = m.clearing_houses[0]
    margins, funds = scenario.clearing_houses[0].resources_usd()
    np.testing.assert_allclose(house.margin_usd, margins)
    np.testing.assert_allclose(house.fund_usd, funds)
    assert house.fund_usd.sum() == pytest.approx(2e7)
    for i, member in enumerate(house.members):
        assert member.house_claims_usd == pytest.approx(margins[i] + funds[i])
    beta = m.institutions["BetaFund"]
    assert beta.cash_usd == pytest.approx(2.4e7 - margins[1] - funds[1])
    assert house.cash_usd == pytest.approx(sum(margins) + sum(funds) + 2e6)


def test_missed_margin_call_defaults_the_member_and_runs_the_waterfall_in_order(model):
    calls = _events(model, "variation_margin_call")
    missed = calls[calls["outcome"] == "missed"]
    assert list(missed["agent"]) == ["Aas"] and int(missed["step"].iloc[0]) == 13
    assert float(missed["unpaid_usd"].iloc[0]) > 0
    d = _events(model, "default")
    aas = d[d["venue"] == "Aas"]
    assert list(aas["reason"]) == ["missed_margin_call"]
    assert int(aas["cause_id"].iloc[0]) == int(missed["event_id"].iloc[0])
    wf = _events(model, "waterfall")
    wf_aas = wf[wf["agent"] == "Aas"]
    # every layer used, in the waterfall's order, each after the one before
    assert list(wf_aas["layer"]) == list(WATERFALL_LAYERS)
    assert (np.diff(wf_aas["residual_usd"].to_numpy()) < 0).all()
    loss = float(wf_aas["loss_usd"].iloc[0])
    assert wf_aas["value_usd"].sum() + float(wf_aas["residual_usd"].iloc[-1]) == pytest.approx(loss)


def test_engine_waterfall_equals_the_pure_function(model):
    house = model.clearing_houses[0]
    assert house.waterfalls
    wf = _events(model, "waterfall")
    for rec in house.waterfalls:
        r = default_waterfall(rec["loss_usd"], margin_usd=rec["margin_usd"],
                              fund_usd=rec["fund_usd"], sitg_usd=rec["sitg_usd"],
                              survivor_fund_usd=rec["survivor_fund_usd"],
                              assessment_multiple=rec["assessment_multiple"])
        logged = wf[(wf["agent"] == rec["member"]) & (wf["step"] == rec["step"])]
        expect = [(name, paid) for name, paid in r.layers() if paid > 0]
        assert list(logged["layer"]) == [name for name, _ in expect]
        assert logged["value_usd"].tolist() == [paid for _, paid in expect]  # exact


def test_survivors_losses_are_booked_and_a_thin_survivor_fails(model):
    losses = _events(model, "default_fund_loss")
    assert set(losses["venue"]) == {"BetaFund", "CEX"}
    wf = _events(model, "waterfall")
    wf_aas = wf[wf["agent"] == "Aas"].set_index("layer")["value_usd"]
    assert losses["fund_loss_usd"].sum() == pytest.approx(wf_aas["survivors_fund"])
    assert losses["assessment_usd"].sum() == pytest.approx(wf_aas["assessments"])
    house = model.clearing_houses[0]
    beta = model.institutions["BetaFund"]
    b = losses[losses["venue"] == "BetaFund"].iloc[0]
    assert float(b["fund_left_usd"]) == pytest.approx(0.0, abs=1e-6)  # its contribution spent
    assert float(b["assessment_paid_usd"]) == pytest.approx(float(b["assessment_usd"]))
    # BetaFund then fails at its own books, and CEX's loan to it is impaired
    d = _events(model, "default")
    assert list(d[d["venue"] == "BetaFund"]["step"]) == [14]
    # solvent but for the house's losses: its default cites them, not the price move
    assert int(d[d["venue"] == "BetaFund"]["cause_id"].iloc[0]) == int(b["event_id"])
    assert beta.house_losses_usd == pytest.approx(float(b["value_usd"]))
    loans = _events(model, "loan_loss")
    assert ((loans["venue"] == "CEX") & (loans["agent"] == "BetaFund")).any()
    # closed out at the house the step after: its margin left goes back to its estate
    assert not house.open[house.member_names().index("BetaFund")]
    assert beta.house_claims_usd == pytest.approx(0.0, abs=1e-6)


def test_larger_skin_in_the_game_spares_the_survivors():
    sc = get_scenario("clearing_house", n_traders=200, skin_in_the_game_usd=6e7)
    m = ContagionModel(sc, seed=0)
    m.run(STEPS)
    assert _events(m, "default_fund_loss").empty
    d = _events(m, "default")
    assert list(d["venue"]) == ["Aas"]


def test_same_seed_same_events(scenario, model):
    again = ContagionModel(scenario, seed=0)
    again.run(STEPS)
    pd.testing.assert_frame_equal(again.events_frame, model.events_frame)


def test_cutting_a_clears_edge_removes_the_member(scenario):
    G = build_world(scenario)
    G.remove_edge("Aas", "CCP", key="clears")
    m = ContagionModel(scenario, seed=0, world=G)
    house = m.clearing_houses[0]
    assert house.member_names() == ["BetaFund", "CEX"]
    m.run(STEPS)
    assert _events(m, "waterfall").empty
    assert "Aas" not in set(_events(m, "variation_margin_call")["agent"])


def test_clears_edges_cannot_change_after_set_up(scenario):
    m = ContagionModel(scenario, seed=0)
    m.graph.remove_edge("Aas", "CCP", key="clears")
    with pytest.raises(ParameterError, match="clears"):
        m.step()


def _house(**kw):
    base = dict(name="CCP", asset="ETH", oracle="ETH-feed",
                members=(ClearingMemberParams(name="Aas", notional_usd=1e7),))
    return ClearingHouseParams(**{**base, **kw})


@pytest.mark.parametrize("make,field", [
    (lambda: ClearingMemberParams(name="Aas", notional_usd=-2e15), r"members\[Aas\].notional_usd"),
    (lambda: ClearingMemberParams(name="A s", notional_usd=1.0), r"members\[A s\].name"),
    (lambda: _house(members=()), r"clearing_houses\[CCP\].members"),
    (lambda: _house(assessment_multiple=-1.0), "assessment_multiple"),
    (lambda: _house(default_fund_usd=-5.0), "default_fund_usd"),
    (lambda: _house(default_fund_rule="cover3"), "default_fund_rule"),
    (lambda: _house(closeout_cost_frac=1.5), "closeout_cost_frac"),
])
def test_bad_parameters_refused_naming_the_field(make, field):
    with pytest.raises(ParameterError, match=field):
        make()


@pytest.mark.parametrize("kw,field", [
    ({"members": (ClearingMemberParams(name="Nobody", notional_usd=1e7),)},
     r"members\[Nobody\].name"),
    ({"oracle": "EXT-spot"}, r"clearing_houses\[CCP\].oracle"),
    ({"asset": "USDC", "oracle": "ETH-feed"}, r"clearing_houses\[CCP\].asset"),
    ({"name": "CEX"}, r"clearing_houses\[CEX\].name"),
])
def test_bad_cross_references_refused(scenario, kw, field):
    with pytest.raises(ParameterError, match=field):
        dataclasses.replace(scenario, clearing_houses=(_house(**kw),))


def test_a_member_that_cannot_post_its_margin_is_refused(scenario):
    big = _house(members=(ClearingMemberParams(name="Aas", notional_usd=5e9),),
                 default_fund_rule="fixed")
    sc = dataclasses.replace(scenario, clearing_houses=(big,))
    with pytest.raises(ParameterError, match=r"members\[Aas\].notional_usd"):
        ContagionModel(sc, seed=0)


@pytest.mark.parametrize("ext", ["json", "graphml"])
def test_a_world_file_round_trip_runs_the_same(scenario, model, tmp_path, ext):
    from contagion.world import read_world, write_world

    path = write_world(build_world(scenario), tmp_path / f"world.{ext}")
    again = ContagionModel(scenario, seed=0, world=read_world(path))
    again.run(STEPS)
    pd.testing.assert_frame_equal(again.events_frame, model.events_frame)


def test_a_house_with_nothing_to_clear_changes_nothing():
    base = get_scenario("default", n_traders=200)
    idle = ClearingHouseParams(name="CCP", asset="ETH", oracle="ETH-feed",
                               members=(ClearingMemberParams(name="AlphaFund", notional_usd=0.0),
                                        ClearingMemberParams(name="CEX", notional_usd=0.0)),
                               default_fund_rule="fixed")
    a = ContagionModel(base, seed=3)
    b = ContagionModel(dataclasses.replace(base, clearing_houses=(idle,)), seed=3,
                       check_conservation=True)
    a.run(40)
    b.run(40)
    pd.testing.assert_frame_equal(a.events_frame, b.events_frame)
    assert b.clearing_houses[0].cash_usd == 0.0


def test_series_follow_the_fund_and_the_skin_in_the_game(model):
    s = model.datacollector.get_model_vars_dataframe()
    fund, sitg = s["default_fund_CCP"], s["skin_in_the_game_CCP"]
    assert fund.iloc[0] == pytest.approx(2e7) and sitg.iloc[0] == pytest.approx(2e6)
    assert sitg.iloc[13] == 0.0  # spent on Aas at step 13
    # BetaFund's and CEX's contributions are spent; Aas's went first
    assert fund.iloc[13] == pytest.approx(0.0, abs=1e-6)


def test_cover2_sizes_the_fund_from_the_two_largest_uncovered_stress_losses():
    from contagion.mechanics.waterfall import cover2_fund_usd, initial_margin_usd

    h = ClearingHouseParams(name="CCP", asset="ETH", oracle="ETH-feed",
                            members=(ClearingMemberParams(name="A", notional_usd=1e8),
                                     ClearingMemberParams(name="B", notional_usd=-6e7),
                                     ClearingMemberParams(name="C", notional_usd=2e7)),
                            margin_vol_per_step=0.005, stress_move_frac=0.25)
    margins, funds = h.resources_usd()
    im = initial_margin_usd([1e8, -6e7, 2e7], vol_per_step=0.005, margin_period_steps=12,
                            z_score=2.326)
    np.testing.assert_allclose(margins, im)
    # by hand: stress losses 25M, 15M, 5M less margins ~4.03M, 2.42M, 0.81M -> 20.97M + 12.58M
    assert sum(funds) == pytest.approx(cover2_fund_usd([2.5e7, 1.5e7, 5e6], im))
    assert sum(funds) == pytest.approx(2.5e7 + 1.5e7 - im[0] - im[1])
    np.testing.assert_allclose(np.array(funds) / sum(funds), im / im.sum())
    floor = dataclasses.replace(h, default_fund_usd=1e8)
    assert sum(floor.resources_usd()[1]) == pytest.approx(1e8)  # at least the floor
