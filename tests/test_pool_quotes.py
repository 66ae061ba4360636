"""A pool's quotes skip swap_out's argument checks when the inputs are plainly valid
(issue 14): the numbers must be swap_out's bit for bit, and bad inputs must still raise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.agents.pool import _swap_out
from contagion.errors import ParameterError
from contagion.mechanics.amm import swap_out

_reserve = st.floats(1e-9, 1e15)
_fee = st.sampled_from([0.0, 0.003, 0.01]) | st.floats(0.0, 0.999)
_amount = st.floats(0.0, 1e16)


@settings(max_examples=300, deadline=None)
@given(_amount, st.lists(_amount, min_size=1, max_size=9), _reserve, _reserve, _fee)
def test_quotes_are_swap_outs_bit_for_bit(a: float, many: list[float], x: float, y: float,
                                          fee: float) -> None:
    assert float(_swap_out(a, x, y, fee)) == float(swap_out(a, x, y, fee))
    arr = np.array(many)
    assert _swap_out(arr, x, y, fee).tobytes() == np.asarray(swap_out(arr, x, y, fee)).tobytes()


@pytest.mark.parametrize("amount", [-1.0, float("nan"), float("inf"), np.array([1.0, -2.0])])
def test_bad_amounts_still_raise(amount: object) -> None:
    with pytest.raises(ParameterError):
        _swap_out(amount, 1.0, 1.0, 0.003)


@settings(max_examples=500, deadline=None)
@given(_reserve, _reserve, st.floats(1e-6, 1e9), st.floats(1e-3, 1e15) | st.just(float("inf")),
       _fee, st.floats(0.0, 1e12) | st.just(float("inf")))
def test_no_arbitrage_inside_the_fee_band(x: float, y: float, price: float, depth: float,
                                          fee: float, cap: float) -> None:
    from contagion.agents.pool import _in_fee_band
    from contagion.mechanics.amm import arbitrage_with_impact

    if _in_fee_band(x, y, price, depth, fee, cap):  # the call it spares finds no trade
        assert arbitrage_with_impact(x, y, price, depth, fee, cap) == (0.0, 0.0)
    # and the band is found at all: a pool at the external price, with a fee, is in it
    if x * price < 1e300:
        assert _in_fee_band(x, x * price, price, 1e9, max(fee, 1e-3), cap)
