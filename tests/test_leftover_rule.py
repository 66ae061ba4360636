"""Aave v3.3's leftover rule in the engine (``LendingParams.leftover_rule``, issue 13): no
liquidation leaves a position with some debt or collateral worth less than
``MIN_LEFTOVER_BASE`` (``min_close_base_usd / 2``) unless it took all of it; keepers shrink
a liquidation to the floor as Aave's ``LiquidationDataProvider`` does, and the events say by
how much. With the rule off the same keepers leave such dust.

The market: the default scenario's traders with $20,000 of mean wealth and one keeper whose
$10,000 of capital runs out mid-account every step, so it often covers part of a position;
traders do not top up (so every change to a liquidated row is the keeper's)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from contagion.errors import ParameterError
from contagion.model import ContagionModel
from contagion.params import LendingParams
from contagion.scenario import Scenario
from models import get_scenario

FLOOR = 1000.0  # min_close_base_usd 2,000 / 2


def _scenario(rule: bool) -> Scenario:
    sc = get_scenario("default", n_traders=1000)
    return replace(
        sc,
        lending=tuple(replace(v, close_factor_rule="v3.3", leftover_rule=rule)
                      for v in sc.lending),
        traders=replace(sc.traders, mean_wealth_usd=2e4, topup_share=0.0),
        liquidators=tuple(replace(x, capital_usd=1e4) for x in sc.liquidators))


def _dust_left(rule: bool) -> tuple[int, ContagionModel]:
    """Liquidations that left a position with debt or collateral in (0, FLOOR) at the
    oracle prices of their step."""
    model = ContagionModel(_scenario(rule), seed=0, check_conservation=True)
    dusty = 0
    for _ in range(model.scenario.market.steps):
        model.step()
        ev = model.events_frame
        liq = ev[(ev["kind"] == "liquidation") & (ev["step"] == model.steps)]
        for v in model.lending:
            owners = liq.loc[liq["venue"] == v.name, "account"].unique()
            if owners.size == 0:
                continue
            rows = np.flatnonzero(np.isin(v.book.owner, owners))
            debt = v.book.debt[rows]
            coll = (v.book.collateral[rows] * v.prices()).max(axis=1)
            tol = 1e-6 * FLOOR
            dusty += int((((debt > tol) & (debt < FLOOR - tol))
                          | ((coll > tol) & (coll < FLOOR - tol) & (debt > tol))).sum())
    return dusty, model


@pytest.fixture(scope="module")
def runs() -> dict[bool, tuple[int, ContagionModel]]:
    return {rule: _dust_left(rule) for rule in (False, True)}


def test_the_rule_leaves_no_dust_and_without_it_keepers_do(
        runs: dict[bool, tuple[int, ContagionModel]]) -> None:
    assert runs[True][0] == 0
    assert runs[False][0] > 0, "the same market without the rule must leave dust"


def test_shrinking_is_recorded(runs: dict[bool, tuple[int, ContagionModel]]) -> None:
    on = runs[True][1].events_frame
    liq = on[(on["kind"] == "liquidation") & (on["mode"] == "bonus")]
    shrunk = liq["leftover_shrunk_usd"]
    assert shrunk.notna().all() and (shrunk >= 0).all()
    assert (shrunk > 0).sum() >= 5
    off = runs[False][1].events_frame
    assert off.loc[off["kind"] == "liquidation", "leftover_shrunk_usd"].isna().all()


def test_same_seed_same_events_with_the_rule() -> None:
    a = ContagionModel(_scenario(True), seed=3)
    b = ContagionModel(_scenario(True), seed=3)
    a.run()
    b.run()
    assert a.events_frame.equals(b.events_frame)


def test_the_rule_needs_v33_and_fixed_bonus() -> None:
    base = get_scenario("default").lending[0]
    with pytest.raises(ParameterError, match="leftover_rule"):
        replace(base, leftover_rule=True)
    fields = {f: getattr(base, f) for f in ("name", "collateral")}
    with pytest.raises(ParameterError, match="leftover_rule"):
        LendingParams(**fields, close_factor_rule="v3.3", leftover_rule=True,
                      liquidation_mode="auction")


def test_the_story_tells_the_rule(runs: dict[bool, tuple[int, ContagionModel]]) -> None:
    """The step's story says how much repayment the rule held back (from the event's
    ``leftover_shrunk_usd``, not its text)."""
    from contagion.runner import simulate
    from dashboard.narrative import step_narrative

    res = simulate(_scenario(True), seed=0)
    liq = res.events[res.events["kind"] == "liquidation"]
    step = int(liq.loc[liq["leftover_shrunk_usd"] > 0, "step"].iloc[0])
    story = " ".join(step_narrative(res.events, res.series, step))
    assert "leftover rule held back" in story, story
