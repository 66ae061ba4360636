"""Liquidation dust (issue 13): Aave v3.3's leftover rule in a run a class can follow.

What the preset must show (models/liquidation_dust.py): a keeper short of capital covers part
of a debt every step. With v3.3's leftover rule (the default) no liquidation leaves a position
with debt or collateral under MIN_LEFTOVER_BASE ($1,000): the keeper repays less on the
accounts where covering all it could would (``leftover_shrunk_usd``). Without it the same keeper
leaves such dust, under water; the venue's bad debt is the same within a tenth of a percent.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from contagion.errors import ParameterError
from contagion.model import ContagionModel
from contagion.runner import RunResult, simulate
from models import PRESET_INFO, SCENARIOS, get_scenario

FLOOR = 1000.0  # MIN_LEFTOVER_BASE: min_close_base_usd 2,000 / 2


@cache
def _run(rule: bool) -> RunResult:
    return simulate(get_scenario("liquidation_dust", leftover_rule=rule), seed=0,
                    check_conservation=True)


def test_the_rule_leaves_no_dust_and_without_it_the_keeper_does() -> None:
    on, off = _run(True).series, _run(False).series
    assert (on["dust_positions_Aave"] == 0).all() and (on["dust_debt_Aave"] == 0).all()
    assert off["dust_positions_Aave"].iloc[-1] == 12
    assert off["dust_debt_Aave"].iloc[-1] == pytest.approx(17_209.49, abs=0.01)
    first = int(off.index[off["dust_positions_Aave"] > 0].min())
    shrunk = _run(True).events
    shrunk = shrunk[(shrunk["kind"] == "liquidation") & (shrunk["leftover_shrunk_usd"] > 0)]
    assert first == int(shrunk["step"].min()) == 70  # the first shrunk liquidation, same step


def test_the_rule_moves_where_the_loss_sits_not_its_size() -> None:
    on, off = _run(True).summary, _run(False).summary
    assert on["liquidations"] == off["liquidations"] == 564
    assert on["bad_debt_usd"] == pytest.approx(off["bad_debt_usd"], rel=1e-3)
    ev = _run(True).events
    liq = ev[ev["kind"] == "liquidation"]
    assert (liq["leftover_shrunk_usd"] > 0).sum() == 12
    assert liq["leftover_shrunk_usd"].sum() == pytest.approx(5_371.35, abs=0.01)
    # the keeper repays what it held back less, and nothing else changes hands for it
    assert off["liquidation_volume_usd"] - on["liquidation_volume_usd"] == pytest.approx(
        liq["leftover_shrunk_usd"].sum(), rel=1e-9)


def test_dust_is_what_the_series_says_and_it_is_under_water() -> None:
    model = ContagionModel(get_scenario("liquidation_dust", leftover_rule=False), seed=0)
    model.run()
    v = model.lending[0]
    rows = np.flatnonzero(v.liquidated_rows)
    debt = v.debt_usd(rows)
    coll = v.book.collateral[rows] @ v.prices()
    dust = (debt > 1e-6) & ((debt < FLOOR) | ((coll > 1e-6) & (coll < FLOOR)))
    assert v.dust_left() == (int(dust.sum()), pytest.approx(float(debt[dust].sum())))
    assert (v.health()[rows][dust] < 1).all()  # worth less than it owes: no keeper's profit


def test_only_v33_venues_report_dust_and_the_preset_is_listed() -> None:
    assert not any(c.startswith("dust_") for c in simulate(get_scenario("default", steps=3),
                                                           seed=0).series.columns)
    assert "liquidation_dust" in SCENARIOS
    assert PRESET_INFO["liquidation_dust"].date == "stylised"


@pytest.mark.parametrize(("kw", "name"), [({"keeper_capital_usd": -1.0}, "keeper_capital_usd"),
                                          ({"leftover_rule": 1}, "leftover_rule"),
                                          ({"shock_frac": 0.95}, "shock_frac")])
def test_bad_parameters_are_refused_naming_them(kw: dict[str, object], name: str) -> None:
    with pytest.raises(ParameterError, match=name):
        get_scenario("liquidation_dust", **kw)
