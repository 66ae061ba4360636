"""Options and portfolio margin inside the perp venue (issue 12, docs/portfolio-margin.md).

The example scenario ``tests/data/options_pm_run.toml``: a perp venue on ETH with Deribit's
portfolio-margin grid (+-16% in 9 moves x vol up/same/down) and three option series, ETH
falling 12% over steps 5-8, the 1-day puts expiring at step 24.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contagion import ContagionModel
from contagion.agents.perp import PerpVenue, apply_option_trades, apply_trades
from contagion.errors import ParameterError
from contagion.mechanics.options import bsm_greeks
from contagion.params import OptionSeriesParams
from contagion.runner import simulate
from contagion.scenario import Scenario, override
from contagion.scenario_file import load
from models import get_scenario

RUN = Path(__file__).resolve().parent / "data" / "options_pm_run.toml"
PUT_7D, CALL_7D = 2, 1  # the example's series: 0 the 1-day 95% put, 1 the 7-day call, 2 the put


@pytest.fixture(scope="module")
def example() -> Scenario:
    return load(RUN)


def _quiet(sc: Scenario, *, steps: int = 12) -> Scenario:
    """The example with nobody drawn holding options and no top-ups: books to set by hand."""
    pv = dataclasses.replace(sc.perps[0], option_share_of_traders=0.0, share_of_traders=0.2)
    return dataclasses.replace(sc, perps=(pv,), market=dataclasses.replace(sc.market, steps=steps),
                               traders=dataclasses.replace(sc.traders, topup_share=0.0))


def _trade(pv: PerpVenue, row: int, *, perp: float = 0.0,
           options: dict[int, float] | None = None) -> None:
    """Give ``row`` these positions against the outside market makers (row 0) at the marks
    and the series' values: the venue's cash is unchanged."""
    b, mark = pv.book, float(pv.marks()[0])
    values = pv._pm_state(pv.marks()).values
    flat = -b.size[row, 0]
    for q in (flat, perp):
        if q:
            apply_trades(b, np.array([row]), np.array([q]), mark)
            apply_trades(b, np.array([0]), np.array([-q]), mark)
    for j, q in (options or {}).items():
        apply_option_trades(b, np.array([row]), np.array([q]), float(values[j]), j)
        apply_option_trades(b, np.array([0]), np.array([-q]), float(values[j]), j)
    pv.invalidate()


def _scale_to_ratio(pv: PerpVenue, row: int, ratio: float) -> float:
    """The factor that puts ``row``'s margin ratio at ``ratio`` (margin is homogeneous)."""
    eq, mm = pv.margin_state()
    return float(eq[row] / (ratio * mm[row]))


# ---------------------------------------------------------------- options off
def test_option_fields_change_nothing_while_the_venue_lists_no_options() -> None:
    sc = get_scenario("default", n_traders=200)
    assert all(pv.margin_model == "standard" and not pv.options for pv in sc.perps)
    base = simulate(dataclasses.replace(sc, market=dataclasses.replace(sc.market, steps=30)),
                    seed=4)
    for field, value in (("option_hedge_frac", 0.7), ("option_long_share", 0.1),
                         ("option_liquidation_spread_frac", 0.3), ("pm_price_range_frac", 0.5)):
        sc = override(sc, f"perps.PerpX.{field}", value)
    other = simulate(dataclasses.replace(sc, market=dataclasses.replace(sc.market, steps=30)),
                     seed=4)
    pd.testing.assert_frame_equal(base.events, other.events)
    pd.testing.assert_frame_equal(base.series, other.series)
    assert not any(c.startswith(("net_delta_", "portfolio_margin_")) for c in base.series.columns)


# ---------------------------------------------------------------- parameters
def test_option_parameters_are_checked_against_the_venue_and_the_surfaces(example: Scenario
                                                                          ) -> None:
    pv = example.perps[0]
    btc = OptionSeriesParams(asset="BTC", kind="call")
    with pytest.raises(ParameterError, match=r"perps\[OptX\]\.options\[BTC\]\.asset"):
        dataclasses.replace(pv, options=(btc,))
    with pytest.raises(ParameterError, match=r"perps\[OptX\]\.margin_model.*'portfolio'"):
        dataclasses.replace(pv, margin_model="standard")
    with pytest.raises(ParameterError, match=r"options\[ETH\]\.asset.*vol_surfaces"):
        dataclasses.replace(example, vol_surfaces=())
    with pytest.raises(ParameterError, match=r"vol_surfaces\[ETH\]\.vols\[1\]\[0\]"):
        dataclasses.replace(example.vol_surfaces[0], vols=((0.5,) * 3, (-0.1, 0.5, 0.5),
                                                           (0.5,) * 3))
    with pytest.raises(ParameterError, match=r"vol_surfaces\[ETH\]\.moneyness\[1\]"):
        dataclasses.replace(example.vol_surfaces[0], moneyness=(1.0, 0.9, 1.2))


