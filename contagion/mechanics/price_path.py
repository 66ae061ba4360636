"""Exogenous price paths: a stylised crash and geometric Brownian motion with jumps.

Pure functions of their parameters and a passed-in :class:`numpy.random.Generator`; the
same generator state gives the same path.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from contagion.validation import check_int, check_real

__all__ = ["PATH_RANGE", "crash_path", "gbm_jump_path"]

#: A path stays within ``PATH_RANGE`` times and ``1 / PATH_RANGE`` of its initial price:
#: beyond that it is flat. Forty orders of magnitude in all, so no crash path (the deepest
#: falls to ``1 - shock_frac >= 1.1e-16`` of its start) and no ordinary random path gets
#: there; a GBM path at the edges of its parameters' ranges (drift and jumps of -1 a step)
#: would otherwise underflow to a price of 0 within a few hundred steps, or overflow to inf.
PATH_RANGE = 1e20
_LOG_RANGE = float(np.log(PATH_RANGE))


def _exp_bounded(log_p: NDArray[np.float64], log_p0: float) -> NDArray[np.float64]:
    """``exp(log_p)``, the log-price first held within ``PATH_RANGE`` of ``log_p0``."""
    np.clip(log_p, log_p0 - _LOG_RANGE, log_p0 + _LOG_RANGE, out=log_p)
    return np.exp(log_p)


def crash_path(
    initial_price: float,
    steps: int,
    *,
    shock_frac: float,
    start_step: int,
    duration_steps: int,
    vol_per_step: float = 0.0,
    rng: np.random.Generator | None = None,
) -> NDArray[np.float64]:
    """A price that falls by ``shock_frac`` linearly in log over ``duration_steps``.

    Returns ``steps + 1`` prices (index 0 is the initial price). Noise, if any, is GBM
    with ``vol_per_step`` around the deterministic crash.

    Notes
    -----
    ``log p_t = log p_0 + log(1 - shock) * clip((t - start) / duration, 0, 1) + sigma W_t``,
    held within :data:`PATH_RANGE` of ``p_0`` (either way).

    Examples
    --------
    >>> p = crash_path(100.0, 4, shock_frac=0.5, start_step=1, duration_steps=2)
    >>> [round(float(x), 2) for x in p]
    [100.0, 100.0, 70.71, 50.0, 50.0]
    """
    check_real("initial_price", initial_price, low=0, low_open=True)
    check_int("steps", steps, low=0)
    check_real("shock_frac", shock_frac, low=0, high=1, high_open=True)
    check_int("start_step", start_step, low=0)
    check_int("duration_steps", duration_steps, low=1)
    check_real("vol_per_step", vol_per_step, low=0)
    t = np.arange(steps + 1, dtype=np.float64)
    progress = np.clip((t - start_step) / duration_steps, 0.0, 1.0)
    log_p = np.log(initial_price) + np.log1p(-shock_frac) * progress
    if vol_per_step > 0:
        if rng is None:
            raise ValueError("rng is required when vol_per_step > 0")
        shocks = rng.normal(0.0, vol_per_step, size=steps)
        log_p[1:] += np.cumsum(shocks - 0.5 * vol_per_step**2)
    return _exp_bounded(log_p, float(np.log(initial_price)))


def gbm_jump_path(
    initial_price: float,
    steps: int,
    *,
    vol_per_step: float,
    drift_per_step: float = 0.0,
    jump_rate_per_step: float = 0.0,
    jump_mean: float = -0.05,
    jump_std: float = 0.03,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Merton jump-diffusion: GBM plus compound-Poisson log-normal jumps.

    Notes
    -----
    ``log p_{t+1} = log p_t + (mu - sigma^2/2) + sigma Z + sum_{k=1}^{N} J_k`` with
    ``N ~ Poisson(lambda)`` and ``J_k ~ Normal(jump_mean, jump_std)``; ``p_t`` is held
    within :data:`PATH_RANGE` of ``p_0`` (either way), so it never underflows to 0 or
    overflows to inf.

    References
    ----------
    Merton, R. C. (1976). Option pricing when underlying stock returns are discontinuous.
    Journal of Financial Economics 3, 125-144.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = gbm_jump_path(100.0, 3, vol_per_step=0.01, rng=rng)
    >>> len(p), round(float(p[0]), 6)
    (4, 100.0)
    """
    check_real("initial_price", initial_price, low=0, low_open=True)
    check_int("steps", steps, low=0)
    check_real("vol_per_step", vol_per_step, low=0)
    check_real("jump_rate_per_step", jump_rate_per_step, low=0)
    check_real("jump_std", jump_std, low=0)
    diffusion = (drift_per_step - 0.5 * vol_per_step**2) + vol_per_step * rng.normal(size=steps)
    n_jumps = rng.poisson(jump_rate_per_step, size=steps)
    jumps = n_jumps * jump_mean + np.sqrt(n_jumps) * jump_std * rng.normal(size=steps)
    log_p = np.concatenate([[np.log(initial_price)], np.log(initial_price) + np.cumsum(diffusion + jumps)])
    return _exp_bounded(log_p, float(np.log(initial_price)))
