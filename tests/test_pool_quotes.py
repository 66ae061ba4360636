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