# ---------------------------------------------------------------- conservation
def test_conservation_holds_through_option_liquidations_and_an_expiry(example: Scenario
                                                                      ) -> None:
    model = ContagionModel(example, seed=0, check_conservation=True)  # asserts every step
    for _ in range(example.market.steps):
        model.step()
    ev = model.events.to_frame()
    kinds = set(ev["kind"])
    assert {"option_liquidation", "option_expiry", "perp_liquidation"} <= kinds
    expiry = ev[ev["kind"] == "option_expiry"].iloc[0]
    assert expiry["step"] == 24 and expiry["strike"] == pytest.approx(1900.0)
    assert expiry["amount"] == pytest.approx(max(1900.0 - expiry["price"], 0.0))
    pv = model.perps[0]
    assert not pv.book.opt_size[:, 0].any()  # the expired series is gone from every row
    assert pv.book.opt_size[:, 1:].sum(axis=0) == pytest.approx([0.0, 0.0], abs=1e-6)


def test_option_trades_and_expiry_leave_the_venue_cash_unchanged(example: Scenario) -> None:
    model = ContagionModel(example, seed=2)
    pv = model.perps[0]
    b = pv.book
    cash = b.cash()
    assert b.series == 3 and (b.opt_size[1:] != 0).any()
    rows = np.flatnonzero(b.opt_size[1:, PUT_7D] != 0)[:5] + 1
    q = b.opt_size[rows, PUT_7D].copy()
    apply_option_trades(b, rows, -q, 123.0, PUT_7D)  # they close, at a price of nobody's
    apply_option_trades(b, np.array([0]), np.array([q.sum()]), 123.0, PUT_7D)
    assert b.cash() == pytest.approx(cash, rel=1e-12)
    before = b.collateral.copy()
    pv._opt_expiry0 = np.zeros(3)  # every series expires now, at the mark
    pv._settle_expiries()
    assert b.cash() == pytest.approx(cash, rel=1e-12)
    assert not b.opt_size.any()
    assert not np.array_equal(before, b.collateral)  # premiums and payoffs settled


# ---------------------------------------------------------------- liquidation
def _short_put_book(example: Scenario, *, hedged: bool) -> tuple[ContagionModel, int]:
    """A trader short 7-day at-the-money puts, sized so that unhedged its margin ratio is
    1.5; ``hedged``: the same puts plus a short perp of their delta."""
    model = ContagionModel(_quiet(example), seed=1, check_conservation=True)
    pv = model.perps[0]
    row = 1
    _trade(pv, row, options={PUT_7D: -1.0})
    units = _scale_to_ratio(pv, row, 1.5)
    _trade(pv, row, options={PUT_7D: 1.0 - units})  # now short `units`
    if hedged:
        st = pv._pm_state(pv.marks())
        delta = float(bsm_greeks(False, pv.mark(), pv._opt_strike[PUT_7D],
                                 st.tte_yrs[PUT_7D], st.vols[1 + PUT_7D]).delta)
        _trade(pv, row, perp=-delta * -units)
    return model, row


def test_a_delta_hedged_short_put_survives_a_12pct_fall_the_naked_one_does_not(
        example: Scenario) -> None:
    out = {}
    for hedged in (False, True):
        model, row = _short_put_book(example, hedged=hedged)
        pv = model.perps[0]
        ratio0 = float(pv.margin_ratio()[row])
        for _ in range(10):
            model.step()
        assert pv.mark() < 0.9 * 2000.0  # ETH fell ~12%
        ev = model.events.to_frame()
        owner = int(pv.book.owner[row])
        out[hedged] = (ratio0, ev[(ev["kind"] == "option_liquidation")
                                  & (ev["account"] == owner)])
    (r_naked, naked), (r_hedged, hedged_ev) = out[False], out[True]
    assert r_naked == pytest.approx(1.5) and r_hedged > 2 * r_naked  # the hedge offsets
    assert len(naked) == 1 and naked["amount"].iloc[0] < 0
    assert hedged_ev.empty


def test_the_first_option_closed_in_a_mixed_book_is_its_naked_short_leg(example: Scenario
                                                                        ) -> None:
    model = ContagionModel(_quiet(example), seed=1, check_conservation=True)
    pv = model.perps[0]
    row = 1
    legs = {CALL_7D: 0.5, PUT_7D: -1.0}
    _trade(pv, row, perp=0.2, options=legs)
    k = _scale_to_ratio(pv, row, 1.2)
    _trade(pv, row, perp=0.2 * k, options={j: q * k for j, q in legs.items()})
    for _ in range(10):
        model.step()
    ev = model.events.to_frame()
    mine = ev[ev["kind"].isin(["option_liquidation", "perp_liquidation"])
              & (ev["account"] == int(pv.book.owner[row]))].sort_values("event_id")
    first = mine[mine["kind"] == "option_liquidation"].iloc[0]
    assert first["option_kind"] == "put" and first["amount"] < 0 and first["rank"] == 0
    assert first["risk_contribution_usd"] == mine["risk_contribution_usd"].max() > 0
    assert first["pm_usd"] > 0
    # it stopped once its equity covered the margin: the long calls and the perp are kept
    assert pv.book.opt_size[row, CALL_7D] > 0 and pv.book.size[row, 0] > 0
    assert not pv.book.opt_size[row, PUT_7D]


def test_same_seed_same_events_and_greeks(example: Scenario) -> None:
    a, b = simulate(example, seed=5), simulate(example, seed=5)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.series, b.series)
    cols = ["portfolio_margin_OptX", "net_delta_OptX_ETH", "gamma_OptX_ETH", "vega_OptX_ETH"]
    assert set(cols) <= set(a.series.columns)
    assert a.series["portfolio_margin_OptX"].iloc[0] > 0
    assert np.isfinite(a.series[cols].to_numpy()).all()
