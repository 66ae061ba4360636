"""Tests of auto-deleveraging ranking and allocation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from contagion.errors import ParameterError
from contagion.mechanics.adl import (
    adl_pnl_frac,
    adl_queue_order,
    adl_ranking,
    allocate_adl,
    effective_leverage,
    hyperliquid_sorting_index,
)


def test_effective_leverage_is_infinite_at_bankruptcy() -> None:
    lev = effective_leverage([1_000.0, -1_000.0, 1_000.0], [800.0, -1_250.0, 1_000.0])
    assert lev.tolist() == [5.0, 4.0, math.inf]


def test_ranking_multiplies_profits_and_divides_losses_by_leverage() -> None:
    assert adl_ranking([0.2, -0.2, 0.0], [4.0, 4.0, 4.0]).tolist() == [0.8, -0.05, 0.0]
    assert adl_ranking(0.1, math.inf) == math.inf
    assert adl_ranking([0.0, -0.1], math.inf).tolist() == [0.0, 0.0]
    with pytest.raises(ParameterError, match=r"'effective_leverage'.*0 < x"):
        adl_ranking(0.1, 0.0)


def test_pnl_frac_is_relative_to_absolute_entry_value() -> None:
    assert adl_pnl_frac([-900.0], [-1_000.0]).tolist() == [0.1]
    with pytest.raises(ParameterError, match="'avg_entry_value'"):
        adl_pnl_frac(1.0, 0.0)


def test_hyperliquid_sorting_index_requires_positive_account_value() -> None:
    assert hyperliquid_sorting_index(2.0, 1.0, 10.0, 5.0) == 4.0
    with pytest.raises(ParameterError, match=r"'account_value'.*0 < x"):
        hyperliquid_sorting_index(2.0, 1.0, 10.0, [5.0, 0.0])


def test_queue_order_is_highest_first_with_ties_by_index() -> None:
    assert adl_queue_order([1.0, 3.0, 3.0, -math.inf, math.inf]).tolist() == [4, 1, 2, 0, 3]
    with pytest.raises(ParameterError, match="'ranking'"):
        adl_queue_order([[1.0, 2.0]])
    with pytest.raises(ParameterError, match="'ranking'"):
        adl_queue_order([math.nan])


def test_bitmex_example_closes_accounts_two_and_five() -> None:
    qty = [10, 10, 20, 30, 20, 10]
    rank = [3, 6, 1, 4, 5, 2]
    assert (adl_queue_order(rank) + 1).tolist() == [2, 5, 4, 1, 6, 3]
    assert allocate_adl(qty, rank, 20).tolist() == [0, 10, 0, 0, 10, 0]


def test_allocate_rejects_bad_inputs() -> None:
    with pytest.raises(ParameterError, match="'quantity'"):
        allocate_adl([-1.0], [1.0], 1.0)
    with pytest.raises(ParameterError, match="'amount_to_close'"):
        allocate_adl([1.0], [1.0], -1.0)
    with pytest.raises(ParameterError, match=r"'ranking'.*shape"):
        allocate_adl([1.0, 2.0], [1.0], 1.0)


quantities = hnp.arrays(np.float64, st.integers(1, 40),
                        elements=st.integers(0, 1_000).map(float))


@settings(max_examples=200, deadline=None)
@given(quantities, st.data(), st.integers(0, 50_000).map(float))
def test_allocation_fills_greedily_down_the_queue(
    qty: np.ndarray, data: st.DataObject, amount: float,
) -> None:
    rank = data.draw(hnp.arrays(np.float64, qty.shape, elements=st.integers(-5, 5).map(float)))
    closed = allocate_adl(qty, rank, amount)
    assert closed.shape == qty.shape
    assert np.all(closed >= 0) and np.all(closed <= qty)
    assert closed.sum() == min(amount, qty.sum())  # integer-valued floats: exact
    order = adl_queue_order(rank)
    queued_closed, queued_qty = closed[order], qty[order]
    touched = np.nonzero(queued_closed > 0)[0]
    if touched.size:  # everyone ahead of the last account touched is closed in full
        last = touched[-1]
        assert np.array_equal(queued_closed[:last], queued_qty[:last])
