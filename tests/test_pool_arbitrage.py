"""Regression: pool arbitrage must not overshoot when the pool is deep against its market.

A pool holding 5x its asset's external depth per side, after a small dislocation of the
external price. Arbitrage that ignores the impact of its own external leg moves the pool to
the pre-trade price, then its unwind pushes the external price past it: the gap flips sign
every step and does not decay. Arbitrage that stops where the pool meets the post-impact
price (:func:`contagion.mechanics.amm.arbitrage_with_impact`) closes the gap monotonically.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import contagion.agents.pool as pool_module
from contagion.mechanics.amm import arbitrage_with_impact
from contagion.model import ContagionModel
from contagion.params import (
    AssetParams,
    LiquidityShockParams,
    MarketParams,
    PoolParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario

DEPTH_USD = 1e6
PRICE_USD = 100.0
FEE_FRAC = 0.003
DISLOCATION_FRAC = 0.02  # the external price drops 2% at step 1; the pool does not
STEPS = 20


def _scenario(*, pool_to_depth: float = 5.0, arb_capacity_usd: float = 2e5,
              depth_drop_frac: float = 0.0) -> Scenario:
    shocks = (LiquidityShockParams(assets=("X",), start_step=1, duration_steps=STEPS,
                                   depth_drop_frac=depth_drop_frac),) if depth_drop_frac else ()
    return Scenario(
        name="deep pool", market=MarketParams(steps=STEPS),
        assets=(AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
                AssetParams(name="X", kind="volatile", initial_price_usd=PRICE_USD,
                            external_depth_usd=DEPTH_USD)),
        paths=(PricePathParams(asset="X", kind="crash", shock_frac=DISLOCATION_FRAC,
                               shock_start_step=0, shock_duration_steps=1, vol_per_step=0.0),),
        pools=(PoolParams(name="X/USDC", base="X", fee_frac=FEE_FRAC,
                          reserve_base=pool_to_depth * DEPTH_USD / PRICE_USD,
                          arb_capacity_usd_per_step=arb_capacity_usd),),
        liquidity_shocks=shocks, traders=TraderParams(n_traders=20))


def _gaps(scenario: Scenario) -> list[float]:
    """Pool spot over external price, minus 1: the dislocation, then after each step."""
    model = ContagionModel(scenario, seed=1, check_conservation=True)
    pool, x = model.pools["X/USDC"], model.market.index["X"]
    gaps = [1.0 / (1.0 - DISLOCATION_FRAC) - 1.0]
    for _ in range(STEPS):
        model.step()
        gaps.append(pool.spot / float(model.market.price[x]) - 1.0)
    return gaps


def _sign_changes(gaps: list[float]) -> int:
    s = np.sign(gaps)
    return int(np.sum(s[1:] * s[:-1] < 0))


def _closes_monotonically(gaps: list[float]) -> None:
    assert _sign_changes(gaps) == 0, gaps
    assert all(0.0 < g for g in gaps), gaps  # the pool stays dear: no crossing
    assert all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(gaps)), gaps
    # it ends just inside the fee band (nothing left worth arbitraging) and stays there
    band = 1.0 / (1.0 - FEE_FRAC) - 1.0
    assert 0.99 * band < gaps[-1] <= band
    assert gaps[-1] == gaps[-2]


def test_arbitrage_ignoring_its_own_impact_oscillates(monkeypatch: pytest.MonkeyPatch) -> None:
    def ignoring_impact(x: float, y: float, price: float, depth: float, fee: float,
                        cap: float) -> tuple[float, float]:
        return arbitrage_with_impact(x, y, price, math.inf, fee, cap)  # the old behaviour

    monkeypatch.setattr(pool_module, "arbitrage_with_impact", ignoring_impact)
    gaps = _gaps(_scenario())
    assert _sign_changes(gaps) >= STEPS - 2, gaps
    # the swing grows past the 2% dislocation and does not die out
    assert min(abs(g) for g in gaps[-6:]) > DISLOCATION_FRAC, gaps
    assert max(abs(g) for g in gaps) > 0.1, gaps


@pytest.mark.parametrize("arb_capacity_usd", [2e5, 2e3], ids=["capacity-slack", "capacity-binds"])
def test_gap_closes_monotonically_in_a_pool_five_times_the_depth(arb_capacity_usd: float) -> None:
    gaps = _gaps(_scenario(arb_capacity_usd=arb_capacity_usd))
    _closes_monotonically(gaps)
    if arb_capacity_usd < 1e4:  # several steps, each capped
        assert sum(g > gaps[-1] * (1 + 1e-6) for g in gaps) > 3


def test_gap_closes_monotonically_when_a_liquidity_shock_thins_the_market() -> None:
    # a pool of 1x the normal depth is 5x the depth left after an 80% depth drop
    _closes_monotonically(_gaps(_scenario(pool_to_depth=1.0, depth_drop_frac=0.8)))
