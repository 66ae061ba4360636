"""The validation report's funding and Uniswap V3 lines (experiments/validation/market_checks.py)
agree at the small scale, and would show a miss: an engine that ignored the funding cap
fails the cap verdict."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.validation import market_checks
from experiments.validation.checks import SMALL


def test_funding_payments_are_dydx_rule_zero_sum_and_capped() -> None:
    check = market_checks._funding_check(SMALL)
    assert check.passed, check.residual_text
    assert [v.figure for v in check.verdicts][2] == 1.0  # the 0.2% cap binds, exactly
    assert "at the cap" in check.observed


def test_a_funding_rate_past_its_cap_is_a_miss(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("contagion.agents.perp.capped_funding_rate",
                        lambda rate, cap: np.asarray(rate))
    check = market_checks._funding_check(SMALL)
    assert not check.passed
    assert "above the band" in check.residual_text


def test_v3_pools_are_v2_at_full_range_and_cross_ticks_as_v3_core() -> None:
    check = market_checks._v3_check(SMALL)
    assert check.passed, check.residual_text
    assert "1 initialized tick(s) crossed" in check.observed


def test_the_hand_chain_is_one_swap_step_inside_a_range() -> None:
    from contagion.mechanics.uniswap_v3 import compute_swap_step, get_sqrt_ratio_at_tick

    pool = market_checks._v3_pool(SMALL)
    raw = 10**18  # 1 ETH: stays inside the concentrated range
    out, sqrt_p, _, liquidity, crossed, steps = market_checks._swap_by_hand(pool, raw)
    lower = min(t for t in pool.ticks if t <= pool.tick)
    one = compute_swap_step(pool.sqrt_price, get_sqrt_ratio_at_tick(lower), pool.liquidity,
                            raw, pool.fee_pips)
    assert (crossed, steps, liquidity) == (0, 1, pool.liquidity)
    assert (sqrt_p, out) == (one[0], one[2])
