"""The Black Thursday preset: zero-bid auctions in a gas spike leave Maker with bad debt."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.events import trace_cause
from contagion.model import ContagionModel
from contagion.runner import RunResult, simulate
from contagion.scenario import override
from dashboard.forms import fields_for
from models import SCENARIOS, get_scenario, scenario_parameters

SEEDS = (1, 2, 3)
N = 400  # traders in the qualitative runs
SPIKE = range(56, 56 + 32)  # the default gas spike's steps


@cache
def run(seed: int, n_traders: int = N, **kw: Any) -> RunResult:
    sc = get_scenario("black_thursday", n_traders=n_traders, **kw)
    # no per-step network snapshots: these tests read events, series and the summary
    return simulate(override(sc, "market.record_network_every", 0), seed=seed)


def kinds(r: RunResult, kind: str) -> pd.DataFrame:
    return r.events[r.events["kind"] == kind]


def initial_debt(seed: int, n_traders: int) -> float:
    m = ContagionModel(get_scenario("black_thursday", n_traders=n_traders), seed=seed)
    return float(m.lending[0].book.debt.sum())


@pytest.mark.parametrize("seed", SEEDS)
def test_zero_bid_auctions_in_the_gas_spike_leave_bad_debt(seed: int) -> None:
    r = run(seed)
    zero = kinds(r, "zero_bid")
    assert len(zero) > 0 and len(kinds(r, "auction")) > 0
    assert set(zero["step"]) <= set(SPIKE)  # a lone keeper only while the others are out
    assert (zero["value_usd"] == 0).all()
    assert r.summary["bad_debt_usd"] > 1e6
    # each shortfall traces back: bad debt <- zero bid <- bite <- OSM update <- price move
    chain = trace_cause(r.events, int(kinds(r, "bad_debt")["event_id"].iloc[0]))
    by_id = r.events.set_index("event_id")["kind"]
    assert [by_id[e] for e in chain[:4]] == ["bad_debt", "zero_bid", "liquidation",
                                             "oracle_update"]


def test_the_gas_spike_makes_three_of_four_keepers_drop_out() -> None:
    r = run(1)
    spike = kinds(r, "gas_spike")
    assert spike["step"].tolist() == [SPIKE.start, SPIKE.stop]
    assert spike["amount"].tolist() == [6.0, 1.0]
    out = kinds(r, "keeper_dropout")
    assert out["amount"].tolist() == [1.0, 2.0, 3.0]  # keepers 1-3; keeper 4 (7x) stays
    assert (out["step"] == SPIKE.start).all()
    assert (out["cause_id"] == spike["event_id"].iloc[0]).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_without_the_gas_spike_zero_bids_vanish_and_bad_debt_with_them(seed: int) -> None:
    base, calm = run(seed), run(seed, gas_spike_multiplier=1.0)
    assert len(kinds(calm, "zero_bid")) == 0 and len(kinds(calm, "keeper_dropout")) == 0
    assert len(kinds(calm, "auction")) >= len(kinds(base, "auction"))
    assert calm.summary["bad_debt_usd"] <= 0.01 * base.summary["bad_debt_usd"]


@pytest.mark.parametrize("seed", SEEDS)
def test_enough_keepers_keep_the_auctions_competitive_through_the_spike(seed: int) -> None:
    # with 8 keepers (tolerances up to 7x in steps of 0.75x) two still bid at 6x
    r = run(seed, keeper_bidders=8)
    assert len(kinds(r, "zero_bid")) == 0
    assert r.summary["bad_debt_usd"] <= 0.01 * run(seed).summary["bad_debt_usd"]


@pytest.mark.parametrize("seed", SEEDS)
def test_without_the_osm_delay_vaults_are_bitten_earlier_and_with_more_collateral(
        seed: int) -> None:
    def bites(r: RunResult) -> tuple[int, float]:
        b = kinds(r, "liquidation")
        market = r.series.loc[b["step"], "price_ETH"].to_numpy()
        ratio = float((b["amount"].to_numpy() * market).sum() / b["value_usd"].sum())
        return int(b["step"].min()), ratio

    (late_step, late_ratio), (now_step, now_ratio) = bites(run(seed)), bites(
        run(seed, oracle_delay_steps=0))
    assert now_step <= late_step - 4  # the OSM's hour (plus up to an hour to its next poke)
    assert now_ratio >= late_ratio + 0.03  # ~149% of the debt at market instead of ~143%


@pytest.mark.parametrize("seed", SEEDS)
def test_calibrated_to_the_reported_losses(seed: int) -> None:
    r = run(seed, n_traders=1000)
    debt = initial_debt(seed, 1000)
    assert 8e7 < debt < 1.2e8  # vault debt of the order of Maker's ~$100M
    assert 0.03 < r.summary["bad_debt_usd"] / debt < 0.08  # Maker: 4-6.65M DAI on ~$100M+
    zero, comp = kinds(r, "zero_bid"), kinds(r, "auction")
    assert 0.2 < len(zero) / (len(zero) + len(comp)) < 0.55  # Maker: 36%
    eth_usd = float((zero["amount"].to_numpy()
                     * r.series.loc[zero["step"], "price_ETH"].to_numpy()).sum())
    assert 4e6 < eth_usd < 1.3e7  # Maker: $8.32M of ETH went for zero bids


def test_the_surplus_buffer_then_the_mkr_debt_auction_pay_the_loss() -> None:
    r = run(1)
    draws = kinds(r, "fund_draw")
    assert len(draws) > 0 and (draws["agent"] == "MKR-DebtAuction").all()
    paid = float(draws["value_usd"].sum())
    assert paid < r.summary["bad_debt_usd"]  # the surplus (and penalties) took the first part
    assert r.summary["socialised_usd"] == 0.0 and r.summary["defaults"] == 0


def test_auctions_return_the_leftover_collateral_and_zero_bids_take_it_all() -> None:
    m = ContagionModel(get_scenario("black_thursday", n_traders=N), seed=2)
    m.run()
    ev, book = m.events_frame, m.lending[0].book
    row_of = {int(o): i for i, o in enumerate(book.owner)}
    for kind, has_left in (("auction", True), ("zero_bid", False)):
        rows = [row_of[int(a)] for a in ev.loc[ev["kind"] == kind, "account"]]
        assert np.all(book.debt[rows] == 0.0)
        left = book.collateral[rows, 0]
        assert bool(np.all(left > 0)) is has_left and (has_left or np.all(left == 0))


def test_the_preset_conserves_every_asset_and_is_reproducible() -> None:
    sc = override(get_scenario("black_thursday", n_traders=300), "market.record_network_every", 0)
    a = simulate(sc, seed=5, check_conservation=True)
    b = simulate(sc, seed=5)
    assert a.summary["bad_debt_usd"] == b.summary["bad_debt_usd"]
    assert a.events["kind"].tolist() == b.events["kind"].tolist()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"gas_spike_multiplier": 0.5}, r"'gas_spike_multiplier' = 0.5.*1 <= x <= 1,000"),
    ({"keeper_bidders": 0}, r"'keeper_bidders' = 0.*1 <= x <= 1,000"),
    ({"oracle_delay_steps": -1}, r"'oracle_delay_steps' = -1.*0 <= x"),
    ({"shock_frac": 1.0}, r"'shock_frac' = 1.0.*0 <= x < 1"),
    ({"surplus_buffer_usd": -1.0}, r"'surplus_buffer_usd' = -1.0.*0 <= x"),
])
def test_bad_knobs_are_rejected_with_their_range(kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        get_scenario("black_thursday", **kwargs)


def test_registered_with_a_form_field_for_every_knob() -> None:
    assert "black_thursday" in SCENARIOS
    knobs = set(scenario_parameters("black_thursday")) - {"steps"}
    assert {f.key for f, _ in fields_for("black_thursday")} == knobs
    sc = get_scenario("black_thursday")
    assert sc.market.steps * sc.market.step_minutes == 36 * 60
    assert sc.lending[0].liquidation_mode == "auction"
