"""Price paths at the edges of their parameters' ranges (issue 11)."""

from __future__ import annotations

import numpy as np
import pytest

from contagion.mechanics.price_path import PATH_RANGE, crash_path, gbm_jump_path


@pytest.mark.parametrize("sign", [-1.0, 1.0])
def test_a_gbm_path_at_the_edges_stays_finite_and_positive(sign: float) -> None:
    # drift and jumps of +-1.1 a step: exp() would leave the floats within ~650 steps
    p = gbm_jump_path(2000.0, 5000, vol_per_step=0.5, drift_per_step=0.1 * sign,
                      jump_rate_per_step=1.0, jump_mean=1.0 * sign, jump_std=1.0,
                      rng=np.random.default_rng(0))
    assert np.isfinite(p).all() and (p > 0).all()
    assert p.min() >= 2000.0 / PATH_RANGE * (1 - 1e-12)
    assert p.max() <= 2000.0 * PATH_RANGE * (1 + 1e-12)
    assert p[-1] == pytest.approx(2000.0 * PATH_RANGE ** sign)


def test_the_bound_leaves_ordinary_paths_bit_identical() -> None:
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    p = gbm_jump_path(2000.0, 500, vol_per_step=0.01, jump_rate_per_step=0.05, rng=rng_a)
    sigma_z = 0.01 * rng_b.normal(size=500)
    n = rng_b.poisson(0.05, size=500)
    jumps = n * -0.05 + np.sqrt(n) * 0.03 * rng_b.normal(size=500)
    raw = np.exp(np.concatenate([[np.log(2000.0)],
                                 np.log(2000.0) + np.cumsum(-0.5 * 0.01**2 + sigma_z + jumps)]))
    assert np.array_equal(p, raw)


def test_the_deepest_crash_is_not_cut_by_the_bound() -> None:
    shock = np.nextafter(1.0, 0.0)  # the largest shock_frac allowed
    p = crash_path(2000.0, 3, shock_frac=shock, start_step=1, duration_steps=1)
    assert p[-1] == pytest.approx(2000.0 * (1 - shock), rel=1e-9)
    assert p[-1] > 0
