"""Order-book depth over time: a collapse of market depth and its recovery.

On 10 October 2025 market makers pulled their quotes: order-book depth fell by about 98%
while $19B of positions were liquidated into it. These pure functions give the multiplier
of an asset's normal depth at each step; the model applies it to the external market's
depth (price impact, perp liquidation slippage) and to pools' arbitrage capacity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from contagion.validation import check_int, check_real

if TYPE_CHECKING:
    from contagion.params import LiquidityShockParams

__all__ = ["depth_multiplier", "depth_multipliers"]


def depth_multiplier(
    step: ArrayLike,
    *,
    start_step: int,
    duration_steps: int,
    depth_drop_frac: float,
    recovery_steps: int = 0,
) -> NDArray[np.float64]:
    """The fraction of normal depth left at ``step`` (scalar or array of steps).

    Notes
    -----
    With start ``s``, duration ``D``, recovery ``R`` and drop ``d``, the multiplier is
    ``m(t) = 1 - d w(t)`` where ``w(t) = 1`` for ``s <= t < s + D`` (the collapse),
    ``w(t) = (s + D + R - t) / (R + 1)`` for ``s + D <= t < s + D + R`` (a linear
    recovery in ``R`` steps) and ``w(t) = 0`` otherwise. ``d < 1``, so depth never
    reaches zero.

    References
    ----------
    Followin, "10/11 crash review" (order-book depth down ~98%),
    https://followin.io/feed/22111099 (secondary).

    Examples
    --------
    >>> m = depth_multiplier(np.arange(8), start_step=2, duration_steps=2,
    ...                      depth_drop_frac=0.98, recovery_steps=3)
    >>> [round(float(x), 3) for x in m]
    [1.0, 1.0, 0.02, 0.02, 0.265, 0.51, 0.755, 1.0]
    """
    check_int("start_step", start_step, low=0)
    check_int("duration_steps", duration_steps, low=1)
    check_real("depth_drop_frac", depth_drop_frac, low=0, high=1, high_open=True)
    check_int("recovery_steps", recovery_steps, low=0)
    t = np.asarray(step, dtype=np.float64)
    end = start_step + duration_steps
    weight = np.where((t >= start_step) & (t < end), 1.0, 0.0)
    if recovery_steps > 0:
        ramp = (end + recovery_steps - t) / (recovery_steps + 1)
        weight = np.where((t >= end) & (t < end + recovery_steps), ramp, weight)
    return np.asarray(1.0 - depth_drop_frac * weight, dtype=np.float64)


def depth_multipliers(shocks: Sequence[LiquidityShockParams], assets: Sequence[str],
                      step: int) -> NDArray[np.float64]:
    """Per asset (in the order of ``assets``), the product of every shock's multiplier.

    Assets no shock names keep their full depth (multiplier 1); overlapping shocks on one
    asset compound.

    Examples
    --------
    >>> from contagion.params import LiquidityShockParams
    >>> shock = LiquidityShockParams(assets=("BTC",), start_step=1, duration_steps=2,
    ...                              depth_drop_frac=0.9)
    >>> depth_multipliers([shock], ["USDC", "BTC", "ETH"], 1).round(3).tolist()
    [1.0, 0.1, 1.0]
    """
    index = {a: i for i, a in enumerate(assets)}
    out = np.ones(len(assets))
    for s in shocks:
        m = float(depth_multiplier(step, start_step=s.start_step,
                                   duration_steps=s.duration_steps,
                                   depth_drop_frac=s.depth_drop_frac,
                                   recovery_steps=s.recovery_steps))
        for a in s.assets:
            out[index[a]] *= m
    return out
