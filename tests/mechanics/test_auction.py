"""Tests of the collateral-auction mechanics (Maker "flip", stylised) and its parameters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.mechanics.auction import (
    bidders_per_lot,
    clear_auctions,
    gas_multiplier,
    keeper_gas_tolerances,
)
from contagion.params import CollateralParams, LendingParams, LiquidatorParams

MAKER_PENALTY = 0.13  # ETH-A liquidation penalty in March 2020


# ---------------------------------------------------------------------- gas and keepers
def test_gas_multiplier_is_the_spike_inside_its_window_and_one_outside() -> None:
    path = [gas_multiplier(t, spike_multiplier=6.0, start_step=56, duration_steps=32)
            for t in (0, 55, 56, 87, 88, 200)]
    assert path == [1.0, 1.0, 6.0, 6.0, 1.0, 1.0]
    assert gas_multiplier(60, spike_multiplier=6.0, start_step=56, duration_steps=0) == 1.0


def test_gas_multiplier_rejects_a_multiplier_below_one() -> None:
    with pytest.raises(ParameterError, match=r"'spike_multiplier' = 0.5.*1 <= x <= 1,000"):
        gas_multiplier(1, spike_multiplier=0.5, start_step=0, duration_steps=1)


def test_keeper_tolerances_are_spread_evenly_up_to_the_most_adaptive_keeper() -> None:
    tol = keeper_gas_tolerances(4, 7.0)
    assert tol.tolist() == [2.5, 4.0, 5.5, 7.0]
    assert keeper_gas_tolerances(1, 3.0).tolist() == [3.0]
    assert np.all(np.diff(keeper_gas_tolerances(10, 9.0)) > 0)


def test_keeper_tolerances_need_at_least_one_keeper() -> None:
    with pytest.raises(ParameterError, match=r"'bidders' = 0.*1 <= x <= 1,000"):
        keeper_gas_tolerances(0, 7.0)


def test_a_six_fold_gas_spike_leaves_one_of_four_keepers() -> None:
    tol = keeper_gas_tolerances(4, 7.0)
    lots = np.array([5e5, 1e6])
    kw = {"tolerances": tol, "gas_cost_usd": 5.0, "discount_frac": 0.03, "capacity": 50}
    assert bidders_per_lot(lots, gas_multiple=1.0, **kw).tolist() == [4, 4]
    assert bidders_per_lot(lots, gas_multiple=3.0, **kw).tolist() == [3, 3]
    assert bidders_per_lot(lots, gas_multiple=6.0, **kw).tolist() == [1, 1]
    assert bidders_per_lot(lots, gas_multiple=8.0, **kw).tolist() == [0, 0]  # all wait


def test_lots_too_small_to_pay_for_gas_draw_no_bidder() -> None:
    # at 6x a bid costs $30: a 3% margin needs a lot worth at least $1,000
    got = bidders_per_lot([999.0, 1000.0, 1e5], tolerances=[7.0], gas_multiple=6.0,
                          gas_cost_usd=5.0, discount_frac=0.03, capacity=10)
    assert got.tolist() == [0, 1, 1]


def test_keepers_bid_on_the_most_valuable_lots_within_their_capacity() -> None:
    got = bidders_per_lot([3e5, 9e5, 1e5, 6e5], tolerances=[2.0, 3.0], gas_multiple=1.0,
                          gas_cost_usd=5.0, discount_frac=0.03, capacity=2)
    assert got.tolist() == [0, 2, 0, 2]
    assert bidders_per_lot([1e6], tolerances=[2.0], gas_multiple=1.0, gas_cost_usd=5.0,
                           discount_frac=0.03, capacity=0).tolist() == [0]


def test_bidders_per_lot_rejects_a_discount_of_one() -> None:
    with pytest.raises(ParameterError, match=r"'discount_frac' = 1.0.*0 <= x < 1"):
        bidders_per_lot([1e5], tolerances=[2.0], gas_multiple=1.0, gas_cost_usd=5.0,
                        discount_frac=1.0, capacity=1)


# ---------------------------------------------------------------------- clearing
def test_competition_reaches_the_tab_and_dent_returns_collateral_to_the_owner() -> None:
    # a 50-ETH lot (Maker's `lump`) at $130 against $4,000 of debt: tab $4,520
    c = clear_auctions([50.0], [6500.0], [4000.0], [3], penalty_frac=MAKER_PENALTY)
    assert c.sold.tolist() == [True]
    assert c.bid_usd[0] == pytest.approx(4520.0)
    assert c.units_to_winner[0] == pytest.approx(50 * 4520.0 / (0.97 * 6500.0))
    assert c.units_to_owner[0] == pytest.approx(50.0 - c.units_to_winner[0])
    assert c.penalty_usd[0] == pytest.approx(520.0) and c.bad_debt_usd[0] == 0.0


def test_competitive_bid_below_the_debt_leaves_the_difference_as_bad_debt() -> None:
    c = clear_auctions([50.0], [4000.0], [4500.0], [2], penalty_frac=MAKER_PENALTY,
                       discount_frac=0.03)
    assert c.bid_usd[0] == pytest.approx(3880.0)
    assert c.units_to_winner[0] == 50.0 and c.units_to_owner[0] == 0.0
    assert c.bad_debt_usd[0] == pytest.approx(620.0) and c.penalty_usd[0] == 0.0


def test_a_lone_bidder_wins_the_whole_lot_for_zero_and_the_debt_is_lost() -> None:
    # Black Thursday: 36% of auctions won with 0-DAI bids (WhiteRabbit)
    c = clear_auctions([50.0], [6500.0], [4000.0], [1], penalty_frac=MAKER_PENALTY)
    assert c.bid_usd[0] == 0.0
    assert c.units_to_winner[0] == 50.0 and c.units_to_owner[0] == 0.0
    assert c.bad_debt_usd[0] == 4000.0


def test_a_lone_bidder_bids_his_fraction_of_the_value() -> None:
    c = clear_auctions([50.0], [6500.0], [4000.0], [1], lone_bid_frac=0.5)
    assert c.bid_usd[0] == pytest.approx(3250.0)
    assert c.bad_debt_usd[0] == pytest.approx(750.0)


def test_a_lot_without_bidders_waits_and_nothing_moves() -> None:
    c = clear_auctions([50.0, 10.0], [6500.0, 1300.0], [4000.0, 800.0], [0, 0])
    assert not c.sold.any()
    for arr in (c.bid_usd, c.units_to_winner, c.units_to_owner, c.bad_debt_usd, c.penalty_usd):
        assert arr.tolist() == [0.0, 0.0]


def test_clear_auctions_needs_arrays_of_one_shape() -> None:
    with pytest.raises(ParameterError, match="of one shape"):
        clear_auctions([1.0, 2.0], [10.0], [5.0], [2])


def test_clear_auctions_needs_whole_numbers_of_bidders() -> None:
    with pytest.raises(ParameterError, match="whole numbers of keepers"):
        clear_auctions([1.0], [10.0], [5.0], [1.5])


def test_clear_auctions_rejects_a_negative_lot() -> None:
    with pytest.raises(ParameterError, match=r"'lot_units' = -1.0"):
        clear_auctions([-1.0], [10.0], [5.0], [2])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e4), st.floats(0, 1e7), st.floats(0, 1e7),
                          st.integers(0, 5)), min_size=1, max_size=20),
       st.floats(0, 1), st.floats(0, 0.99), st.floats(0, 0.99))
def test_clearing_conserves_collateral_and_splits_the_debt(
        lots: list[tuple[float, float, float, int]], penalty: float, discount: float,
        lone: float) -> None:
    units, value, debt, n = (np.array(x) for x in zip(*lots, strict=True))
    c = clear_auctions(units, value, debt, n, penalty_frac=penalty, discount_frac=discount,
                       lone_bid_frac=lone)
    sold = c.sold
    assert np.array_equal(sold, n >= 1)
    np.testing.assert_allclose(c.units_to_winner + c.units_to_owner, np.where(sold, units, 0.0),
                               rtol=1e-12, atol=1e-9)
    assert np.all(c.units_to_winner >= 0) and np.all(c.units_to_owner >= -1e-9)
    assert np.all(c.bid_usd <= debt * (1 + penalty) + 1e-6)  # never more than the tab
    # the bid repays the debt first: shortfall + bid - penalty = debt on every sold lot
    np.testing.assert_allclose(np.where(sold, c.bad_debt_usd + c.bid_usd - c.penalty_usd, 0),
                               np.where(sold, debt, 0), rtol=1e-9, atol=1e-6)
    assert np.all(np.minimum(c.bad_debt_usd, c.penalty_usd) == 0)


# ---------------------------------------------------------------------- parameters
def _eth(**kw: float) -> CollateralParams:
    return CollateralParams(asset="ETH", oracle="ETH-feed", ltv=0.6, liquidation_threshold=2 / 3,
                            liquidation_bonus=0.13, **kw)


def test_auction_mode_takes_exactly_one_collateral_asset() -> None:
    btc = CollateralParams(asset="BTC", oracle="BTC-feed", ltv=0.6, liquidation_threshold=0.7,
                           liquidation_bonus=0.1)
    with pytest.raises(ParameterError, match=r"'lending\[Maker\].collateral'.*exactly one asset"):
        LendingParams(name="Maker", collateral=(_eth(), btc), liquidation_mode="auction")
    assert LendingParams(name="Aave", collateral=(_eth(), btc)).liquidation_mode == "fixed_bonus"


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"liquidation_mode": "dutch"}, r"'lending\[Maker\].liquidation_mode'.*'fixed_bonus'"),
    ({"auction_penalty_frac": 1.5}, r"auction_penalty_frac' = 1.5.*0 <= x <= 1"),
    ({"auction_discount_frac": 1.0}, r"auction_discount_frac' = 1.0.*0 <= x < 1"),
    ({"auction_lone_bid_frac": -0.1}, r"auction_lone_bid_frac' = -0.1.*0 <= x < 1"),
])
def test_bad_auction_parameters_name_their_range(kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        LendingParams(name="Maker", collateral=(_eth(),), **kwargs)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"gas_spike_multiplier": 0.5}, r"'liquidators\[K\].gas_spike_multiplier' = 0.5"),
    ({"gas_spike_duration_steps": -1}, r"gas_spike_duration_steps' = -1.*0 <= x"),
    ({"bidders": 0}, r"'liquidators\[K\].bidders' = 0.*1 <= x <= 1,000"),
    ({"bidder_max_gas_multiple": 0.9}, r"bidder_max_gas_multiple' = 0.9"),
])
def test_bad_keeper_parameters_name_their_range(kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        LiquidatorParams(name="K", **kwargs)
