"""Crowded longs (issue 12): funding bleeds a crowded long book before the price falls.

What the preset must show (models/crowded_longs.py): with ``funding`` on, PerpF's longs pay
the shorts every hour; the most leveraged are liquidated by the bleed and the squeeze their
sales start, long before ETH's path has any shock, and funding falls to its floor as the
crowd thins. The crash then finds far fewer longs: with ``funding=False`` (seed 0 both) the
same fall liquidates the whole crowd, exhausts the insurance fund and auto-deleverages the
shorts. Funding changes the outcome, not only the accounting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.runner import RunResult, simulate
from models import PRESET_INFO, SCENARIOS, get_scenario
from models.crowded_longs import crowded_longs

CRASH = 96  # the preset's shock_start_step: ETH's path has no shock before it


def _run(**kw: object) -> RunResult:
    return simulate(get_scenario("crowded_longs", **kw), seed=0, check_conservation=True)


@pytest.fixture(scope="module")
def on() -> RunResult:
    return _run()


@pytest.fixture(scope="module")
def off() -> RunResult:
    return _run(funding=False)


def _of(m: RunResult, kind: str) -> pd.DataFrame:
    return m.events[m.events["kind"] == kind]


def _liquidations(m: RunResult) -> tuple[int, int]:
    steps = _of(m, "perp_liquidation")["step"]
    return int((steps < CRASH).sum()), int((steps >= CRASH).sum())


def test_registered_with_its_menu_entry() -> None:
    assert SCENARIOS["crowded_longs"] is crowded_longs
    assert PRESET_INFO["crowded_longs"].date == "stylised"
    (perp,) = get_scenario("crowded_longs").perps
    assert perp.funding and perp.long_share == 0.85
    assert perp.funding_cap_frac == pytest.approx(6 * (0.05 - 0.025))  # dYdX's 6 (IMF - MMF)
    assert not get_scenario("crowded_longs", funding=False).perps[0].funding


def test_longs_pay_shorts_every_hour_and_nothing_is_created(on: RunResult) -> None:
    f = _of(on, "funding")
    assert len(f) == on.scenario.market.steps  # one payment an hour
    assert (f["paid_usd"].to_numpy() == pytest.approx(f["received_usd"].to_numpy(), rel=1e-9))
    s = on.series
    start = f.iloc[0]
    assert start["paying_side"] == "longs" and start["payers"] > 800
    assert 0.0025 < s["funding_PerpF_ETH"].iloc[1] < 0.0027  # 0.26% per 8h, under the cap
    assert start["uncapped_rate_frac"] == start["period_rate_frac"]
    # the crowd thins and funding falls to its floor, the interest rate, well before the crash
    assert s["funding_PerpF_ETH"].iloc[32:CRASH].to_numpy() == pytest.approx(1e-4, rel=1e-9)
    assert f[f["step"] < CRASH]["paid_usd"].sum() > 2e6


def test_funding_liquidates_the_crowd_before_any_shock(on: RunResult,
                                                       off: RunResult) -> None:
    before_on, _ = _liquidations(on)
    before_off, _ = _liquidations(off)
    assert before_on > 300 and before_off < 30
    # the squeeze: liquidated longs' sales push ETH down though its path has no shock yet
    s_on = on.series
    s_off = off.series
    assert s_on["price_ETH"].iloc[32] < 0.9 * s_on["price_ETH"].iloc[0]
    assert s_off["price_ETH"].iloc[CRASH] > 0.98 * s_off["price_ETH"].iloc[0]


def test_the_crash_then_finds_a_thinner_crowd(on: RunResult, off: RunResult) -> None:
    _, crash_on = _liquidations(on)
    _, crash_off = _liquidations(off)
    assert crash_on < 0.5 * crash_off
    sum_on, sum_off = on.summary, off.summary
    assert sum_on["bad_debt_usd"] < 0.2 * sum_off["bad_debt_usd"]
    assert sum_on["adl_usd"] == 0.0 < 5e7 < sum_off["adl_usd"]
    assert sum_on["fund_depletion_frac"] < 0.1 and sum_off["funds_exhausted"] == [
        "PerpF-Insurance"]
    assert sum_on["defaults"] == sum_off["defaults"] == 0


def test_a_milder_rate_paid_longer_does_not_thin_the_crowd(on: RunResult) -> None:
    """Lesson 12's exercise: half the premium sensitivity, a 0.11% rate: fewer than 40
    liquidations before the crash, which then meets the crowd as if funding were off, though
    the longs pay more funding in all."""
    mild = _run(premium_sensitivity=0.01)
    before, crash = _liquidations(mild)
    assert before < 40 and crash > 2 * _liquidations(on)[1]
    assert mild.summary["adl_usd"] > 5e7
    assert _of(mild, "funding")["paid_usd"].sum() > _of(on, "funding")["paid_usd"].sum()


def test_same_seed_same_run(on: RunResult) -> None:
    again = _run()
    pd.testing.assert_frame_equal(on.events, again.events)
    assert np.array_equal(on.series.to_numpy(), again.series.to_numpy())


@pytest.mark.parametrize(("key", "value"), [
    ("long_share", 1.5), ("mean_leverage", 25.0), ("premium_sensitivity", -1.0),
    ("shock_frac", 0.9), ("funding", "yes"), ("shock_duration_steps", 0)])
def test_bad_parameters_are_refused_by_name(key: str, value: object) -> None:
    with pytest.raises(ParameterError, match=key):
        get_scenario("crowded_longs", **{key: value})
